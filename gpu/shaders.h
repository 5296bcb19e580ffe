#pragma once
// The SPIR-V of every gpu/shaders/*.comp, compiled by glslc at build time and embedded in the
// library (see gpu/cmake/embed_spirv.cmake), looked up by the shader's file name without .comp.
#include <cstdint>
#include <span>
#include <string_view>

namespace strata::gpu {

struct EmbeddedShader {
    const char* name;  // "gemm_texel"
    const uint32_t* words;
    size_t wordCount;
};

std::span<const EmbeddedShader> embeddedShaders();

// The shader's words, or an empty span when no shader has that name.
inline std::span<const uint32_t> shaderWords(std::string_view name) {
    for (const auto& s : embeddedShaders()) {
        if (name == s.name) return {s.words, s.wordCount};
    }
    return {};
}

}  // namespace strata::gpu
