// Workgroup reductions through shared memory with a fixed tree, so a sum never depends on
// scheduling: the same inputs give the same bits on every run (no float atomics anywhere).
// The including shader defines REDUCE_WIDTH (its local_size_x, a power of two) first. Every
// invocation of the workgroup must call these in the same order (they contain barriers); each
// returns the result to all invocations.
#ifndef STRATA_REDUCE_GLSL
#define STRATA_REDUCE_GLSL

shared vec2 reduceScratch[REDUCE_WIDTH];

// Two sums at once: one tree, half the barriers of two separate sums.
vec2 workgroupSum2(vec2 v) {
    const uint t = gl_LocalInvocationID.x;
    reduceScratch[t] = v;
    barrier();
    for (uint h = REDUCE_WIDTH / 2u; h > 0u; h >>= 1u) {
        if (t < h) reduceScratch[t] += reduceScratch[t + h];
        barrier();
    }
    const vec2 r = reduceScratch[0];
    barrier();  // the scratch is free again before the next reduction writes it
    return r;
}

float workgroupSum(float v) { return workgroupSum2(vec2(v, 0.0)).x; }

float workgroupMax(float v) {
    const uint t = gl_LocalInvocationID.x;
    reduceScratch[t].x = v;
    barrier();
    for (uint h = REDUCE_WIDTH / 2u; h > 0u; h >>= 1u) {
        if (t < h) reduceScratch[t].x = max(reduceScratch[t].x, reduceScratch[t + h].x);
        barrier();
    }
    const float r = reduceScratch[0].x;
    barrier();
    return r;
}

#endif
