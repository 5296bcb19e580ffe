#include "core/io/migrations.h"

#include "core/io/document.h"

namespace strata::io {

namespace {

// Version 0, the pre-release prototype, named links "edges" with "source"/"target" ends.
void v0ToV1(nlohmann::json& doc) {
    if (!doc.is_object()) return;
    auto graph = doc.find("graph");
    if (graph == doc.end() || !graph->is_object()) return;
    auto edges = graph->find("edges");
    if (edges == graph->end() || graph->contains("links")) return;
    nlohmann::json links = std::move(*edges);
    graph->erase("edges");
    if (links.is_array()) {
        for (auto& e : links) {
            if (!e.is_object()) continue;
            for (auto [oldKey, newKey] : {std::pair{"source", "from"}, std::pair{"target", "to"}}) {
                auto it = e.find(oldKey);
                if (it == e.end() || e.contains(newKey)) continue;
                nlohmann::json v = std::move(*it);
                e.erase(oldKey);
                e[newKey] = std::move(v);
            }
        }
    }
    (*graph)["links"] = std::move(links);
}

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> table = {v0ToV1};
    static_assert(kFormatVersion == 1, "add the migration to the new version to this table");
    return table;
}

int oldestReadableVersion() {
    return kFormatVersion - static_cast<int>(migrations().size());
}

void migrate(nlohmann::json& doc, int fromVersion) {
    for (int v = fromVersion; v < kFormatVersion; ++v) {
        migrations()[static_cast<size_t>(v - oldestReadableVersion())](doc);
    }
    if (doc.is_object()) doc["version"] = kFormatVersion;
}

}  // namespace strata::io
