#version 450
// col (C*k*k, samples, OH*OW) = the input pixel each kernel tap sees at each output position,
// 0 in the padding (conv_push.h). Workgroups walk lines (one tap row of one sample, y) and
// positions along a line (x), so the line's divisions are the workgroup's, made once per line,
// not per element (CPU devices run integer division one lane at a time), and neighbouring lanes
// store neighbouring floats.
#extension GL_GOOGLE_include_directive : require
#include "conv_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { Im2colPush p; };
layout(std430, binding = 0) readonly buffer Img { float img[]; };  // (samples, C, H, W)
layout(std430, binding = 1) writeonly buffer Col { float col[]; };

void main() {
    const uint positions = p.outH * p.outW;
    const uint taps = p.kernel * p.kernel;
    const uint lines = p.channels * taps * p.samples;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint line = gl_WorkGroupID.y; line < lines; line += gl_NumWorkGroups.y) {
        const uint row = line / p.samples;
        const uint n = line - row * p.samples;
        const uint ch = row / taps;
        const uint tap = row - ch * taps;
        const uint ky = tap / p.kernel;
        const int dy = int(ky * p.dilation) - int(p.padding);
        const int dx = int((tap - ky * p.kernel) * p.dilation) - int(p.padding);
        const uint plane = p.offImg + (n * p.channels + ch) * p.height * p.width;
        const uint dst = p.offCol + line * positions;
        for (uint pos = gl_GlobalInvocationID.x; pos < positions; pos += step) {
            const uint oy = pos / p.outW;
            const int iy = int(oy * p.stride) + dy;
            const int ix = int((pos - oy * p.outW) * p.stride) + dx;
            float v = 0.0;
            if (iy >= 0 && iy < int(p.height) && ix >= 0 && ix < int(p.width)) {
                v = img[plane + uint(iy) * p.width + uint(ix)];
            }
            col[dst + pos] = v;
        }
    }
}
