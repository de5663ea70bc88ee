#pragma once
// Strided views: a logical tensor read through element strides from a buffer.
// Transpose, Slice, Split, Gather with constant indices and Expand are all a
// view of their input; the planner turns views into CopySteps over physical
// strides, the folder and reference_run walk them on the host.
#include <slipstream/engine/plan.hpp>

#include <cstdint>
#include <vector>

namespace ss::engine {

struct View {
    Dims dims;                     // logical dims of the view
    std::vector<int64_t> strides;  // elements in the source, per dim
    int64_t offset = 0;
};

inline std::vector<int64_t> row_major_strides(const Dims& dims) {
    std::vector<int64_t> s(dims.size(), 1);
    for (int i = int(dims.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * dims[i + 1];
    return s;
}

inline int64_t product(const Dims& dims, std::size_t from = 0, std::size_t to = ~std::size_t(0)) {
    int64_t n = 1;
    for (std::size_t i = from; i < dims.size() && i < to; ++i) n *= dims[i];
    return n;
}

inline View row_major_view(const Dims& dims) { return {dims, row_major_strides(dims), 0}; }

// Calls visit(in_index, out_index) for every point of `dims`, row major.
template <typename Visit>
void for_each_strided(const std::vector<int64_t>& dims, const std::vector<int64_t>& in_strides, int64_t in_offset,
                      const std::vector<int64_t>& out_strides, int64_t out_offset, Visit&& visit) {
    const std::size_t rank = dims.size();
    for (int64_t d : dims)
        if (d == 0) return;
    if (rank == 0) {
        visit(in_offset, out_offset);
        return;
    }
    std::vector<int64_t> index(rank, 0);
    int64_t in = in_offset, out = out_offset;
    const int64_t inner = dims[rank - 1], in_step = in_strides[rank - 1], out_step = out_strides[rank - 1];
    for (;;) {
        for (int64_t i = 0; i < inner; ++i) visit(in + i * in_step, out + i * out_step);
        // Advance the outer dims like an odometer.
        int d = int(rank) - 2;
        for (; d >= 0; --d) {
            in += in_strides[d];
            out += out_strides[d];
            if (++index[d] < dims[d]) break;
            in -= in_strides[d] * dims[d];
            out -= out_strides[d] * dims[d];
            index[d] = 0;
        }
        if (d < 0) return;
    }
}

}  // namespace ss::engine
