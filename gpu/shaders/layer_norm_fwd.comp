#version 450
// y = (x - mean) * rstd * gamma + beta per row of length d, saving mean and rstd for backward.
// One invocation per row: rows are many and short in transformers, and a serial row needs no
// shared memory or barriers (slow on lavapipe) and sums in a fixed order (deterministic).
#extension GL_GOOGLE_include_directive : require
#include "layer_norm_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { LayerNormPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, binding = 4) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 5) writeonly buffer Rstd { float rstd[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += stride) {
        const uint xb = p.offX + r * p.d;
        const uint yb = p.offY + r * p.d;
        float sum = 0.0;
        for (uint j = 0u; j < p.d; ++j) sum += x[xb + j];
        const float mu = sum / float(p.d);
        // Two passes (centred squares) as the CPU: no cancellation for rows far from zero.
        float sq = 0.0;
        for (uint j = 0u; j < p.d; ++j) {
            const float c = x[xb + j] - mu;
            sq += c * c;
        }
        const float rs = 1.0 / sqrt(sq / float(p.d) + p.eps);  // biased variance, as PyTorch
        mean[p.offMean + r] = mu;
        rstd[p.offRstd + r] = rs;
        for (uint j = 0u; j < p.d; ++j) {
            float v = (x[xb + j] - mu) * rs;
            if (p.affine != 0u) v = v * gamma[p.offGamma + j] + beta[p.offBeta + j];
            y[yb + j] = v;
        }
    }
}
