#pragma once
// Shape rules of the supported ops, shared by the constant folder and the
// planner so that a folded value and a planned tensor agree by construction.
// Each rule throws ModelError naming file, node and op.
#include "graph.hpp"
#include "strided.hpp"

#include <optional>

namespace ss::engine {

int64_t normalize_axis(const Graph& g, const Node& n, int64_t axis, std::size_t rank);
std::vector<int64_t> as_ints(const HostTensor& t);

// Axes given as attribute (older opsets) or as input `input_index` (newer).
// `input` is that input's constant value, null when absent.
std::optional<std::vector<int64_t>> axes_of(const Node& n, const HostTensor* input);

Dims broadcast_dims(const Graph& g, const Node& n, const Dims& a, const Dims& b);
// A view of `v` broadcast to `out` (numpy rules; stride 0 on broadcast dims).
View broadcast_view(const View& v, const Dims& out);

Dims reshape_dims(const Graph& g, const Node& n, const Dims& in, const HostTensor& shape);
Dims flatten_dims(const Graph& g, const Node& n, const Dims& in);
Dims squeeze_dims(const Graph& g, const Node& n, const Dims& in, const std::optional<std::vector<int64_t>>& axes);
Dims unsqueeze_dims(const Graph& g, const Node& n, const Dims& in, const std::vector<int64_t>& axes);
Dims concat_dims(const Graph& g, const Node& n, const std::vector<Dims>& inputs, int64_t axis);
std::vector<int64_t> transpose_perm(const Graph& g, const Node& n, std::size_t rank);
View transpose_view(const View& v, const std::vector<int64_t>& perm);
// Slice with ONNX's clamping rules; starts/ends/axes/steps as given.
View slice_view(const Graph& g, const Node& n, const View& v, const std::vector<int64_t>& starts,
                const std::vector<int64_t>& ends, std::optional<std::vector<int64_t>> axes,
                std::optional<std::vector<int64_t>> steps);
// Sizes of Split's outputs along `dim` (attribute, input or equal parts).
std::vector<int64_t> split_sizes(const Graph& g, const Node& n, int64_t dim, const HostTensor* split_input);
// Gather of one index along `axis`: the axis is removed.
View select_view(const View& v, std::size_t axis, int64_t index);
Dims expand_dims(const Graph& g, const Node& n, const Dims& in, const HostTensor& shape);

// Evaluates a node whose inputs are all host tensors (null = omitted input).
std::vector<HostTensor> fold_node(const Graph& g, const Node& n, const std::vector<const HostTensor*>& inputs);

// Reads a view out of a host tensor into a new row-major one.
HostTensor materialize(const HostTensor& src, const View& v);

}  // namespace ss::engine
