// Ultralytics YOLO ONNX exports, one output per image (batch dimension stripped):
//   v5:      [B, 5 + C]  rows of (cx, cy, w, h, objectness, C class scores);
//                        confidence = objectness * class score
//   v8/v11:  [4 + C, B]  columns of (cx, cy, w, h, C class scores), as exported;
//            [B, 4 + C]  the same transposed (some export scripts do this)
// Box centres and sizes are in network-input pixels; scores are probabilities.
// The layout is told apart by which dimension equals 5 + C or 4 + C.
#include "parsers.hpp"
#include "slipstream/error.hpp"

namespace ss {
namespace {

enum class Layout { v5_rows, v8_columns, v8_rows };

struct Output {
    const TensorView* tensor;
    Layout kind;
};

class YoloParser final : public LayoutParser<Output> {
    void decode(const Output& output, const ParserContext& context, std::vector<Candidate>& candidates) const override {
        const Layout kind = output.kind;
        const TensorView& t = *output.tensor;
        const auto shape = squeeze_leading(t.shape, 2);
        const int classes = context.num_classes;
        const int boxes = kind == Layout::v8_columns ? shape[1] : shape[0];
        const int row = shape[kind == Layout::v8_columns ? 0 : 1];
        // Element (box b, field f) lives at b*row + f for rows, f*boxes + b for columns.
        auto at = [&](int b, int f) {
            return kind == Layout::v8_columns ? t.data[static_cast<std::size_t>(f) * boxes + b]
                                              : t.data[static_cast<std::size_t>(b) * row + f];
        };
        const int first_class = kind == Layout::v5_rows ? 5 : 4;
        for (int b = 0; b < boxes; ++b) {
            const float objectness = kind == Layout::v5_rows ? at(b, 4) : 1.f;
            if (objectness < context.min_confidence) continue;
            int best = 0;
            float best_score = at(b, first_class);
            for (int c = 1; c < classes; ++c) {
                const float s = at(b, first_class + c);
                if (s > best_score) best_score = s, best = c;
            }
            const float confidence = objectness * best_score;
            if (confidence < context.min_confidence) continue;
            const float cx = at(b, 0), cy = at(b, 1), w = at(b, 2), h = at(b, 3);
            candidates.push_back({best, confidence, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2});
        }
    }

    Output read_layout(const std::vector<TensorView>& outputs, const ParserContext& context) const override {
        const int c = context.num_classes;
        if (outputs.size() == 1) {
            const auto shape = squeeze_leading(outputs[0].shape, 2);
            if (shape.size() == 2) {
                if (shape[1] == 5 + c) return {&outputs[0], Layout::v5_rows};
                if (shape[0] == 4 + c) return {&outputs[0], Layout::v8_columns};
                if (shape[1] == 4 + c) return {&outputs[0], Layout::v8_rows};
            }
        }
        throw ModelError("yolo parser: expected one output [boxes, " + std::to_string(5 + c) + "] (v5) or [" +
                         std::to_string(4 + c) + ", boxes] (v8/v11) for " + std::to_string(c) +
                         " classes, got " + shapes_to_string(outputs) + " (check num-detected-classes)");
    }
};

}  // namespace

std::unique_ptr<OutputParser> make_yolo_parser() { return std::make_unique<YoloParser>(); }

}  // namespace ss
