#pragma once
// Output parsers turn a detector's raw output tensors into candidate boxes.
// One class per model family, one file each under core/src/parsers/, each
// documenting its tensor layout at the top; chosen by name (the config's
// parse-bbox-func-name) from the registry in core/src/parsers/registry.cpp.
#include <memory>
#include <string>
#include <vector>

namespace ss {

// A tensor of one image: the batch dimension is already stripped.
struct TensorView {
    std::string name;
    std::vector<int> shape;
    const float* data = nullptr;

    std::size_t size() const {
        std::size_t n = 1;
        for (int d : shape) n *= static_cast<std::size_t>(d);
        return n;
    }
};

// A candidate before thresholds per class, NMS and mapping back to the image.
// Corners are in network-input pixels.
struct Candidate {
    int class_id;
    float confidence;
    float x1, y1, x2, y2;
};

struct ParserContext {
    int input_width = 0, input_height = 0;
    int num_classes = 0;
    float min_confidence = 0;  // lowest threshold of any class: parsers may skip anything below
};

// A parser's work in plain numbers, for a GPU backend to run where the outputs
// are (candidates come back, a few KB, instead of megabytes of tensors). Only
// NanoDet's GFL head has one; other parsers run on the CPU.
struct DistributionLevel {      // one stride of a GFL head (see parsers/nanodet.cpp)
    int scores_output = 0;      // index into the outputs: [anchors, classes]
    int boxes_output = 0;       // [anchors, 4 * bins]
    int anchors = 0, bins = 0, stride = 0, grid_width = 0;
    bool operator==(const DistributionLevel&) const = default;
};
struct DeviceParsePlan {
    std::vector<DistributionLevel> levels;  // in the CPU parser's order; empty: CPU only
    bool empty() const { return levels.empty(); }
};

class OutputParser {
public:
    virtual ~OutputParser() = default;

    // Throws ModelError explaining which output does not fit this parser's layout.
    // Shapes are per image (batch dimension stripped), in the model's output order.
    virtual void check_outputs(const std::vector<TensorView>& outputs, const ParserContext& context) const = 0;

    virtual void parse(const std::vector<TensorView>& outputs, const ParserContext& context,
                       std::vector<Candidate>& candidates) const = 0;

    // The same work for a GPU backend; its candidates must equal parse()'s,
    // in parse()'s order. Empty when this parser has none.
    virtual DeviceParsePlan device_plan(const std::vector<TensorView>& /*outputs*/, const ParserContext& /*context*/) const {
        return {};
    }
};

std::unique_ptr<OutputParser> make_output_parser(const std::string& name);
std::vector<std::string> output_parser_names();

std::string shape_to_string(const std::vector<int>& shape);
// Every output's shape, for a message that says what a model gave: "[2, 4], [2, 3]".
std::string shapes_to_string(const std::vector<TensorView>& outputs);

}  // namespace ss
