// ONNX file -> Graph. Everything a plan cannot honour that is visible without
// shapes (unknown ops, attribute values we do not implement, external data,
// the input's form) is refused here, naming file, node and op.
#include "graph.hpp"

#include <slipstream/error.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace ss::engine {

int64_t HostTensor::elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

int64_t PlannedTensor::elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

int64_t Node::int_attr(const std::string& key, int64_t fallback) const {
    auto it = attributes.find(key);
    if (it == attributes.end()) return fallback;
    if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
    return fallback;
}

float Node::float_attr(const std::string& key, float fallback) const {
    auto it = attributes.find(key);
    if (it == attributes.end()) return fallback;
    if (auto* v = std::get_if<float>(&it->second)) return *v;
    return fallback;
}

std::string Node::string_attr(const std::string& key, const std::string& fallback) const {
    auto it = attributes.find(key);
    if (it == attributes.end()) return fallback;
    if (auto* v = std::get_if<std::string>(&it->second)) return *v;
    return fallback;
}

std::vector<int64_t> Node::ints_attr(const std::string& key, std::vector<int64_t> fallback) const {
    auto it = attributes.find(key);
    if (it == attributes.end()) return fallback;
    if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
    return fallback;
}

const std::string& Node::input(std::size_t i) const {
    static const std::string none;
    return i < inputs.size() ? inputs[i] : none;
}

void fail_model(const std::filesystem::path& model, const std::string& what) {
    throw ss::ModelError(model.string() + ": " + what);
}

void fail_node(const Graph& graph, const Node& node, const std::string& what) {
    fail_model(graph.model, "node '" + node.name + "' (" + node.op + "): " + what);
}

namespace {

constexpr int min_opset = 11, max_opset = 21;

// Ops a plan executes, and ops only folded (shape arithmetic on constants).
const std::set<std::string> supported_ops = {
    "Conv", "Relu", "LeakyRelu", "Sigmoid", "Mul", "Add", "Sub", "Div", "Concat", "Split", "Slice",
    "Resize", "Upsample", "MaxPool", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
    "Softmax", "Gather", "MatMul", "Identity", "Constant", "Shape", "Cast", "ConstantOfShape",
    "Range", "Expand", "Exp", "Equal", "Where", "Neg"};

float half_to_float(uint16_t h) {
    const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float magnitude;
    if (exponent == 0) magnitude = std::ldexp(float(mantissa), -24);
    else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
    else magnitude = std::ldexp(float(mantissa | 0x400), int(exponent) - 25);
    return sign ? -magnitude : magnitude;
}

std::string type_name(int type) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type));
}

// Raw little-endian bytes of n elements of T, checked for length.
template <typename T>
std::vector<T> raw_values(const std::string& raw, int64_t n, const std::string& where) {
    if (int64_t(raw.size()) != n * int64_t(sizeof(T)))
        throw std::runtime_error(where + " holds " + std::to_string(raw.size()) + " bytes of data for " +
                                 std::to_string(n) + " elements");
    std::vector<T> out(n);
    if (n) std::memcpy(out.data(), raw.data(), raw.size());
    return out;
}

// TensorProto -> HostTensor; throws std::runtime_error with the reason.
HostTensor to_host(const onnx::TensorProto& t) {
    const std::string where = "tensor '" + t.name() + "'";
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || t.external_data_size() > 0)
        throw std::runtime_error(where + " keeps its data in an external file, which is not supported; "
                                 "re-export the model with its weights inside the .onnx file");
    HostTensor h;
    for (int64_t d : t.dims()) {
        if (d < 0) throw std::runtime_error(where + " has a negative dimension");
        h.dims.push_back(d);
    }
    const int64_t n = h.elements();
    const bool raw = t.has_raw_data();
    auto count_check = [&](int64_t got) {
        if (got != n)
            throw std::runtime_error(where + " holds " + std::to_string(got) + " values for " + std::to_string(n) +
                                     " elements");
    };
    switch (t.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
        if (raw) h.floats = raw_values<float>(t.raw_data(), n, where);
        else { count_check(t.float_data_size()); h.floats.assign(t.float_data().begin(), t.float_data().end()); }
        break;
    case onnx::TensorProto_DataType_DOUBLE: {
        std::vector<double> d;
        if (raw) d = raw_values<double>(t.raw_data(), n, where);
        else { count_check(t.double_data_size()); d.assign(t.double_data().begin(), t.double_data().end()); }
        h.floats.assign(d.begin(), d.end());
        break;
    }
    case onnx::TensorProto_DataType_FLOAT16: {
        std::vector<uint16_t> bits;
        if (raw) bits = raw_values<uint16_t>(t.raw_data(), n, where);
        else { count_check(t.int32_data_size()); for (int32_t v : t.int32_data()) bits.push_back(uint16_t(v)); }
        for (uint16_t b : bits) h.floats.push_back(half_to_float(b));
        break;
    }
    case onnx::TensorProto_DataType_INT64:
        h.is_int = true;
        if (raw) h.ints = raw_values<int64_t>(t.raw_data(), n, where);
        else { count_check(t.int64_data_size()); h.ints.assign(t.int64_data().begin(), t.int64_data().end()); }
        break;
    case onnx::TensorProto_DataType_INT32: {
        h.is_int = true;
        if (raw) { auto v = raw_values<int32_t>(t.raw_data(), n, where); h.ints.assign(v.begin(), v.end()); }
        else { count_check(t.int32_data_size()); h.ints.assign(t.int32_data().begin(), t.int32_data().end()); }
        break;
    }
    case onnx::TensorProto_DataType_BOOL: {
        h.is_int = true;
        if (raw) { auto v = raw_values<uint8_t>(t.raw_data(), n, where); h.ints.assign(v.begin(), v.end()); }
        else { count_check(t.int32_data_size()); h.ints.assign(t.int32_data().begin(), t.int32_data().end()); }
        break;
    }
    default:
        throw std::runtime_error(where + " has data type " + type_name(t.data_type()) +
                                 ", which is not supported (float32, float16, int64, int32 are)");
    }
    return h;
}

AttributeValue to_attribute(const onnx::AttributeProto& a) {
    switch (a.type()) {
    case onnx::AttributeProto_AttributeType_INT: return int64_t(a.i());
    case onnx::AttributeProto_AttributeType_FLOAT: return a.f();
    case onnx::AttributeProto_AttributeType_STRING: return a.s();
    case onnx::AttributeProto_AttributeType_INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto_AttributeType_FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case onnx::AttributeProto_AttributeType_TENSOR: return to_host(a.t());
    default:
        throw std::runtime_error("attribute '" + a.name() + "' has a type that is not supported");
    }
}

const char* const what_to_do = "; use backend=opencv or re-export the model";

// Attribute values a plan cannot honour, refused before any shape is known.
void check_node(const Graph& g, const Node& n) {
    auto refuse = [&](const std::string& what) { fail_node(g, n, what + " is not supported by the cuda backend" + what_to_do); };
    const std::string& op = n.op;
    if (op == "Conv") {
        const std::string pad = n.string_attr("auto_pad", "NOTSET");
        if (pad != "NOTSET" && pad != "VALID" && pad != "SAME_UPPER" && pad != "SAME_LOWER")
            refuse("auto_pad '" + pad + "'");
        if (n.has("kernel_shape") && n.ints_attr("kernel_shape").size() != 2) refuse("a convolution that is not 2-D");
    } else if (op == "MaxPool") {
        for (int64_t d : n.ints_attr("dilations")) if (d != 1) refuse("dilations other than 1");
        if (n.ints_attr("kernel_shape").size() != 2) refuse("a pooling that is not 2-D");
        if (n.outputs.size() > 1 && !n.outputs[1].empty()) refuse("the Indices output");
        const std::string pad = n.string_attr("auto_pad", "NOTSET");
        if (pad != "NOTSET" && pad != "VALID" && pad != "SAME_UPPER" && pad != "SAME_LOWER")
            refuse("auto_pad '" + pad + "'");
    } else if (op == "Resize" || op == "Upsample") {
        const std::string mode = n.string_attr("mode", "nearest");
        if (mode != "nearest" && mode != "linear" && mode != "bilinear")
            refuse("mode '" + mode + "'");
        if (op == "Resize") {
            const std::string ct = n.string_attr("coordinate_transformation_mode", "half_pixel");
            if (mode == "linear" && ct != "half_pixel" && ct != "pytorch_half_pixel" && ct != "align_corners" &&
                ct != "asymmetric")
                refuse("linear mode with coordinate_transformation_mode '" + ct + "'");
            if (mode == "nearest" && ct != "asymmetric")
                refuse("nearest mode with coordinate_transformation_mode '" + ct + "' (only asymmetric is)");
            const std::string nm = n.string_attr("nearest_mode", "round_prefer_floor");
            if (mode == "nearest" && nm != "floor") refuse("nearest_mode '" + nm + "' (only floor is)");
            if (n.int_attr("antialias", 0) != 0) refuse("antialias");
            const std::string policy = n.string_attr("keep_aspect_ratio_policy", "stretch");
            if (policy != "stretch") refuse("keep_aspect_ratio_policy '" + policy + "'");
        }
    } else if (op == "Cast") {
        const int64_t to = n.int_attr("to", 0);
        static const std::set<int64_t> known = {onnx::TensorProto_DataType_FLOAT, onnx::TensorProto_DataType_FLOAT16,
                                                onnx::TensorProto_DataType_DOUBLE, onnx::TensorProto_DataType_INT64,
                                                onnx::TensorProto_DataType_INT32, onnx::TensorProto_DataType_BOOL};
        if (!known.count(to)) refuse("a cast to " + type_name(int(to)));
    } else if (op == "Split" || op == "Concat" || op == "Gather" || op == "Softmax" || op == "Flatten") {
        // Axes are checked against ranks in the plan.
    }
}

}  // namespace

std::shared_ptr<const Graph> import_onnx(const std::filesystem::path& model) {
    std::error_code ec;
    if (!std::filesystem::exists(model, ec)) fail_model(model, "no such file");
    if (std::filesystem::is_directory(model, ec)) fail_model(model, "is a directory, not an ONNX model");
    std::ifstream file(model, std::ios::binary);
    if (!file) fail_model(model, "cannot be read: " + std::string(std::strerror(errno)));
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (bytes.empty()) fail_model(model, "is empty, not an ONNX model");

    onnx::ModelProto proto;
    if (!proto.ParseFromString(bytes) || !proto.has_graph() || proto.opset_import_size() == 0 ||
        proto.graph().node_size() == 0)
        fail_model(model, "is not a valid ONNX model (corrupt or truncated?); fetch or export it again");

    auto graph = std::make_shared<Graph>();
    Graph& g = *graph;
    g.model = model;
    for (const auto& set : proto.opset_import())
        if (set.domain().empty() || set.domain() == "ai.onnx") g.opset = int(set.version());
    if (g.opset < min_opset || g.opset > max_opset)
        fail_model(model, "opset " + std::to_string(g.opset) + " is not supported by the cuda backend (" +
                              std::to_string(min_opset) + " to " + std::to_string(max_opset) +
                              " are); re-export the model with one of those or use backend=opencv");

    const auto& gp = proto.graph();
    try {
        for (const auto& init : gp.initializer()) g.constants[init.name()] = to_host(init);
    } catch (const std::runtime_error& e) {
        fail_model(model, e.what());
    }

    // The one input: not an initializer (old exports list initializers as inputs too).
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const auto& in : gp.input())
        if (!g.constants.count(in.name())) inputs.push_back(&in);
    if (inputs.size() != 1)
        fail_model(model, "has " + std::to_string(inputs.size()) +
                              " graph inputs; the cuda backend needs exactly one image input [N,C,H,W]");
    const auto& in = *inputs[0];
    g.input_name = in.name();
    const auto& type = in.type().tensor_type();
    if (!in.type().has_tensor_type() || type.elem_type() != onnx::TensorProto_DataType_FLOAT)
        fail_model(model, "input '" + in.name() + "' is not a float32 tensor; the cuda backend needs a float32 image input [N,C,H,W]");
    if (type.shape().dim_size() != 4)
        fail_model(model, "input '" + in.name() + "' has " + std::to_string(type.shape().dim_size()) +
                              " dimensions; the cuda backend needs a 4-D image input [N,C,H,W]");
    for (int i = 0; i < 4; ++i) {
        const auto& d = type.shape().dim(i);
        const bool fixed = d.has_dim_value() && d.dim_value() > 0;
        if (i == 0) {
            if (fixed && d.dim_value() != 1)
                fail_model(model, "input '" + in.name() + "' fixes the batch at " + std::to_string(d.dim_value()) +
                                      "; the cuda backend needs batch 1 or a symbolic batch (re-export with a dynamic batch)");
            g.input_dims.push_back(fixed ? 1 : -1);
        } else {
            if (!fixed)
                fail_model(model, "input '" + in.name() + "' has a symbolic dimension " + std::to_string(i) +
                                      "; the cuda backend needs fixed C, H and W (re-export with a fixed input size)");
            g.input_dims.push_back(d.dim_value());
        }
    }

    // Nodes: supported, in the default domain, inputs produced before use.
    std::set<std::string> defined = {g.input_name};
    for (const auto& [name, c] : g.constants) defined.insert(name);
    for (const auto& np : gp.node()) {
        Node n;
        n.op = np.op_type();
        n.name = np.name().empty() ? (np.output_size() ? np.output(0) : n.op) : np.name();
        n.inputs.assign(np.input().begin(), np.input().end());
        n.outputs.assign(np.output().begin(), np.output().end());
        if (!np.domain().empty() && np.domain() != "ai.onnx")
            fail_node(g, n, "ops of domain '" + np.domain() + "' are not supported by the cuda backend" + what_to_do);
        if (!supported_ops.count(n.op))
            fail_node(g, n, "op " + n.op + " is not supported by the cuda backend" + what_to_do + " without it");
        try {
            for (const auto& a : np.attribute()) {
                if (a.type() == onnx::AttributeProto_AttributeType_GRAPH ||
                    a.type() == onnx::AttributeProto_AttributeType_GRAPHS)
                    throw std::runtime_error("subgraph attribute '" + a.name() + "' is not supported");
                n.attributes[a.name()] = to_attribute(a);
            }
        } catch (const std::runtime_error& e) {
            fail_node(g, n, e.what());
        }
        for (const auto& i : n.inputs)
            if (!i.empty() && !defined.count(i))
                fail_node(g, n, "input '" + i + "' is produced by no earlier node (graph not in topological order or incomplete)");
        check_node(g, n);
        if (n.op == "Constant") {
            if (n.outputs.size() != 1) fail_node(g, n, "needs exactly one output");
            HostTensor value;
            if (auto* t = n.has("value") ? std::get_if<HostTensor>(&n.attributes["value"]) : nullptr) {
                value = *t;
            } else if (n.has("value_float")) {
                value.floats = {n.float_attr("value_float", 0.f)};
            } else if (n.has("value_floats")) {
                value.floats = std::get<std::vector<float>>(n.attributes["value_floats"]);
                value.dims = {int64_t(value.floats.size())};
            } else if (n.has("value_int")) {
                value.is_int = true;
                value.ints = {n.int_attr("value_int", 0)};
            } else if (n.has("value_ints")) {
                value.is_int = true;
                value.ints = n.ints_attr("value_ints");
                value.dims = {int64_t(value.ints.size())};
            } else {
                fail_node(g, n, "has no value this importer reads (value, value_float(s), value_int(s))");
            }
            g.constants[n.outputs[0]] = std::move(value);
            defined.insert(n.outputs[0]);
            continue;
        }
        for (const auto& o : n.outputs)
            if (!o.empty()) defined.insert(o);
        g.nodes.push_back(std::move(n));
    }

    for (const auto& out : gp.output()) {
        if (!defined.count(out.name())) fail_model(model, "graph output '" + out.name() + "' is produced by no node");
        g.outputs.push_back(out.name());
    }
    if (g.outputs.empty()) fail_model(model, "has no graph outputs");
    return graph;
}

}  // namespace ss::engine
