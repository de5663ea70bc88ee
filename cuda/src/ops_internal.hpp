#pragma once
// Host-side pieces shared by the ops' launchers (ops_*.cu) and implemented in
// ops_host.cpp: argument checks that throw ops::Error naming the op, the
// launch check, and the collapsed iteration space handed to strided kernels.
// No CUDA device code here: g++ and nvcc both compile it.
#include <cstdint>
#include <string>

#include "slipstream/cuda/ops.hpp"

namespace ss::cuda::ops::detail {

// Throws Error("ss::cuda::ops::<op>: <what>").
[[noreturn]] void fail(const char* op, const std::string& what);

// After a launch: throws Error naming the op if cudaGetLastError reports one.
void check_launch(const char* op);

void check_not_null(const char* op, const char* what, const void* p);

// Checks a stride set against its dims: same rank, rank <= max_rank.
void check_rank(const char* op, const char* what, const Shape& dims, const Shape& strides);

// The elements an operand touches: [lo, hi], offsets from its pointer.
struct Reach {
    std::int64_t lo = 0, hi = 0;
};

// Checks that every element offset + sum i_d * strides[d] over `dims` lies in
// [0, elements) (int64 arithmetic, overflow is an error too); returns the
// lowest and highest.
Reach check_reach(const char* op, const char* what, std::int64_t elements, std::int64_t offset, const Shape& dims,
                  const Shape& strides);

// Throws unless the bytes of elements [a_reach] of a and [b_reach] of b are
// disjoint (in and out may share one allocation, e.g. an arena base pointer
// with offsets, as long as what they touch does not overlap).
void check_disjoint(const char* op, const void* a, ElementType a_type, Reach a_reach, const void* b,
                    ElementType b_type, Reach b_reach);

// A dense operand of `count` elements must have at least that many.
void check_dense(const char* op, const char* what, std::int64_t elements, std::int64_t count);

// Positive (or zero) sizes whose product fits in int64; returns the product.
std::int64_t checked_product(const char* op, std::initializer_list<std::int64_t> sizes);

// An iteration space after collapse_dims and up to three stride sets with their
// base offsets; plain data, passed by value to kernels. strides[s][d] belongs to
// operand s (meaning fixed by each op).
struct StridedGeometry {
    int rank = 0;
    std::int64_t dims[max_rank] = {};
    std::int64_t strides[3][max_rank] = {};
    std::int64_t base[3] = {};
};

// The tiled-transpose plan of a copy: dim p is contiguous in the input and
// dim q (the innermost) in the output; the other dims ("rest", up to
// max_rank - 2) are walked one tile row at a time.
struct TransposeGeometry {
    std::int64_t p_size = 0, q_size = 0;
    std::int64_t in_p = 0, in_q = 0, out_p = 0, out_q = 0;  // strides
    int rest_rank = 0;
    std::int64_t rest_dims[max_rank] = {};
    std::int64_t rest_in[max_rank] = {}, rest_out[max_rank] = {};
    std::int64_t rest_count = 1;
    std::int64_t in_base = 0, out_base = 0;
};

// Smallest p and q sides worth a shared-memory tile (32 x 32).
constexpr std::int64_t transpose_min_side = 16;

// Fills `t` and returns true if the collapsed copy (strides[0] = in,
// strides[1] = out) is a transpose the tiled kernel should do.
bool plan_transpose(const StridedGeometry& g, TransposeGeometry& t);

// Checks dims (rank, no negative size) and returns their product.
std::int64_t checked_count(const char* op, const Shape& dims);

// Dense element-wise op over n elements of `in` into `out` (pointers already
// at the first element): the shared body of unary, convert and dense copies.
// Chooses 4-element memory accesses when both pointers allow. Arguments
// already checked; `op_name` for the launch check.
void launch_dense_unary(const char* op_name, UnaryOp op, float alpha, const void* in, ElementType in_type, void* out,
                        ElementType out_type, std::int64_t n, cudaStream_t stream);

// `p` advanced by `offset` elements of type t.
inline const void* advance(const void* p, ElementType t, std::int64_t offset) {
    return static_cast<const char*>(p) + offset * static_cast<std::int64_t>(element_size(t));
}
inline void* advance(void* p, ElementType t, std::int64_t offset) {
    return static_cast<char*>(p) + offset * static_cast<std::int64_t>(element_size(t));
}

// Blocks for a grid-stride loop over `n` items, `threads` per block.
unsigned grid_blocks(std::int64_t n, int threads);

}  // namespace ss::cuda::ops::detail
