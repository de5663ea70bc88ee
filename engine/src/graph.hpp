#pragma once
// The imported ONNX graph: nodes in topological order, constants on the host,
// the one 4-D input with a possibly symbolic batch. Shapes stay symbolic in the
// batch until make_plan() resolves them (shape arithmetic is folded there).
#include <slipstream/engine/plan.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace ss::engine {

// A host tensor: constants, and the values of folded shape arithmetic.
// Integer types (int64, int32, bool) live in `ints`, float types in `floats`.
struct HostTensor {
    Dims dims;
    bool is_int = false;
    std::vector<float> floats;
    std::vector<int64_t> ints;

    int64_t elements() const;
    double at(int64_t i) const { return is_int ? double(ints[i]) : double(floats[i]); }
};

using AttributeValue = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, HostTensor>;

struct Node {
    std::string name;  // the node's name, or its first output when it has none
    std::string op;
    std::vector<std::string> inputs;   // "" = an omitted optional input
    std::vector<std::string> outputs;
    std::map<std::string, AttributeValue> attributes;

    bool has(const std::string& key) const { return attributes.count(key) != 0; }
    int64_t int_attr(const std::string& key, int64_t fallback) const;
    float float_attr(const std::string& key, float fallback) const;
    std::string string_attr(const std::string& key, const std::string& fallback) const;
    std::vector<int64_t> ints_attr(const std::string& key, std::vector<int64_t> fallback = {}) const;
    // The i-th input's name, "" when absent or omitted.
    const std::string& input(std::size_t i) const;
};

struct Graph {
    std::filesystem::path model;
    int opset = 0;
    std::string input_name;
    Dims input_dims;           // [N, C, H, W]; N = -1 when symbolic
    std::vector<Node> nodes;   // topological order
    std::map<std::string, HostTensor> constants;  // initializers and Constant nodes
    std::vector<std::string> outputs;
};

// "model.onnx: node 'name' (Op): what" as a ModelError.
[[noreturn]] void fail_node(const Graph& graph, const Node& node, const std::string& what);
[[noreturn]] void fail_model(const std::filesystem::path& model, const std::string& what);

}  // namespace ss::engine
