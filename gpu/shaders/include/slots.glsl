// Eight operand slots (bindings 0..7) for the variadic kernels (add, concat). They are separate
// bindings because each input lives anywhere in the arenas, and are picked by a switch because
// indexing a descriptor array needs optional device features. Define STRATA_SLOT_QUALIFIER
// (readonly, or empty for slots the kernel writes) before including this file.
#ifndef STRATA_SLOTS_GLSL
#define STRATA_SLOTS_GLSL

layout(std430, binding = 0) STRATA_SLOT_QUALIFIER buffer Slot0 { float slot0[]; };
layout(std430, binding = 1) STRATA_SLOT_QUALIFIER buffer Slot1 { float slot1[]; };
layout(std430, binding = 2) STRATA_SLOT_QUALIFIER buffer Slot2 { float slot2[]; };
layout(std430, binding = 3) STRATA_SLOT_QUALIFIER buffer Slot3 { float slot3[]; };
layout(std430, binding = 4) STRATA_SLOT_QUALIFIER buffer Slot4 { float slot4[]; };
layout(std430, binding = 5) STRATA_SLOT_QUALIFIER buffer Slot5 { float slot5[]; };
layout(std430, binding = 6) STRATA_SLOT_QUALIFIER buffer Slot6 { float slot6[]; };
layout(std430, binding = 7) STRATA_SLOT_QUALIFIER buffer Slot7 { float slot7[]; };

float loadSlot(uint k, uint i) {
    switch (k) {
        case 0u: return slot0[i];
        case 1u: return slot1[i];
        case 2u: return slot2[i];
        case 3u: return slot3[i];
        case 4u: return slot4[i];
        case 5u: return slot5[i];
        case 6u: return slot6[i];
        default: return slot7[i];
    }
}

#ifdef STRATA_SLOTS_WRITABLE
void storeSlot(uint k, uint i, float v) {
    switch (k) {
        case 0u: slot0[i] = v; break;
        case 1u: slot1[i] = v; break;
        case 2u: slot2[i] = v; break;
        case 3u: slot3[i] = v; break;
        case 4u: slot4[i] = v; break;
        case 5u: slot5[i] = v; break;
        case 6u: slot6[i] = v; break;
        default: slot7[i] = v; break;
    }
}
#endif

#endif
