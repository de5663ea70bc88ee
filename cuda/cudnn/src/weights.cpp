// Host-only parts of slipstream/cudnn/fused_conv.hpp: shapes, names, f16
// conversion and the weight reorder. No CUDA or cuDNN calls.
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "slipstream/cudnn/fused_conv.hpp"

namespace ss::cudnn {

std::size_t element_size(DataType type) { return type == DataType::f16 ? 2 : 4; }

const char* to_string(Activation act) {
    switch (act) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::leaky_relu: return "leaky_relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::silu: return "silu";
    }
    return "?";
}

const char* to_string(DataType type) { return type == DataType::f16 ? "fp16" : "fp32"; }

void ConvShape::validate() const {
    auto fail = [](const std::string& what) { throw std::invalid_argument("convolution shape: " + what); };
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || k <= 0 || r <= 0 || s <= 0)
        fail("n, c, h, w, k, r, s must be positive");
    if (groups <= 0) fail("groups must be positive");
    if (c % groups != 0 || k % groups != 0)
        fail("c (" + std::to_string(c) + ") and k (" + std::to_string(k) + ") must be multiples of groups (" +
             std::to_string(groups) + ")");
    if (pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0) fail("pads must not be negative");
    if (stride_h <= 0 || stride_w <= 0 || dil_h <= 0 || dil_w <= 0) fail("strides and dilations must be positive");
    if (h + pad_top + pad_bottom < dil_h * (r - 1) + 1 || w + pad_left + pad_right < dil_w * (s - 1) + 1)
        fail("the kernel is larger than the padded input");
}

std::string describe_shape(const ConvShape& sh, DataType type) {
    std::ostringstream o;
    o << sh.r << "x" << sh.s << ", " << sh.c << "->" << sh.k;
    if (sh.groups != 1) o << ", groups " << sh.groups;
    if (sh.stride_h != 1 || sh.stride_w != 1) {
        o << ", stride " << sh.stride_h;
        if (sh.stride_w != sh.stride_h) o << "," << sh.stride_w;
    }
    if (sh.dil_h != 1 || sh.dil_w != 1) {
        o << ", dilation " << sh.dil_h;
        if (sh.dil_w != sh.dil_h) o << "," << sh.dil_w;
    }
    if (sh.pad_top != 0 || sh.pad_left != 0 || sh.pad_bottom != 0 || sh.pad_right != 0)
        o << ", pad " << sh.pad_top << "," << sh.pad_left << "," << sh.pad_bottom << "," << sh.pad_right;
    o << ", " << to_string(type) << " nhwc";
    return o.str();
}

std::uint16_t float_to_half(float value) {
    std::uint32_t f;
    std::memcpy(&f, &value, 4);
    const std::uint32_t sign = (f >> 16) & 0x8000u;
    const std::uint32_t exp = (f >> 23) & 0xFFu;
    std::uint32_t mant = f & 0x7FFFFFu;
    if (exp == 0xFF) {  // inf, NaN (kept quiet and non-zero)
        return static_cast<std::uint16_t>(sign | 0x7C00u | (mant != 0 ? 0x200u | (mant >> 13) : 0u));
    }
    const int e = int(exp) - 127 + 15;  // rebiased exponent
    if (e >= 31) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow
    if (e <= 0) {
        // Subnormal half (or zero): value = m * 2^-24 with m = round(|x| * 2^24).
        if (e < -10) return static_cast<std::uint16_t>(sign);  // below half of the smallest subnormal
        mant |= 0x800000u;                                     // the implicit bit
        const int shift = 14 - e;                              // 14..24
        std::uint32_t m = mant >> shift;
        const std::uint32_t rest = mant & ((1u << shift) - 1u);
        const std::uint32_t half = 1u << (shift - 1);
        if (rest > half || (rest == half && (m & 1u))) ++m;  // may carry into the smallest normal: correct
        return static_cast<std::uint16_t>(sign | m);
    }
    std::uint32_t h = (std::uint32_t(e) << 10) | (mant >> 13);
    const std::uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carry may reach infinity: correct
    return static_cast<std::uint16_t>(sign | h);
}

float half_to_float(std::uint16_t bits) {
    const std::uint32_t sign = std::uint32_t(bits & 0x8000u) << 16;
    const std::uint32_t exp = (bits >> 10) & 0x1Fu;
    std::uint32_t mant = bits & 0x3FFu;
    std::uint32_t f;
    if (exp == 0x1F) {
        f = sign | 0x7F800000u | (mant << 13);
    } else if (exp != 0) {
        f = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    } else if (mant == 0) {
        f = sign;
    } else {  // subnormal: normalise
        int e = -1;
        do {
            mant <<= 1;
            ++e;
        } while ((mant & 0x400u) == 0);
        f = sign | (std::uint32_t(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
    }
    float out;
    std::memcpy(&out, &f, 4);
    return out;
}

std::vector<std::uint8_t> reorder_weights(const std::vector<float>& oihw, const ConvShape& shape, DataType type) {
    // Only the weights' dims matter here (h, w, pads may be left at defaults).
    if (shape.k <= 0 || shape.c <= 0 || shape.r <= 0 || shape.s <= 0 || shape.groups <= 0 ||
        shape.c % shape.groups != 0)
        throw std::invalid_argument("reorder_weights: k, c, r, s, groups must be positive, c a multiple of groups");
    const std::int64_t cg = shape.c / shape.groups;
    if (static_cast<std::int64_t>(oihw.size()) != shape.w_elements())
        throw std::invalid_argument("reorder_weights: " + std::to_string(oihw.size()) + " values for weights [" +
                                    std::to_string(shape.k) + "," + std::to_string(cg) + "," +
                                    std::to_string(shape.r) + "," + std::to_string(shape.s) + "]");
    const std::size_t es = element_size(type);
    std::vector<std::uint8_t> out(oihw.size() * es);
    for (std::int64_t k = 0; k < shape.k; ++k)
        for (std::int64_t c = 0; c < cg; ++c)
            for (std::int64_t r = 0; r < shape.r; ++r)
                for (std::int64_t s = 0; s < shape.s; ++s) {
                    const float v = oihw[static_cast<std::size_t>(((k * cg + c) * shape.r + r) * shape.s + s)];
                    const std::size_t dst =
                        static_cast<std::size_t>(((k * shape.r + r) * shape.s + s) * cg + c) * es;
                    if (type == DataType::f16) {
                        const std::uint16_t h = float_to_half(v);
                        std::memcpy(out.data() + dst, &h, 2);
                    } else {
                        std::memcpy(out.data() + dst, &v, 4);
                    }
                }
    return out;
}

}  // namespace ss::cudnn
