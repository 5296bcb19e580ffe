#include "core/data/builtin.h"

#include "core/data/data_util.h"
#include "core/data/text_reader.h"

namespace strata {

std::vector<std::string> builtinNames() {
    return {"digits", "digits32", "shapes", "regression", "sine",
            "reverse", "sort", "copy", "tiny_corpus", "random"};
}

Result<std::shared_ptr<AnnotatedDataset>> openBuiltin(const std::string& name,
                                                      const nlohmann::json& options,
                                                      const std::filesystem::path& documentDir) {
    if (auto ok = data::Options(options).checkObject(); !ok) return ok.error();
    if (name == "digits") return builtin::digits(options, documentDir, 8);
    if (name == "digits32") return builtin::digits(options, documentDir, 32);
    if (name == "shapes") return builtin::shapes(options);
    if (name == "regression") return builtin::regression(options);
    if (name == "sine") return builtin::sine(options);
    if (name == "random") return builtin::random(options);
    if (name == "reverse" || name == "sort" || name == "copy") {
        return builtin::tokenTask(name, options);
    }
    if (name == "tiny_corpus") {
        auto path = data::findDataFile("tiny_corpus.txt", documentDir);
        if (!path) return path.error();
        return readText(*path, options);
    }
    std::string known;
    for (const auto& n : builtinNames()) known += (known.empty() ? "" : ", ") + n;
    return fail("there is no built-in dataset named \"" + name + "\"; the built-in sets are " +
                known);
}

}  // namespace strata
