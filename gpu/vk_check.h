#pragma once
// Every VkResult is checked; a failure becomes a Result error whose sentence says what was being
// done and what Vulkan answered.
#include <vulkan/vulkan.h>

#include <string>

#include "core/util/result.h"

namespace strata::gpu {

const char* vkResultName(VkResult r);

inline Error vkFailure(const std::string& what, VkResult r) {
    return fail(what + " failed: Vulkan returned " + vkResultName(r) + ".");
}

}  // namespace strata::gpu

// Returns a Result error from the enclosing function when `expr` is not VK_SUCCESS.
#define STRATA_VK_TRY(expr, what)                                          \
    do {                                                                   \
        const VkResult strataVkResult_ = (expr);                           \
        if (strataVkResult_ != VK_SUCCESS) {                               \
            return ::strata::gpu::vkFailure((what), strataVkResult_);      \
        }                                                                  \
    } while (0)

// Propagates the error of a Result<void> or Result<T> expression.
#define STRATA_TRY(expr)                                   \
    do {                                                   \
        auto strataTry_ = (expr);                          \
        if (!strataTry_.ok()) return strataTry_.error();   \
    } while (0)
