// Counter-based random numbers, bit for bit the formula of cpu::hash32 in core/engine/cpu_math.cpp
// so dropout masks agree between backends (and backward regenerates forward's mask).
#ifndef STRATA_RANDOM_GLSL
#define STRATA_RANDOM_GLSL

uint strataHash32(uint seedLo, uint seedHi, uint index) {
    uint s = seedLo ^ (seedHi * 0x9E3779B9u);
    uint v = index * 747796405u + 2891336453u + s;
    for (int round = 0; round < 2; ++round) {
        uint word = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u;
        v = (word >> 22u) ^ word;
        v = v * 747796405u + 2891336453u + s;
    }
    return v;
}

// A uniform float in [0, 1): the top 24 bits, exactly representable.
float strataUniform01(uint seedLo, uint seedHi, uint index) {
    return float(strataHash32(seedLo, seedHi, index) >> 8) * (1.0 / 16777216.0);
}

#endif
