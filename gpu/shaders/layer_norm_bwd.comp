#version 450
// Layer-norm backward in one dispatch over two kinds of work items, all independent:
//   rows:    dx (+)= rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma
//   columns: dgamma[j] += sum over rows of dy * xhat, dbeta[j] += sum of dy
// Column sums run over rows in order in one invocation: deterministic, no float atomics.
#extension GL_GOOGLE_include_directive : require
#include "layer_norm_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { LayerNormPush p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Rstd { float rstd[]; };
layout(std430, binding = 5) buffer Dx { float dx[]; };
layout(std430, binding = 6) buffer Dgamma { float dgamma[]; };
layout(std430, binding = 7) buffer Dbeta { float dbeta[]; };

float gradOfXhat(uint at, uint j) {
    const float g = dy[p.offY + at];
    return p.affine != 0u ? g * gamma[p.offGamma + j] : g;
}

void rowItem(uint r) {
    const uint b = r * p.d;
    const float mu = mean[p.offMean + r];
    const float rs = rstd[p.offRstd + r];
    float sumG = 0.0;
    float sumGX = 0.0;
    for (uint j = 0u; j < p.d; ++j) {
        const float g = gradOfXhat(b + j, j);
        sumG += g;
        sumGX += g * ((x[p.offX + b + j] - mu) * rs);
    }
    const float meanG = sumG / float(p.d);
    const float meanGX = sumGX / float(p.d);
    for (uint j = 0u; j < p.d; ++j) {
        const float xhat = (x[p.offX + b + j] - mu) * rs;
        const float v = rs * (gradOfXhat(b + j, j) - meanG - xhat * meanGX);
        const uint at = p.offDx + b + j;
        dx[at] = p.accumulate != 0u ? dx[at] + v : v;
    }
}

void columnItem(uint j) {
    float sg = 0.0;
    float sb = 0.0;
    for (uint r = 0u; r < p.rows; ++r) {
        const uint at = r * p.d + j;
        const float g = dy[p.offY + at];
        sg += g * ((x[p.offX + at] - mean[p.offMean + r]) * rstd[p.offRstd + r]);
        sb += g;
    }
    dgamma[p.offDgamma + j] += sg;
    dbeta[p.offDbeta + j] += sb;
}

void main() {
    const uint rowItems = p.hasDx != 0u ? p.rows : 0u;
    const uint items = rowItems + (p.hasParams != 0u ? p.d : 0u);
    const uint stride = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < items; i += stride) {
        if (i < rowItems) {
            rowItem(i);
        } else {
            columnItem(i - rowItems);
        }
    }
}
