#pragma once
// Reads a document for a sub-command, telling an unreadable file (exit 3) from an invalid one
// (exit 1) on stderr.
#include <iostream>
#include <optional>
#include <string>

#include "app/commands.h"
#include "core/io/document.h"

namespace strata::app {

inline std::optional<Document> loadDocument(const std::string& file, int& exitCode) {
    auto text = readTextFile(file);
    if (!text) {
        std::cerr << "strata: " << text.message() << "\n";
        exitCode = kIoError;
        return std::nullopt;
    }
    auto doc = parseDocumentText(*text);
    if (!doc) {
        std::cerr << file << ": " << doc.message() << "\n";
        exitCode = kInvalid;
        return std::nullopt;
    }
    return std::move(*doc);
}

}  // namespace strata::app
