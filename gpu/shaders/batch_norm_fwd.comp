#version 450
// batch_norm forward, one workgroup per channel (grid-stride over channels). Whole tensor
// (phase 0): the channel's statistics (two passes: mean, then squared deviations, as the CPU
// does), the running-statistic update in training, the aux (mean, invstd) for backward, and the
// normalised output. A split tensor runs the same steps as phases over its chunks, with the
// sums kept in the aux until the channel's first normalising chunk turns them into statistics.
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
layout(std430, binding = 6) buffer Mean { float mean[]; };
layout(std430, binding = 7) buffer Invstd { float invstd[]; };

// Value j of the chunk's channel c, with j running over (sample, position) of the chunk.
uint at(uint j, uint c) {
    const uint s = j / p.chunkInner;
    return (s * p.channels + c) * p.inner + (j - s * p.chunkInner);
}

// The running statistics move towards the batch's. PyTorch tracks the unbiased variance; one
// value per channel gives 0, as on the CPU, so the running variance decays instead of dividing
// by zero.
void updateRunning(uint ch, float mu, float ss) {
    const float unbiased = p.count > 1u ? ss / float(p.count - 1u) : 0.0;
    const uint m = p.offRunningMean + ch, v = p.offRunningVar + ch;
    runningMean[m] = (1.0 - p.momentum) * runningMean[m] + p.momentum * mu;
    runningVar[v] = (1.0 - p.momentum) * runningVar[v] + p.momentum * unbiased;
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint values = p.n * p.chunkInner;
    for (uint c = gl_WorkGroupID.x; c < p.chunkChannels; c += gl_NumWorkGroups.x) {
        const uint ch = p.channel0 + c;
        if (p.phase == STRATA_BN_SUM) {
            float s = 0.0;
            for (uint j = t; j < values; j += 128u) s += x[p.offX + at(j, c)];
            s = workgroupSum(s);
            if (t == 0u) mean[p.offMean + ch] = (p.first != 0u ? 0.0 : mean[p.offMean + ch]) + s;
            continue;
        }
        if (p.phase == STRATA_BN_SQUARES) {
            const float mu = mean[p.offMean + ch] / float(p.count);
            float ss = 0.0;
            for (uint j = t; j < values; j += 128u) {
                const float d = x[p.offX + at(j, c)] - mu;
                ss += d * d;
            }
            ss = workgroupSum(ss);
            if (t == 0u) {
                invstd[p.offInvstd + ch] = (p.first != 0u ? 0.0 : invstd[p.offInvstd + ch]) + ss;
            }
            continue;
        }
        float mu, inv;
        if (p.phase == STRATA_BN_WHOLE || p.first != 0u) {
            float var;
            if (p.training != 0u && p.phase == STRATA_BN_WHOLE) {
                float s = 0.0;
                for (uint j = t; j < values; j += 128u) s += x[p.offX + at(j, c)];
                mu = workgroupSum(s) / float(p.count);
                float ss = 0.0;
                for (uint j = t; j < values; j += 128u) {
                    const float d = x[p.offX + at(j, c)] - mu;
                    ss += d * d;
                }
                ss = workgroupSum(ss);
                var = ss / float(p.count);  // biased: what normalises
                if (t == 0u) updateRunning(ch, mu, ss);
            } else if (p.training != 0u) {
                // The sums of the earlier phases, read by every invocation before the first
                // one overwrites them with the statistics.
                mu = mean[p.offMean + ch] / float(p.count);
                const float ss = invstd[p.offInvstd + ch];
                var = ss / float(p.count);
                barrier();
                if (t == 0u) updateRunning(ch, mu, ss);
            } else {
                mu = runningMean[p.offRunningMean + ch];
                var = runningVar[p.offRunningVar + ch];
            }
            inv = 1.0 / sqrt(var + p.eps);
            if (t == 0u) {
                mean[p.offMean + ch] = mu;
                invstd[p.offInvstd + ch] = inv;
            }
        } else {
            mu = mean[p.offMean + ch];
            inv = invstd[p.offInvstd + ch];
        }
        const float scale = gamma[p.offGamma + ch] * inv;
        const float shift = beta[p.offBeta + ch] - mu * scale;
        for (uint j = t; j < values; j += 128u) {
            const uint i = at(j, c);
            y[p.offY + i] = x[p.offX + i] * scale + shift;
        }
    }
}
