// Dropout masks of the attention family, bit for bit attn::Dropout (core/layers/attention_kernels):
// site k of a node draws from siteSeed(seed, k) = seed + k * 0x9E3779B97F4A7C15 (mod 2^64), and
// element i is kept when uniform01(siteSeed, i) >= p. The seed words come from the op's seed
// buffer, which the backend rewrites before every replay.
#ifndef STRATA_ATTENTION_RANDOM_GLSL
#define STRATA_ATTENTION_RANDOM_GLSL
#include "random.glsl"

uvec2 strataSiteSeed(uvec2 seed, uint site) {
    uint prodHi;
    uint prodLo;
    umulExtended(site, 0x7F4A7C15u, prodHi, prodLo);
    prodHi += site * 0x9E3779B9u;
    uint carry;
    const uint lo = uaddCarry(seed.x, prodLo, carry);
    return uvec2(lo, seed.y + prodHi + carry);
}

// v * mask / (1 - p): the inverted-dropout value of element `index`.
float strataDropout(uvec2 siteSeed, uint index, float p, float v) {
    return strataUniform01(siteSeed.x, siteSeed.y, index) >= p ? v * (1.0 / (1.0 - p)) : 0.0;
}

#endif
