// Lets one header declare a struct that both GLSL (push constants, std430 blocks) and C++ (the
// values recorded with vkCmdPushConstants) read, so the two can never disagree on a layout. Only
// 4-byte scalars (uint, int, float) go in these structs: their GLSL and C++ layouts then match.
#ifndef STRATA_PUSH_SHIM_H
#define STRATA_PUSH_SHIM_H

#ifdef __cplusplus
#include <cstdint>
namespace strata::gpu::shader {
using uint = uint32_t;
}
#define STRATA_STRUCT_BEGIN(Name) \
    namespace strata::gpu::shader { \
    struct Name {
// Push constants must fit the 128 bytes every Vulkan device guarantees.
#define STRATA_STRUCT_END(Name, bytes) \
    }; \
    static_assert(sizeof(Name) == (bytes), #Name " changed size: update its users"); \
    static_assert(sizeof(Name) <= 128, #Name " exceeds the guaranteed push-constant size"); \
    }
#else
#define STRATA_STRUCT_BEGIN(Name) struct Name {
#define STRATA_STRUCT_END(Name, bytes) };
#endif

#endif
