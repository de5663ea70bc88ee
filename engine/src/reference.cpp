// reference_run(): the plan executed on the CPU in f32, step by step, through
// the arena at the planned offsets, so a wrong offset, stride or lifetime shows
// up here as it would on the GPU. Slow and plain on purpose.
#include "strided.hpp"

#include <slipstream/engine/plan.hpp>
#include <slipstream/error.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ss::engine {
namespace {

std::size_t element_size(DType t) { return t == DType::f16 ? 2 : 4; }

// The arena as floats, one per `unit` bytes (the smallest element size), so an
// f16 tensor's element i sits at offset/unit + i and an f32 one at + 2i.
class Arena {
public:
    explicit Arena(const Plan& plan) : plan_(plan) {
        unit_ = 4;
        for (const auto& t : plan.tensors)
            if (!t.constant) unit_ = std::min(unit_, element_size(t.dtype));
        data_.assign(plan.arena_bytes / unit_ + 1, std::numeric_limits<float>::quiet_NaN());
    }

    int64_t count(int t) const { return plan_.tensors[t].elements(); }

    float read(int t, int64_t i) const {
        const PlannedTensor& pt = plan_.tensors[t];
        check(t, i);
        if (pt.constant) return plan_.constants[pt.constant_index].values[i];
        return data_[pt.offset / unit_ + i * (element_size(pt.dtype) / unit_)];
    }

    void write(int t, int64_t i, float v) {
        const PlannedTensor& pt = plan_.tensors[t];
        check(t, i);
        if (pt.constant) throw std::logic_error("reference_run: a step writes constant '" + pt.name + "'");
        data_[pt.offset / unit_ + i * (element_size(pt.dtype) / unit_)] = v;
    }

    std::vector<float> load(int t) const {
        std::vector<float> v(count(t));
        for (int64_t i = 0; i < int64_t(v.size()); ++i) v[i] = read(t, i);
        return v;
    }

    void store(int t, const std::vector<float>& v) {
        for (int64_t i = 0; i < int64_t(v.size()); ++i) write(t, i, v[i]);
    }

private:
    void check(int t, int64_t i) const {
        if (i < 0 || i >= count(t))
            throw std::logic_error("reference_run: element " + std::to_string(i) + " outside tensor '" +
                                   plan_.tensors[t].name + "'");
    }

    const Plan& plan_;
    std::size_t unit_ = 4;
    std::vector<float> data_;
};

// [N,C,H,W] dims of an NHWC tensor.
struct Nhwc {
    int64_t n, c, h, w;
    explicit Nhwc(const PlannedTensor& t) : n(t.dims[0]), c(t.dims[1]), h(t.dims[2]), w(t.dims[3]) {
        if (t.dims.size() != 4 || t.layout != Layout::nhwc)
            throw std::logic_error("reference_run: '" + t.name + "' is not a 4-D NHWC tensor");
    }
    int64_t at(int64_t in, int64_t ih, int64_t iw, int64_t ic) const { return ((in * h + ih) * w + iw) * c + ic; }
};

float activate(float v, Activation a, float alpha) {
    switch (a) {
    case Activation::relu: return std::max(v, 0.f);
    case Activation::leaky_relu: return v < 0 ? v * alpha : v;
    case Activation::sigmoid: return 1.f / (1.f + std::exp(-v));
    case Activation::silu: return v / (1.f + std::exp(-v));
    case Activation::none: break;
    }
    return v;
}

void run_conv(const Plan& plan, Arena& arena, const ConvStep& s) {
    const Nhwc x(plan.tensors[s.x]), y(plan.tensors[s.y]);
    const auto& wd = plan.tensors[s.w].dims;  // K, C/g, R, S
    const int64_t k_count = wd[0], cg = wd[1], r_count = wd[2], s_count = wd[3];
    const int64_t kg = k_count / s.groups;
    const std::vector<float> xv = arena.load(s.x), wv = arena.load(s.w);
    const std::vector<float> bias = s.bias >= 0 ? arena.load(s.bias) : std::vector<float>(k_count, 0.f);
    const std::vector<float> residual = s.residual >= 0 ? arena.load(s.residual) : std::vector<float>();
    // Weights as [R][S][C/g][K] so the innermost loop runs over output channels (vectorizes).
    std::vector<float> w(wv.size());
    for (int64_t k = 0; k < k_count; ++k)
        for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < r_count; ++r)
                for (int64_t q = 0; q < s_count; ++q)
                    w[((r * s_count + q) * cg + c) * k_count + k] = wv[((k * cg + c) * r_count + r) * s_count + q];
    const bool depthwise = cg == 1 && kg == 1;
    // Blocks of 4 output pixels along a row share each weight load.
    constexpr int64_t block = 4;
    std::vector<float> out(arena.count(s.y)), acc(block * k_count);
    static const std::vector<float> no_input(1, 0.f);
    for (int64_t n = 0; n < y.n; ++n)
        for (int64_t oh = 0; oh < y.h; ++oh)
            for (int64_t ow0 = 0; ow0 < y.w; ow0 += block) {
                const int64_t pixels = std::min(block, y.w - ow0);
                for (int64_t p = 0; p < block; ++p) std::copy(bias.begin(), bias.end(), acc.begin() + p * k_count);
                for (int64_t r = 0; r < r_count; ++r) {
                    const int64_t ih = oh * s.strides[0] - s.pads[0] + r * s.dilations[0];
                    if (ih < 0 || ih >= x.h) continue;
                    for (int64_t q = 0; q < s_count; ++q) {
                        std::array<const float*, block> xp{};
                        std::array<int64_t, block> x_step{};  // 0 for a pixel in the padding (reads one zero)
                        for (int64_t p = 0; p < block; ++p) {
                            const int64_t iw = (ow0 + p) * s.strides[1] - s.pads[1] + q * s.dilations[1];
                            const bool inside = p < pixels && iw >= 0 && iw < x.w;
                            xp[p] = inside ? &xv[x.at(n, ih, iw, 0)] : no_input.data();
                            x_step[p] = inside ? 1 : 0;
                        }
                        const float* wp = &w[(r * s_count + q) * cg * k_count];
                        if (depthwise) {
                            for (int64_t p = 0; p < pixels; ++p) {
                                if (!x_step[p]) continue;
                                float* a = &acc[p * k_count];
                                for (int64_t k = 0; k < k_count; ++k) a[k] += xp[p][k] * wp[k];
                            }
                            continue;
                        }
                        for (int64_t g = 0; g < s.groups; ++g)
                            for (int64_t c = 0; c < cg; ++c) {
                                const int64_t ci = g * cg + c;
                                const float x0 = xp[0][ci * x_step[0]], x1 = xp[1][ci * x_step[1]];
                                const float x2 = xp[2][ci * x_step[2]], x3 = xp[3][ci * x_step[3]];
                                const float* wk = wp + c * k_count + g * kg;
                                float* a0 = &acc[g * kg];
                                float* a1 = a0 + k_count;
                                float* a2 = a1 + k_count;
                                float* a3 = a2 + k_count;
                                for (int64_t k = 0; k < kg; ++k) {
                                    const float wv_k = wk[k];
                                    a0[k] += x0 * wv_k;
                                    a1[k] += x1 * wv_k;
                                    a2[k] += x2 * wv_k;
                                    a3[k] += x3 * wv_k;
                                }
                            }
                    }
                }
                for (int64_t p = 0; p < pixels; ++p) {
                    const int64_t o = y.at(n, oh, ow0 + p, 0);
                    for (int64_t k = 0; k < k_count; ++k) {
                        const float sum = acc[p * k_count + k] + (residual.empty() ? 0.f : residual[o + k]);
                        out[o + k] = activate(sum, s.activation, s.alpha);
                    }
                }
            }
    arena.store(s.y, out);
}

void run_copy(Arena& arena, const CopyStep& s) {
    for_each_strided(s.dims, s.in_strides, s.in_offset, s.out_strides, s.out_offset,
                     [&](int64_t i, int64_t o) { arena.write(s.out, o, arena.read(s.in, i)); });
}

void run_unary(Arena& arena, const UnaryStep& s) {
    std::vector<float> v = arena.load(s.in);
    for (float& x : v) {
        switch (s.op) {
        case UnaryOp::relu: x = activate(x, Activation::relu, 0); break;
        case UnaryOp::leaky_relu: x = activate(x, Activation::leaky_relu, s.alpha); break;
        case UnaryOp::sigmoid: x = activate(x, Activation::sigmoid, 0); break;
        case UnaryOp::silu: x = activate(x, Activation::silu, 0); break;
        case UnaryOp::exp: x = std::exp(x); break;
        case UnaryOp::identity: break;
        }
    }
    arena.store(s.out, v);
}

void run_binary(Arena& arena, const BinaryStep& s) {
    const std::vector<float> a = arena.load(s.a), b = arena.load(s.b);
    std::vector<float> out(arena.count(s.out));
    if (int64_t(out.size()) != product(s.dims)) throw std::logic_error("reference_run: binary dims do not cover its output");
    const auto out_strides = row_major_strides(s.dims);
    std::vector<int64_t> a_at(out.size());
    for_each_strided(s.dims, s.a_strides, 0, out_strides, 0, [&](int64_t i, int64_t o) { a_at[o] = i; });
    for_each_strided(s.dims, s.b_strides, 0, out_strides, 0, [&](int64_t i, int64_t o) {
        const float x = a.at(a_at[o]), y = b.at(i);
        switch (s.op) {
        case BinaryOp::add: out[o] = x + y; break;
        case BinaryOp::sub: out[o] = x - y; break;
        case BinaryOp::mul: out[o] = x * y; break;
        case BinaryOp::div: out[o] = x / y; break;
        }
    });
    arena.store(s.out, out);
}

// Source coordinate of output pixel `o` along one axis.
float resize_source(ResizeMode mode, int64_t o, int64_t in, int64_t out) {
    const float ratio = float(in) / float(out);
    switch (mode) {
    case ResizeMode::linear_half_pixel: return (float(o) + 0.5f) * ratio - 0.5f;
    case ResizeMode::linear_align_corners: return out == 1 ? 0.f : float(o) * float(in - 1) / float(out - 1);
    case ResizeMode::linear_asymmetric: return float(o) * ratio;
    case ResizeMode::nearest_asymmetric_floor: return float(o * in / out);  // exact integer floor
    }
    return 0.f;
}

void run_resize(const Plan& plan, Arena& arena, const ResizeStep& s) {
    const Nhwc x(plan.tensors[s.in]), y(plan.tensors[s.out]);
    const std::vector<float> xv = arena.load(s.in);
    std::vector<float> out(arena.count(s.out));
    const bool nearest = s.mode == ResizeMode::nearest_asymmetric_floor;
    for (int64_t n = 0; n < y.n; ++n)
        for (int64_t oh = 0; oh < y.h; ++oh)
            for (int64_t ow = 0; ow < y.w; ++ow) {
                float fy = std::clamp(resize_source(s.mode, oh, x.h, y.h), 0.f, float(x.h - 1));
                float fx = std::clamp(resize_source(s.mode, ow, x.w, y.w), 0.f, float(x.w - 1));
                const int64_t y0 = int64_t(fy), x0 = int64_t(fx);
                const int64_t y1 = std::min(y0 + 1, x.h - 1), x1 = std::min(x0 + 1, x.w - 1);
                const float dy = nearest ? 0.f : fy - float(y0), dx = nearest ? 0.f : fx - float(x0);
                for (int64_t c = 0; c < y.c; ++c) {
                    const float top = xv[x.at(n, y0, x0, c)] * (1 - dx) + xv[x.at(n, y0, x1, c)] * dx;
                    const float bottom = xv[x.at(n, y1, x0, c)] * (1 - dx) + xv[x.at(n, y1, x1, c)] * dx;
                    out[y.at(n, oh, ow, c)] = top * (1 - dy) + bottom * dy;
                }
            }
    arena.store(s.out, out);
}

void run_maxpool(const Plan& plan, Arena& arena, const MaxPoolStep& s) {
    const Nhwc x(plan.tensors[s.in]), y(plan.tensors[s.out]);
    const std::vector<float> xv = arena.load(s.in);
    std::vector<float> out(arena.count(s.out));
    for (int64_t n = 0; n < y.n; ++n)
        for (int64_t oh = 0; oh < y.h; ++oh)
            for (int64_t ow = 0; ow < y.w; ++ow)
                for (int64_t c = 0; c < y.c; ++c) {
                    float best = -std::numeric_limits<float>::infinity();
                    for (int64_t r = 0; r < s.kernel[0]; ++r)
                        for (int64_t q = 0; q < s.kernel[1]; ++q) {
                            const int64_t ih = oh * s.strides[0] - s.pads[0] + r, iw = ow * s.strides[1] - s.pads[1] + q;
                            if (ih >= 0 && ih < x.h && iw >= 0 && iw < x.w) best = std::max(best, xv[x.at(n, ih, iw, c)]);
                        }
                    out[y.at(n, oh, ow, c)] = best;
                }
    arena.store(s.out, out);
}

void run_softmax(Arena& arena, const SoftmaxStep& s) {
    std::vector<float> v = arena.load(s.in);
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t i = 0; i < s.inner; ++i) {
            auto at = [&](int64_t a) -> float& { return v[(o * s.axis + a) * s.inner + i]; };
            float top = -std::numeric_limits<float>::infinity(), sum = 0;
            for (int64_t a = 0; a < s.axis; ++a) top = std::max(top, at(a));
            for (int64_t a = 0; a < s.axis; ++a) sum += (at(a) = std::exp(at(a) - top));
            for (int64_t a = 0; a < s.axis; ++a) at(a) /= sum;
        }
    arena.store(s.out, v);
}

void run_matmul(Arena& arena, const MatMulStep& s) {
    const std::vector<float> a = arena.load(s.a), b = arena.load(s.b);
    std::vector<float> out(arena.count(s.out));
    for (int64_t bt = 0; bt < s.batch; ++bt)
        for (int64_t i = 0; i < s.m; ++i)
            for (int64_t j = 0; j < s.n; ++j) {
                float sum = 0;
                for (int64_t k = 0; k < s.k; ++k)
                    sum += a.at(bt * s.a_batch_stride + i * s.k + k) * b.at(bt * s.b_batch_stride + k * s.n + j);
                out.at((bt * s.m + i) * s.n + j) = sum;
            }
    arena.store(s.out, out);
}

}  // namespace

std::vector<std::vector<float>> reference_run(const Plan& plan, const std::vector<float>& input_nchw) {
    Arena arena(plan);
    const PlannedTensor& in = plan.tensors.at(plan.input);
    if (int64_t(input_nchw.size()) != in.elements())
        throw ss::ModelError(plan.model.string() + ": reference_run: the input has " + std::to_string(input_nchw.size()) +
                             " values, the plan needs " + std::to_string(in.elements()));
    // NCHW -> the input's layout.
    View nchw = row_major_view(in.dims);
    std::vector<int64_t> dst = row_major_strides(in.dims);
    if (in.layout == Layout::nhwc) {
        const int64_t c = in.dims[1], h = in.dims[2], w = in.dims[3];
        dst = {h * w * c, 1, w * c, c};
    }
    for_each_strided(nchw.dims, nchw.strides, 0, dst, 0, [&](int64_t i, int64_t o) { arena.write(plan.input, o, input_nchw[i]); });

    for (const Step& step : plan.steps) {
        std::visit(
            [&](const auto& s) {
                using T = std::decay_t<decltype(s)>;
                if constexpr (std::is_same_v<T, ConvStep>) run_conv(plan, arena, s);
                else if constexpr (std::is_same_v<T, CopyStep>) run_copy(arena, s);
                else if constexpr (std::is_same_v<T, UnaryStep>) run_unary(arena, s);
                else if constexpr (std::is_same_v<T, BinaryStep>) run_binary(arena, s);
                else if constexpr (std::is_same_v<T, ResizeStep>) run_resize(plan, arena, s);
                else if constexpr (std::is_same_v<T, MaxPoolStep>) run_maxpool(plan, arena, s);
                else if constexpr (std::is_same_v<T, SoftmaxStep>) run_softmax(arena, s);
                else run_matmul(arena, s);
            },
            step.params);
    }
    std::vector<std::vector<float>> outputs;
    for (int o : plan.outputs) outputs.push_back(arena.load(o));
    return outputs;
}

}  // namespace ss::engine
