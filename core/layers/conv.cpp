// conv2d, max_pool2d, avg_pool2d, global_avg_pool2d. Layouts and arithmetic follow PyTorch's
// nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d (count_include_pad=True, ceil_mode=False) and
// nn.AdaptiveAvgPool2d(1) followed by a flatten.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/engine/cpu_math.h"
#include "core/layers/registry.h"

namespace strata {

namespace {

// The spatial arithmetic shared by convolution and pooling.
struct Window {
    int64_t kernel = 1, stride = 1, padding = 0, dilation = 1;
    int64_t span() const { return dilation * (kernel - 1) + 1; }
    int64_t outSize(int64_t in) const { return (in + 2 * padding - span()) / stride + 1; }
};

std::string sizeText(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

// Checks a (N, C, H, W) float input.
Result<void> expectImage(const LayerContext& c) {
    const Shape& x = c.shape(0);
    if (!x.isBatched() || x.rank() != 4) {
        return fail("expects a 4-D input (N, C, H, W) but " + c.gives(0));
    }
    if (c.inputs[0].type->dtype != DType::Float32) {
        return fail("expects float input but " + c.gives(0) + " of integers");
    }
    return {};
}

// Checks that the window fits the padded input and yields at least one output position.
Result<void> expectWindowFits(const LayerContext& c, const Window& win) {
    const Shape& x = c.shape(0);
    const int64_t h = x[2], w = x[3];
    const int64_t ph = h + 2 * win.padding, pw = w + 2 * win.padding;
    if (win.span() > ph || win.span() > pw) {
        std::string kernel = sizeText(win.kernel, win.kernel);
        if (win.dilation > 1) {
            kernel += " (spanning " + sizeText(win.span(), win.span()) + " with dilation " +
                      std::to_string(win.dilation) + ")";
        }
        return fail("has a " + kernel + " kernel, larger than the padded input " +
                    sizeText(ph, pw) + " (" + c.gives(0) + " with padding " +
                    std::to_string(win.padding) +
                    "); use a smaller kernel, more padding or a larger input");
    }
    if (win.outSize(h) < 1 || win.outSize(w) < 1) {
        return fail("would produce an output smaller than 1x1 from " + c.gives(0) +
                    "; use a smaller kernel or stride");
    }
    return {};
}

// ---- conv2d: PyTorch nn.Conv2d, computed as im2col + one GEMM per group and sample ----

struct ConvGeom {
    int64_t n, c, h, w;     // input (N, C, H, W)
    int64_t o, oh, ow;      // output (N, O, OH, OW)
    int64_t groups, cg, og; // channels per group: in, out
    Window win;
    int64_t colRows() const { return cg * win.kernel * win.kernel; }  // rows of one group's columns
    int64_t positions() const { return oh * ow; }
};

Window convWindow(const Params& p) {
    return {getInt(p, "kernel_size"), getInt(p, "stride"), getInt(p, "padding"),
            getInt(p, "dilation")};
}

ConvGeom convGeom(const OpContext& ctx) {
    const Shape& x = ctx.inputs[0].shape;  // (N, C, H, W)
    ConvGeom g{};
    g.win = convWindow(ctx.params);
    g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
    g.o = ctx.weights[0].shape[0];
    g.oh = g.win.outSize(g.h), g.ow = g.win.outSize(g.w);
    g.groups = getInt(ctx.params, "groups");
    g.cg = g.c / g.groups;
    g.og = g.o / g.groups;
    return g;
}

Result<LayerInfo> conv2dInfer(const LayerContext& c) {
    if (auto ok = expectImage(c); !ok) return ok.error();
    const Shape& x = c.shape(0);
    const int64_t in = x[1];
    const int64_t out = getInt(c.params, "out_channels");
    const int64_t groups = getInt(c.params, "groups");
    const bool bias = getBool(c.params, "bias");
    const Window win = convWindow(c.params);
    if (in % groups != 0) {
        return fail("has groups=" + std::to_string(groups) + ", which does not divide the " +
                    std::to_string(in) + " input channels (" + c.gives(0) +
                    "); choose groups that divides both channel counts");
    }
    if (out % groups != 0) {
        return fail("has groups=" + std::to_string(groups) +
                    ", which does not divide out_channels=" + std::to_string(out) +
                    "; choose groups that divides both channel counts");
    }
    if (auto ok = expectWindowFits(c, win); !ok) return ok.error();
    const int64_t oh = win.outSize(x[2]), ow = win.outSize(x[3]);
    LayerInfo info;
    info.outputs.push_back({Shape::batched({out, oh, ow}), DType::Float32});
    // kaiming_uniform(a=sqrt(5)) on the weight and the matching bias rule both reduce to
    // U(+-1/sqrt(fan_in)).
    const int64_t fanIn = in / groups * win.kernel * win.kernel;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
    info.weights.push_back({"weight", {out, in / groups, win.kernel, win.kernel},
                            Init::uniform(bound)});
    if (bias) info.weights.push_back({"bias", {out}, Init::uniform(bound)});
    info.flops = out * oh * ow * (2 * fanIn + (bias ? 1 : 0));
    return info;
}

// The output columns [lo, hi) whose input column ox * stride - padding + offset lies inside
// [0, w): the rest read the zero padding.
void validRange(int64_t outW, int64_t w, int64_t stride, int64_t start, int64_t& lo, int64_t& hi) {
    lo = 0;
    while (lo < outW && lo * stride + start < 0) ++lo;
    hi = outW;
    while (hi > lo && (hi - 1) * stride + start >= w) --hi;
}

// Copies one group of one image into columns: col[(ci*k + ky)*k + kx][oy*OW + ox] is the input
// pixel that kernel tap (ky, kx) of channel ci sees at output position (oy, ox), 0 in the padding.
// img: (Cg, H, W); col: (Cg*k*k, ld) with this image's OH*OW columns at its start.
void im2col(const ConvGeom& g, const float* img, float* col, int64_t ld) {
    const int64_t k = g.win.kernel, stride = g.win.stride;
    for (int64_t ci = 0; ci < g.cg; ++ci) {
        const float* plane = img + ci * g.h * g.w;  // (H, W)
        for (int64_t ky = 0; ky < k; ++ky) {
            for (int64_t kx = 0; kx < k; ++kx) {
                float* row = col + ((ci * k + ky) * k + kx) * ld;  // (OH*OW)
                const int64_t start = kx * g.win.dilation - g.win.padding;
                int64_t lo, hi;
                validRange(g.ow, g.w, stride, start, lo, hi);
                for (int64_t oy = 0; oy < g.oh; ++oy) {
                    const int64_t iy = oy * stride - g.win.padding + ky * g.win.dilation;
                    float* dst = row + oy * g.ow;
                    if (iy < 0 || iy >= g.h) {
                        std::fill(dst, dst + g.ow, 0.0f);
                        continue;
                    }
                    const float* src = plane + iy * g.w;  // (W)
                    std::fill(dst, dst + lo, 0.0f);
                    if (stride == 1) {
                        std::copy(src + lo + start, src + hi + start, dst + lo);
                    } else {
                        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * stride + start];
                    }
                    std::fill(dst + hi, dst + g.ow, 0.0f);
                }
            }
        }
    }
}

// The adjoint of im2col: adds every column entry back onto the pixel it was read from.
// col: (Cg*k*k, ld); img: (Cg, H, W).
void col2imAdd(const ConvGeom& g, const float* col, int64_t ld, float* img) {
    const int64_t k = g.win.kernel, stride = g.win.stride;
    for (int64_t ci = 0; ci < g.cg; ++ci) {
        float* plane = img + ci * g.h * g.w;  // (H, W)
        for (int64_t ky = 0; ky < k; ++ky) {
            for (int64_t kx = 0; kx < k; ++kx) {
                const float* row = col + ((ci * k + ky) * k + kx) * ld;  // (OH*OW)
                const int64_t start = kx * g.win.dilation - g.win.padding;
                int64_t lo, hi;
                validRange(g.ow, g.w, stride, start, lo, hi);
                for (int64_t oy = 0; oy < g.oh; ++oy) {
                    const int64_t iy = oy * stride - g.win.padding + ky * g.win.dilation;
                    if (iy < 0 || iy >= g.h) continue;
                    const float* src = row + oy * g.ow;
                    float* dst = plane + iy * g.w;  // (W)
                    for (int64_t ox = lo; ox < hi; ++ox) dst[ox * stride + start] += src[ox];
                }
            }
        }
    }
}

// Convolution works on blocks of samples: the columns of a block's images side by side
// (Cg*k*k, samples*OH*OW), so that each product is one GEMM with a long inner or outer
// dimension instead of one small GEMM per image. Every thread holds one block's columns while it
// runs, on top of the activations training keeps, so a block stays small: about 256 KiB of
// columns (a GEMM dimension of thousands for the usual kernels, and within a core's L2 cache),
// one sample when a single image's columns are larger (1 MiB blocks held 4.5 MiB on LeNet-5's
// first layer over two threads, more than its whole activation arena, and ran no faster).
constexpr int64_t kColumnFloats = int64_t{1} << 16;

int64_t samplesPerBlock(const ConvGeom& g) {
    return std::clamp<int64_t>(kColumnFloats / (g.colRows() * g.positions()), 1, g.n);
}

void conv2d_fwd(const OpContext& c) {
    const ConvGeom g = convGeom(c);
    const float* x = c.inputs[0].data;   // (N, C, H, W)
    const float* w = c.weights[0].data;  // (O, C/groups, k, k)
    const float* bias = c.weights.size() > 1 ? c.weights[1].data : nullptr;  // (O)
    float* y = c.outputs[0].data;        // (N, O, OH, OW)
    const int64_t P = g.positions(), K = g.colRows(), B = samplesPerBlock(g);
    const int64_t blocks = (g.n + B - 1) / B;
    cpu::parallelFor(blocks, 1, [&](int64_t b0, int64_t b1) {
        std::vector<float> col(static_cast<size_t>(K * B * P));    // (K, samples*P)
        std::vector<float> out(static_cast<size_t>(g.og * B * P)); // (Og, samples*P)
        for (int64_t blk = b0; blk < b1; ++blk) {
            const int64_t n0 = blk * B, nb = std::min(B, g.n - n0), L = nb * P;
            for (int64_t gi = 0; gi < g.groups; ++gi) {
                for (int64_t s = 0; s < nb; ++s) {
                    im2col(g, x + ((n0 + s) * g.c + gi * g.cg) * g.h * g.w, col.data() + s * P, L);
                }
                // (Og, K) x (K, L) -> (Og, L)
                cpu::gemm(false, false, g.og, L, K, 1.0f, w + gi * g.og * K, col.data(), 0.0f,
                          out.data());
                for (int64_t s = 0; s < nb; ++s) {
                    for (int64_t o = 0; o < g.og; ++o) {
                        const float* src = out.data() + o * L + s * P;
                        float* dst = y + ((n0 + s) * g.o + gi * g.og + o) * P;  // (OH*OW)
                        const float b = bias ? bias[gi * g.og + o] : 0.0f;
                        for (int64_t p = 0; p < P; ++p) dst[p] = src[p] + b;
                    }
                }
            }
        }
    });
}

// A sum in double with four running partial sums (one would wait on the adder every element).
double sumOf(const float* v, int64_t n) {
    double a[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int k = 0; k < 4; ++k) a[k] += v[i + k];
    }
    for (; i < n; ++i) a[0] += v[i];
    return (a[0] + a[1]) + (a[2] + a[3]);
}

// dx += col2im(W_g^T dy_g); dW_g += dy_g col_g^T with the columns rebuilt from the input rather
// than kept from forward (they are k*k times the input's size); db += sums of dy.
// The weight and bias gradients are summed per part of the batch and the parts added in order,
// so the result does not depend on which thread ran which part.
void conv2d_bwd(const OpContext& c) {
    const ConvGeom g = convGeom(c);
    const float* x = c.inputs[0].data;        // (N, C, H, W)
    const float* dy = c.gradOutputs[0].data;  // (N, O, OH, OW)
    const float* w = c.weights[0].data;       // (O, C/groups, k, k)
    float* dx = c.gradInputs[0].data;         // (N, C, H, W) or null
    float* dw = c.gradWeights[0].data;        // (O, C/groups, k, k)
    float* db = c.gradWeights.size() > 1 ? c.gradWeights[1].data : nullptr;  // (O)
    const int64_t P = g.positions(), K = g.colRows(), B = samplesPerBlock(g);
    const int64_t blocks = (g.n + B - 1) / B;
    const int64_t parts = std::min<int64_t>(blocks, cpu::threads());
    std::vector<std::vector<float>> dwPart(static_cast<size_t>(parts));   // (O, Cg*k*k) each
    std::vector<std::vector<double>> dbPart(static_cast<size_t>(parts));  // (O) each
    cpu::parallelFor(parts, 1, [&](int64_t p0, int64_t p1) {
        // The column gradient and the rebuilt columns take turns in one buffer.
        std::vector<float> col(static_cast<size_t>(K * B * P));         // (K, samples*P)
        std::vector<float> dyBlock(static_cast<size_t>(g.og * B * P));  // (Og, samples*P)
        for (int64_t part = p0; part < p1; ++part) {
            std::vector<float>& dwp = dwPart[static_cast<size_t>(part)];
            std::vector<double>& dbp = dbPart[static_cast<size_t>(part)];
            dwp.assign(static_cast<size_t>(g.o * K), 0.0f);
            dbp.assign(static_cast<size_t>(g.o), 0.0);
            for (int64_t blk = blocks * part / parts; blk < blocks * (part + 1) / parts; ++blk) {
                const int64_t n0 = blk * B, nb = std::min(B, g.n - n0), L = nb * P;
                for (int64_t gi = 0; gi < g.groups; ++gi) {
                    for (int64_t s = 0; s < nb; ++s) {
                        for (int64_t o = 0; o < g.og; ++o) {
                            const float* src = dy + ((n0 + s) * g.o + gi * g.og + o) * P;
                            std::copy(src, src + P, dyBlock.data() + o * L + s * P);
                            dbp[static_cast<size_t>(gi * g.og + o)] += sumOf(src, P);
                        }
                    }
                    const float* wg = w + gi * g.og * K;  // (Og, K)
                    if (dx) {
                        // (K, Og) x (Og, L) -> (K, L)
                        cpu::gemm(true, false, K, L, g.og, 1.0f, wg, dyBlock.data(), 0.0f,
                                  col.data());
                        for (int64_t s = 0; s < nb; ++s) {
                            col2imAdd(g, col.data() + s * P, L,
                                      dx + ((n0 + s) * g.c + gi * g.cg) * g.h * g.w);
                        }
                    }
                    for (int64_t s = 0; s < nb; ++s) {
                        im2col(g, x + ((n0 + s) * g.c + gi * g.cg) * g.h * g.w,
                               col.data() + s * P, L);
                    }
                    // (Og, L) x (L, K) -> (Og, K)
                    cpu::gemm(false, true, g.og, K, L, 1.0f, dyBlock.data(), col.data(), 1.0f,
                              dwp.data() + gi * g.og * K);
                }
            }
        }
    });
    for (int64_t part = 0; part < parts; ++part) {
        const std::vector<float>& dwp = dwPart[static_cast<size_t>(part)];
        for (int64_t i = 0; i < g.o * K; ++i) dw[i] += dwp[static_cast<size_t>(i)];
    }
    if (db) {
        for (int64_t o = 0; o < g.o; ++o) {
            double s = 0;
            for (int64_t part = 0; part < parts; ++part) s += dbPart[static_cast<size_t>(part)][o];
            db[o] += static_cast<float>(s);
        }
    }
}

// ---- max_pool2d / avg_pool2d: PyTorch nn.MaxPool2d / nn.AvgPool2d ----

Window poolWindow(const Params& p) {
    const int64_t k = getInt(p, "kernel_size");
    const int64_t s = getInt(p, "stride");
    return {k, s == 0 ? k : s, getInt(p, "padding"), 1};
}

struct PoolGeom {
    int64_t planes, h, w, oh, ow;  // planes = N*C
    Window win;
};

// Planes per thread at least: a few thousand outputs are worth waking a worker for.
int64_t planeGrain(const PoolGeom& g) { return std::max<int64_t>(1, 4096 / (g.oh * g.ow)); }

PoolGeom poolGeom(const OpContext& c) {
    const Shape& x = c.inputs[0].shape;  // (N, C, H, W)
    const Window win = poolWindow(c.params);
    return {x[0] * x[1], x[2], x[3], win.outSize(x[2]), win.outSize(x[3]), win};
}

Result<LayerInfo> poolInfer(const LayerContext& c, bool isMax) {
    if (auto ok = expectImage(c); !ok) return ok.error();
    const Window win = poolWindow(c.params);
    // PyTorch refuses this too: a window could then lie entirely in the padding.
    if (2 * win.padding > win.kernel) {
        return fail("has padding " + std::to_string(win.padding) +
                    ", more than half of kernel_size " + std::to_string(win.kernel) +
                    "; use padding of at most " + std::to_string(win.kernel / 2));
    }
    if (auto ok = expectWindowFits(c, win); !ok) return ok.error();
    const Shape& x = c.shape(0);
    const int64_t oh = win.outSize(x[2]), ow = win.outSize(x[3]);
    LayerInfo info;
    info.outputs.push_back({Shape::batched({x[1], oh, ow}), DType::Float32});
    // Where each maximum came from, as an index into its (H, W) input plane.
    if (isMax) info.aux.push_back({"argmax", Shape::batched({x[1], oh, ow})});
    info.flops = x[1] * oh * ow * win.kernel * win.kernel;
    return info;
}

void max_pool2d_fwd(const OpContext& c) {
    const PoolGeom g = poolGeom(c);
    const float* x = c.inputs[0].data;  // (N, C, H, W)
    float* y = c.outputs[0].data;       // (N, C, OH, OW)
    float* arg = c.aux[0].data;         // (N, C, OH, OW), exact integers up to 2^24
    cpu::parallelFor(g.planes, planeGrain(g), [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            const float* plane = x + p * g.h * g.w;  // (H, W)
            for (int64_t oy = 0; oy < g.oh; ++oy) {
                for (int64_t ox = 0; ox < g.ow; ++ox) {
                    float best = -std::numeric_limits<float>::infinity();
                    int64_t at = -1;
                    for (int64_t ky = 0; ky < g.win.kernel; ++ky) {
                        const int64_t iy = oy * g.win.stride - g.win.padding + ky;
                        if (iy < 0 || iy >= g.h) continue;
                        for (int64_t kx = 0; kx < g.win.kernel; ++kx) {
                            const int64_t ix = ox * g.win.stride - g.win.padding + kx;
                            if (ix < 0 || ix >= g.w) continue;
                            const float v = plane[iy * g.w + ix];
                            // The first maximum wins ties, and a NaN propagates, as in PyTorch.
                            if (at < 0 || v > best || std::isnan(v)) {
                                best = v;
                                at = iy * g.w + ix;
                                if (std::isnan(v)) break;
                            }
                        }
                    }
                    const int64_t o = (p * g.oh + oy) * g.ow + ox;
                    y[o] = best;
                    arg[o] = static_cast<float>(at);
                }
            }
        }
    });
}

void max_pool2d_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const PoolGeom g = poolGeom(c);
    const float* dy = c.gradOutputs[0].data;  // (N, C, OH, OW)
    const float* arg = c.aux[0].data;         // (N, C, OH, OW)
    float* dx = c.gradInputs[0].data;         // (N, C, H, W)
    const int64_t P = g.oh * g.ow;
    cpu::parallelFor(g.planes, planeGrain(g), [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            for (int64_t i = 0; i < P; ++i) {
                const int64_t at = static_cast<int64_t>(arg[p * P + i]);
                if (at >= 0) dx[p * g.h * g.w + at] += dy[p * P + i];
            }
        }
    });
}

// count_include_pad=True: every window divides by kernel_size^2. Without ceil_mode no window
// reaches past the padded input, so that is PyTorch's divisor everywhere.
void avg_pool2d_fwd(const OpContext& c) {
    const PoolGeom g = poolGeom(c);
    const float* x = c.inputs[0].data;  // (N, C, H, W)
    float* y = c.outputs[0].data;       // (N, C, OH, OW)
    const float scale = 1.0f / static_cast<float>(g.win.kernel * g.win.kernel);
    for (int64_t p = 0; p < g.planes; ++p) {
        const float* plane = x + p * g.h * g.w;  // (H, W)
        for (int64_t oy = 0; oy < g.oh; ++oy) {
            for (int64_t ox = 0; ox < g.ow; ++ox) {
                float s = 0;
                for (int64_t ky = 0; ky < g.win.kernel; ++ky) {
                    const int64_t iy = oy * g.win.stride - g.win.padding + ky;
                    if (iy < 0 || iy >= g.h) continue;
                    for (int64_t kx = 0; kx < g.win.kernel; ++kx) {
                        const int64_t ix = ox * g.win.stride - g.win.padding + kx;
                        if (ix >= 0 && ix < g.w) s += plane[iy * g.w + ix];
                    }
                }
                y[(p * g.oh + oy) * g.ow + ox] = s * scale;
            }
        }
    }
}

void avg_pool2d_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const PoolGeom g = poolGeom(c);
    const float* dy = c.gradOutputs[0].data;  // (N, C, OH, OW)
    float* dx = c.gradInputs[0].data;         // (N, C, H, W)
    const float scale = 1.0f / static_cast<float>(g.win.kernel * g.win.kernel);
    for (int64_t p = 0; p < g.planes; ++p) {
        float* plane = dx + p * g.h * g.w;  // (H, W)
        for (int64_t oy = 0; oy < g.oh; ++oy) {
            for (int64_t ox = 0; ox < g.ow; ++ox) {
                const float d = dy[(p * g.oh + oy) * g.ow + ox] * scale;
                for (int64_t ky = 0; ky < g.win.kernel; ++ky) {
                    const int64_t iy = oy * g.win.stride - g.win.padding + ky;
                    if (iy < 0 || iy >= g.h) continue;
                    for (int64_t kx = 0; kx < g.win.kernel; ++kx) {
                        const int64_t ix = ox * g.win.stride - g.win.padding + kx;
                        if (ix >= 0 && ix < g.w) plane[iy * g.w + ix] += d;
                    }
                }
            }
        }
    }
}

// ---- global_avg_pool2d: (N, C, H, W) -> (N, C), the mean of each plane ----

Result<LayerInfo> globalAvgPoolInfer(const LayerContext& c) {
    if (auto ok = expectImage(c); !ok) return ok.error();
    const Shape& x = c.shape(0);
    LayerInfo info;
    info.outputs.push_back({Shape::batched({x[1]}), DType::Float32});
    info.flops = x.numel();
    return info;
}

void global_avg_pool2d_fwd(const OpContext& c) {
    const Shape& xs = c.inputs[0].shape;  // (N, C, H, W)
    const int64_t planes = xs[0] * xs[1], hw = xs[2] * xs[3];
    const float* x = c.inputs[0].data;
    float* y = c.outputs[0].data;  // (N, C)
    for (int64_t p = 0; p < planes; ++p) {
        double s = 0;
        for (int64_t i = 0; i < hw; ++i) s += x[p * hw + i];
        y[p] = static_cast<float>(s / static_cast<double>(hw));
    }
}

void global_avg_pool2d_bwd(const OpContext& c) {
    if (!c.gradInputs[0].data) return;
    const Shape& xs = c.inputs[0].shape;  // (N, C, H, W)
    const int64_t planes = xs[0] * xs[1], hw = xs[2] * xs[3];
    const float* dy = c.gradOutputs[0].data;  // (N, C)
    float* dx = c.gradInputs[0].data;         // (N, C, H, W)
    for (int64_t p = 0; p < planes; ++p) {
        const float d = dy[p] / static_cast<float>(hw);
        for (int64_t i = 0; i < hw; ++i) dx[p * hw + i] += d;
    }
}

std::vector<ParamSpec> poolParams() {
    return {intParam("kernel_size", 2, 1, 64, "side of the square window"),
            intParam("stride", 0, 0, 64, "step between windows; 0 means kernel_size"),
            intParam("padding", 0, 0, 32,
                     "implicit border added on every side; at most half of kernel_size")};
}

}  // namespace

void registerConvLayers(LayerRegistry& r) {
    r.add({
        .id = "conv2d",
        .label = "Conv 2D",
        .category = "Convolution",
        .doc = "2-D convolution over (N, C, H, W) with square kernels, as PyTorch nn.Conv2d.",
        .inputs = {{"in", "(N, C, H, W)"}},
        .outputs = {{"out", "(N, out_channels, H', W')"}},
        .params = {intParam("out_channels", 16, 1, 65536, "number of output channels"),
                   intParam("kernel_size", 3, 1, 64, "side of the square kernel"),
                   intParam("stride", 1, 1, 64, "step between kernel positions"),
                   intParam("padding", 0, 0, 64, "zeros added on every side of the input"),
                   intParam("dilation", 1, 1, 64, "spacing between kernel taps"),
                   intParam("groups", 1, 1, 65536,
                            "split channels into independent groups; divides both channel counts"),
                   boolParam("bias", true, "learn an additive bias per output channel")},
        .infer = conv2dInfer,
        .forward = conv2d_fwd,
        .backward = conv2d_bwd,
    });
    r.add({
        .id = "max_pool2d",
        .label = "Max Pool 2D",
        .category = "Convolution",
        .doc = "Maximum over square windows of each channel, as PyTorch nn.MaxPool2d.",
        .inputs = {{"in", "(N, C, H, W)"}},
        .outputs = {{"out", "(N, C, H', W')"}},
        .params = poolParams(),
        .infer = [](const LayerContext& c) { return poolInfer(c, true); },
        .forward = max_pool2d_fwd,
        .backward = max_pool2d_bwd,
    });
    r.add({
        .id = "avg_pool2d",
        .label = "Avg Pool 2D",
        .category = "Convolution",
        .doc = "Mean over square windows of each channel, padding counted as zeros, as PyTorch "
               "nn.AvgPool2d.",
        .inputs = {{"in", "(N, C, H, W)"}},
        .outputs = {{"out", "(N, C, H', W')"}},
        .params = poolParams(),
        .infer = [](const LayerContext& c) { return poolInfer(c, false); },
        .forward = avg_pool2d_fwd,
        .backward = avg_pool2d_bwd,
    });
    r.add({
        .id = "global_avg_pool2d",
        .label = "Global Avg Pool",
        .category = "Convolution",
        .doc = "Mean of each channel over all positions: (N, C, H, W) -> (N, C).",
        .inputs = {{"in", "(N, C, H, W)"}},
        .outputs = {{"out", "(N, C)"}},
        .infer = globalAvgPoolInfer,
        .forward = global_avg_pool2d_fwd,
        .backward = global_avg_pool2d_bwd,
    });
}

}  // namespace strata
