// Activation functions and their derivatives, shared by the elementwise kernels and the GEMM
// epilogue. Formulas follow PyTorch (GELU: exact erf form, or the tanh approximation).
#ifndef STRATA_ACTIVATION_GLSL
#define STRATA_ACTIVATION_GLSL

const uint kActNone = 0u;
const uint kActRelu = 1u;
const uint kActLeakyRelu = 2u;
const uint kActGelu = 3u;      // 0.5 x (1 + erf(x / sqrt 2))
const uint kActGeluTanh = 4u;  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
const uint kActSigmoid = 5u;
const uint kActTanh = 6u;

// GLSL has no erf: Abramowitz-Stegun 7.1.26 is only 1.5e-7 absolute, enough for float32.
float strataErf(float x) {
    float s = sign(x);
    float a = abs(x);
    float t = 1.0 / (1.0 + 0.3275911 * a);
    float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                     + 0.254829592) * t * exp(-a * a);
    return s * y;
}

// tanh written through exp of a non-positive argument so large |x| cannot overflow.
float strataTanh(float x) {
    float e = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - e) / (1.0 + e);
}

float strataSigmoid(float x) {
    float e = exp(-abs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

const float kSqrt2OverPi = 0.7978845608028654;
const float kInvSqrt2 = 0.7071067811865476;
const float kInvSqrt2Pi = 0.3989422804014327;

float activate(uint act, float x, float param) {
    if (act == kActRelu) return max(x, 0.0);
    if (act == kActLeakyRelu) return x > 0.0 ? x : x * param;
    if (act == kActGelu) return 0.5 * x * (1.0 + strataErf(x * kInvSqrt2));
    if (act == kActGeluTanh) {
        return 0.5 * x * (1.0 + strataTanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
    }
    if (act == kActSigmoid) return strataSigmoid(x);
    if (act == kActTanh) return strataTanh(x);
    return x;
}

// d activate(x) / dx, from the input x.
float activateDerivative(uint act, float x, float param) {
    if (act == kActRelu) return x > 0.0 ? 1.0 : 0.0;
    if (act == kActLeakyRelu) return x > 0.0 ? 1.0 : param;
    if (act == kActGelu) {
        return 0.5 * (1.0 + strataErf(x * kInvSqrt2)) + x * kInvSqrt2Pi * exp(-0.5 * x * x);
    }
    if (act == kActGeluTanh) {
        float u = kSqrt2OverPi * (x + 0.044715 * x * x * x);
        float t = strataTanh(u);
        float du = kSqrt2OverPi * (1.0 + 3.0 * 0.044715 * x * x);
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
    }
    if (act == kActSigmoid) {
        float s = strataSigmoid(x);
        return s * (1.0 - s);
    }
    if (act == kActTanh) {
        float t = strataTanh(x);
        return 1.0 - t * t;
    }
    return 1.0;
}

#endif
