#version 450
// col (C*k*k, samples, OH*OW) = the input pixel each kernel tap sees at each output position,
// 0 in the padding (conv_push.h). One entry per iteration, consecutive invocations along the
// output positions so neighbouring lanes store neighbouring floats.
#extension GL_GOOGLE_include_directive : require
#include "conv_push.h"

layout(local_size_x = 64) in;
layout(push_constant) uniform Push { Im2colPush p; };
layout(std430, binding = 0) readonly buffer Img { float img[]; };  // (samples, C, H, W)
layout(std430, binding = 1) writeonly buffer Col { float col[]; };

void main() {
    const uint positions = p.outH * p.outW;
    const uint taps = p.kernel * p.kernel;
    const uint step = gl_NumWorkGroups.x * 64u;
    for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
        const uint pos = i % positions;
        uint t = i / positions;
        const uint n = t % p.samples;
        t /= p.samples;
        const uint tap = t % taps;
        const uint ch = t / taps;
        const int iy = int((pos / p.outW) * p.stride + (tap / p.kernel) * p.dilation) -
                       int(p.padding);
        const int ix = int((pos % p.outW) * p.stride + (tap % p.kernel) * p.dilation) -
                       int(p.padding);
        float v = 0.0;
        if (iy >= 0 && iy < int(p.height) && ix >= 0 && ix < int(p.width)) {
            v = img[p.offImg + ((n * p.channels + ch) * p.height + uint(iy)) * p.width + uint(ix)];
        }
        col[p.offCol + i] = v;
    }
}
