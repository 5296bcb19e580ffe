#include "core/data/open_dataset.h"

#include <cctype>
#include <map>
#include <mutex>

#include "core/data/annotated_dataset.h"
#include "core/data/builtin.h"
#include "core/data/cifar_reader.h"
#include "core/data/csv_reader.h"
#include "core/data/data_util.h"
#include "core/data/idx_reader.h"
#include "core/data/text_reader.h"

namespace strata {

namespace fs = std::filesystem;

namespace {

std::mutex g_formatsMutex;
std::map<std::string, DatasetOpener>& registeredFormats() {
    static std::map<std::string, DatasetOpener> formats;
    return formats;
}

template <class T>
Result<std::shared_ptr<Dataset>> widen(Result<std::shared_ptr<T>> r) {
    if (!r) return r.error();
    return std::shared_ptr<Dataset>(std::move(r).value());
}

std::string inferFormat(const std::string& source) {
    if (source.rfind("builtin:", 0) == 0) return "builtin";
    std::string lower = source;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.ends_with(".gz")) lower.resize(lower.size() - 3);
    if (lower.ends_with(".csv") || lower.ends_with(".tsv")) return "csv";
    if (lower.ends_with(".txt")) return "text";
    if (lower.ends_with(".bin")) return "cifar10";
    if (lower.find("idx") != std::string::npos || lower.ends_with("ubyte")) return "idx";
    return "";
}

fs::path resolve(const std::string& source, const fs::path& documentDir) {
    fs::path p(source);
    if (p.is_relative() && !documentDir.empty()) p = documentDir / p;
    return p.lexically_normal();
}

Result<fs::path> existing(const std::string& source, const fs::path& documentDir) {
    fs::path p = resolve(source, documentDir);
    std::error_code ec;
    if (!fs::exists(p, ec)) {
        return fail("the dataset file " + p.string() + " does not exist" +
                    (fs::path(source).is_relative()
                         ? " (the source \"" + source + "\" is read relative to the document's "
                           "folder); check the path in the dataset settings"
                         : std::string("; check the path in the dataset settings")));
    }
    return p;
}

Result<std::shared_ptr<Dataset>> openIdx(const fs::path& source, const nlohmann::json& options,
                                         const fs::path& documentDir) {
    data::Options opt(options);
    fs::path images = source;
    std::error_code ec;
    if (fs::is_directory(source, ec)) {
        auto split = opt.string({"split"}, "train");
        if (!split) return split.error();
        if (*split != "train" && *split != "test") {
            return fail("option 'split' must be \"train\" or \"test\", not \"" + *split + "\"");
        }
        const std::string stem = *split == "train" ? "train" : "t10k";
        images.clear();
        for (const char* sep : {"-images-idx3-ubyte", "-images.idx3-ubyte"}) {
            for (const char* ext : {"", ".gz"}) {
                fs::path p = source / (stem + sep + ext);
                if (images.empty() && fs::is_regular_file(p, ec)) images = p;
            }
        }
        if (images.empty()) {
            return fail(source.string() + ": holds no " + stem +
                        "-images-idx3-ubyte[.gz] file; point the dataset at the images file");
        }
    }
    fs::path labels;
    if (opt.has({"labels", "labels_file"})) {
        auto l = opt.string({"labels", "labels_file"}, "");
        if (!l) return l.error();
        auto p = existing(*l, documentDir);
        if (!p) return p.error();
        labels = *p;
    } else {
        labels = idxLabelsBeside(images);
        if (labels.empty() || !fs::is_regular_file(labels, ec)) {
            return fail("no labels file found for " + images.string() +
                        (labels.empty() ? std::string()
                                        : " (expected " + labels.filename().string() + ")") +
                        "; name it with the option \"labels\"");
        }
    }
    return widen(readIdx(images, labels));
}

Result<std::shared_ptr<Dataset>> openCifar(const fs::path& source, const nlohmann::json& options) {
    std::error_code ec;
    if (fs::is_directory(source, ec)) {
        auto split = data::Options(options).string({"split"}, "train");
        if (!split) return split.error();
        auto batches = cifar10Batches(source, *split);
        if (!batches) return batches.error();
        return widen(readCifar10(*batches));
    }
    return widen(readCifar10({source}));
}

}  // namespace

void registerDatasetFormat(const std::string& format, DatasetOpener opener) {
    std::lock_guard lock(g_formatsMutex);
    registeredFormats()[format] = std::move(opener);
}

Result<std::shared_ptr<Dataset>> openDatasetSource(const std::string& source,
                                                   const std::string& formatIn,
                                                   const nlohmann::json& options,
                                                   const fs::path& documentDir) {
    if (auto ok = data::Options(options).checkObject(); !ok) return ok.error();
    if (source.empty()) return fail("the dataset has no source; choose a file or a built-in set");
    const std::string format = formatIn.empty() ? inferFormat(source) : formatIn;
    if (format == "builtin") {
        const std::string name =
            source.rfind("builtin:", 0) == 0 ? source.substr(8) : source;
        return widen(openBuiltin(name, options, documentDir));
    }
    if (source.rfind("builtin:", 0) == 0) {
        return fail("the source \"" + source + "\" is a built-in set but the format is \"" +
                    format + "\"; set the format to \"builtin\"");
    }
    if (format.empty()) {
        return fail("cannot tell the format of \"" + source +
                    "\"; set the dataset format to idx, cifar10, csv, image_folder or text");
    }
    {
        std::lock_guard lock(g_formatsMutex);
        auto it = registeredFormats().find(format);
        if (it != registeredFormats().end()) {
            auto p = existing(source, documentDir);
            if (!p) return p.error();
            DatasetOpener opener = it->second;
            return opener(*p, options);
        }
    }
    if (format != "idx" && format != "cifar10" && format != "csv" && format != "text") {
        if (format == "image_folder") {
            return fail("image folders are read by the Strata studio (it decodes the images); "
                        "this program cannot read them");
        }
        return fail("unknown dataset format \"" + format +
                    "\"; the formats are builtin, idx, cifar10, csv, image_folder and text");
    }
    auto p = existing(source, documentDir);
    if (!p) return p.error();
    if (format == "idx") return openIdx(*p, options, documentDir);
    if (format == "cifar10") return openCifar(*p, options);
    if (format == "csv") return widen(readCsv(*p, options));
    return widen(readText(*p, options));
}

Result<std::shared_ptr<Dataset>> openDataset(const DatasetBinding& binding,
                                             const fs::path& documentDir) {
    return openDatasetSource(binding.source, binding.format, binding.options, documentDir);
}

Preprocessing datasetPreprocessing(const Dataset& dataset) {
    Preprocessing p;
    p.classNames = dataset.classNames();
    p.vocabulary = datasetVocabulary(dataset);
    return p;
}

}  // namespace strata
