// SSD-style detectors with decoded boxes and per-class scores, two outputs per
// image (batch dimension stripped; extra leading 1-dimensions are ignored):
//   boxes  [B, 4]             (x1, y1, x2, y2) normalised to 0..1 of the input
//   scores [B, C] or [B, C+1] class probabilities; with C+1 columns, column 0
//                             is the background class and is skipped
// The output whose last dimension is 4 is the boxes; if both are, the first is.
#include "parsers.hpp"
#include "slipstream/error.hpp"

namespace ss {
namespace {

struct Outputs {
    const TensorView* boxes;
    const TensorView* scores;
    int skip;  // 1 when scores carry a background column first
};

class SsdParser final : public LayoutParser<Outputs> {
    void decode(const Outputs& outputs, const ParserContext& context,
                std::vector<Candidate>& candidates) const override {
        const auto [boxes, scores, skip] = outputs;
        const int count = squeeze_leading(boxes->shape, 2)[0];
        const int columns = context.num_classes + skip;
        const float w = static_cast<float>(context.input_width), h = static_cast<float>(context.input_height);
        for (int b = 0; b < count; ++b) {
            const float* s = scores->data + static_cast<std::size_t>(b) * columns + skip;
            int best = 0;
            for (int c = 1; c < context.num_classes; ++c) {
                if (s[c] > s[best]) best = c;
            }
            if (s[best] < context.min_confidence) continue;
            const float* box = boxes->data + static_cast<std::size_t>(b) * 4;
            candidates.push_back({best, s[best], box[0] * w, box[1] * h, box[2] * w, box[3] * h});
        }
    }

    Outputs read_layout(const std::vector<TensorView>& outputs, const ParserContext& context) const override {
        auto fail = [&](const std::string& why) -> ModelError {
            return ModelError("ssd parser: " + why + "; expected boxes [B, 4] and scores [B, " +
                              std::to_string(context.num_classes) + " or +1], got " + shapes_to_string(outputs));
        };
        if (outputs.size() != 2) throw fail("needs exactly two outputs");
        const auto a = squeeze_leading(outputs[0].shape, 2), b = squeeze_leading(outputs[1].shape, 2);
        const bool first_is_boxes = a.size() == 2 && a[1] == 4;
        const TensorView* boxes = first_is_boxes ? &outputs[0] : &outputs[1];
        const TensorView* scores = first_is_boxes ? &outputs[1] : &outputs[0];
        const auto box_shape = first_is_boxes ? a : b, score_shape = first_is_boxes ? b : a;
        if (box_shape.size() != 2 || box_shape[1] != 4) throw fail("no output of shape [B, 4]");
        if (score_shape.size() != 2 || score_shape[0] != box_shape[0]) throw fail("scores and boxes disagree on B");
        if (score_shape[1] == context.num_classes) return {boxes, scores, 0};
        if (score_shape[1] == context.num_classes + 1) return {boxes, scores, 1};
        throw fail("score columns do not match num-detected-classes");
    }
};

}  // namespace

std::unique_ptr<OutputParser> make_ssd_parser() { return std::make_unique<SsdParser>(); }

}  // namespace ss
