#version 450
// batch_norm forward, one workgroup per channel (grid-stride over channels): the channel's
// statistics (two passes: mean, then squared deviations, as the CPU does), the running-statistic
// update in training, the aux (mean, invstd) for backward, and the normalised output.
#extension GL_GOOGLE_include_directive : require
#include "batch_norm_push.h"
#define REDUCE_WIDTH 128u
#include "reduce.glsl"

layout(local_size_x = 128) in;
layout(push_constant) uniform Push { BatchNormFwdPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, binding = 4) buffer RunningMean { float runningMean[]; };
layout(std430, binding = 5) buffer RunningVar { float runningVar[]; };
layout(std430, binding = 6) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 7) writeonly buffer Invstd { float invstd[]; };

// Element j of channel ch, with j running over (sample, position).
uint at(uint j, uint ch) {
    const uint s = j / p.inner;
    return (s * p.channels + ch) * p.inner + (j - s * p.inner);
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint count = p.n * p.inner;
    for (uint ch = gl_WorkGroupID.x; ch < p.channels; ch += gl_NumWorkGroups.x) {
        float mu, var;
        if (p.training != 0u) {
            float s = 0.0;
            for (uint j = t; j < count; j += 128u) s += x[p.offX + at(j, ch)];
            mu = workgroupSum(s) / float(count);
            float ss = 0.0;
            for (uint j = t; j < count; j += 128u) {
                const float d = x[p.offX + at(j, ch)] - mu;
                ss += d * d;
            }
            ss = workgroupSum(ss);
            var = ss / float(count);  // biased: what normalises
            if (t == 0u) {
                // PyTorch tracks the unbiased variance; one value per channel gives 0, as on
                // the CPU, so the running variance decays instead of dividing by zero.
                const float unbiased = count > 1u ? ss / float(count - 1u) : 0.0;
                const uint m = p.offRunningMean + ch, v = p.offRunningVar + ch;
                runningMean[m] = (1.0 - p.momentum) * runningMean[m] + p.momentum * mu;
                runningVar[v] = (1.0 - p.momentum) * runningVar[v] + p.momentum * unbiased;
            }
        } else {
            mu = runningMean[p.offRunningMean + ch];
            var = runningVar[p.offRunningVar + ch];
        }
        const float inv = 1.0 / sqrt(var + p.eps);
        if (t == 0u) {
            mean[p.offMean + ch] = mu;
            invstd[p.offInvstd + ch] = inv;
        }
        const float scale = gamma[p.offGamma + ch] * inv;
        const float shift = beta[p.offBeta + ch] - mu * scale;
        for (uint j = t; j < count; j += 128u) {
            const uint i = at(j, ch);
            y[p.offY + i] = x[p.offX + i] * scale + shift;
        }
    }
}
