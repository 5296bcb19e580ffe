#version 450
// cross_entropy backward in two phases. Phase 0 (one workgroup): scale = dLoss / counted, with
// dLoss read from device memory (the backend seeds it; a replay may change it). Phase 1 (one
// workgroup per row): dx += scale * (softmax(x) - smoothed one-hot) for counted rows.
#extension GL_GOOGLE_include_directive : require
#include "loss_push.h"
#define REDUCE_WIDTH 64u
#include "reduce.glsl"

layout(local_size_x = 64) in;
// Phase 1 with one row per invocation instead (loss.cpp picks it on CPU devices, where a
// workgroup barrier costs more than walking a row of classes alone).
layout(constant_id = 0) const bool kRowPerInvocation = false;
layout(push_constant) uniform Push { CrossEntropyPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float target[]; };
layout(std430, binding = 2) readonly buffer Grad { float grad[]; };
layout(std430, binding = 3) buffer Scale { float scaleValue[]; };
layout(std430, binding = 4) buffer Dx { float dx[]; };

bool counts(int cls) { return cls != p.ignoreIndex && cls >= 0 && cls < int(p.classes); }

void main() {
    const uint t = gl_LocalInvocationID.x;
    if (p.phase == 0u) {
        float n = 0.0;
        for (uint r = t; r < p.rows; r += 64u) {
            n += counts(int(round(target[p.offT + r]))) ? 1.0 : 0.0;
        }
        n = workgroupSum(n);
        if (t == 0u) scaleValue[p.offScale] = n > 0.0 ? grad[p.offGrad] / n : 0.0;
        return;
    }
    const float scale = scaleValue[p.offScale];
    const float uniformShare = p.smoothing / float(p.classes);
    if (kRowPerInvocation) {
        const uint stride = gl_NumWorkGroups.x * 64u;
        for (uint row = gl_GlobalInvocationID.x; row < p.rows; row += stride) {
            const int cls = int(round(target[p.offT + row]));
            if (!counts(cls)) continue;
            const uint xb = p.offX + row * p.classes;
            const uint db = p.offDx + row * p.classes;
            float m = -3.402823466e38;
            for (uint k = 0u; k < p.classes; ++k) m = max(m, x[xb + k]);
            float s = 0.0;
            for (uint k = 0u; k < p.classes; ++k) s += exp(x[xb + k] - m);
            const float inv = 1.0 / s;
            for (uint k = 0u; k < p.classes; ++k) {
                const float prob = exp(x[xb + k] - m) * inv;
                const float want = (int(k) == cls ? 1.0 - p.smoothing : 0.0) + uniformShare;
                dx[db + k] += scale * (prob - want);
            }
        }
        return;
    }
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const int cls = int(round(target[p.offT + row]));
        if (!counts(cls)) continue;  // uniform across the workgroup
        const uint xb = p.offX + row * p.classes;
        const uint db = p.offDx + row * p.classes;
        float m = -3.402823466e38;
        for (uint k = t; k < p.classes; k += 64u) m = max(m, x[xb + k]);
        m = workgroupMax(m);
        float s = 0.0;
        for (uint k = t; k < p.classes; k += 64u) s += exp(x[xb + k] - m);
        const float inv = 1.0 / workgroupSum(s);
        for (uint k = t; k < p.classes; k += 64u) {
            const float prob = exp(x[xb + k] - m) * inv;
            const float want = (int(k) == cls ? 1.0 - p.smoothing : 0.0) + uniformShare;
            dx[db + k] += scale * (prob - want);
        }
    }
}
