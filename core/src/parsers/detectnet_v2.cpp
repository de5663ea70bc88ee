// NVIDIA TAO DetectNet_v2 (PeopleNet, TrafficCamNet, DashCamNet), two outputs
// per image (batch dimension stripped):
//   coverage [C, GH, GW]     per-class confidence of each grid cell (sigmoid applied)
//   bbox     [4*C, GH, GW]   per class, four offsets o0..o3 of the box corners
// Grid stride s = input width / GW. With bbox_norm = 35 and a cell centre
// (g_x, g_y) = ((x * s + 0.5) / 35, (y * s + 0.5) / 35), the box in network
// pixels is x1 = (g_x - o0) * 35, y1 = (g_y - o1) * 35, x2 = (g_x + o2) * 35,
// y2 = (g_y + o3) * 35 — the constants of TAO's published post-processing.
// Neighbouring cells fire for one object, so run it with cluster-mode=2 (NMS).
#include "parsers.hpp"
#include "slipstream/error.hpp"

namespace ss {
namespace {

constexpr float bbox_norm = 35.f;
constexpr float cell_offset = 0.5f;

struct Outputs {
    const TensorView* coverage;
    const TensorView* bbox;
};

class DetectNetV2Parser final : public LayoutParser<Outputs> {
    void decode(const Outputs& outputs, const ParserContext& context,
                std::vector<Candidate>& candidates) const override {
        const auto [coverage, bbox] = outputs;
        const auto shape = squeeze_leading(coverage->shape, 3);
        const int grid_h = shape[1], grid_w = shape[2];
        const std::size_t plane = static_cast<std::size_t>(grid_h) * grid_w;
        const float stride = static_cast<float>(context.input_width) / grid_w;
        for (int c = 0; c < context.num_classes; ++c) {
            for (int y = 0; y < grid_h; ++y) {
                for (int x = 0; x < grid_w; ++x) {
                    const std::size_t cell = static_cast<std::size_t>(y) * grid_w + x;
                    const float confidence = coverage->data[c * plane + cell];
                    if (confidence < context.min_confidence) continue;
                    const float gx = (x * stride + cell_offset) / bbox_norm;
                    const float gy = (y * stride + cell_offset) / bbox_norm;
                    const float* o = bbox->data + static_cast<std::size_t>(4 * c) * plane + cell;
                    candidates.push_back({c, confidence, (gx - o[0]) * bbox_norm, (gy - o[plane]) * bbox_norm,
                                          (gx + o[2 * plane]) * bbox_norm, (gy + o[3 * plane]) * bbox_norm});
                }
            }
        }
    }

    Outputs read_layout(const std::vector<TensorView>& outputs, const ParserContext& context) const override {
        const int c = context.num_classes;
        auto fail = [&]() -> ModelError {
            return ModelError("detectnet_v2 parser: expected coverage [" + std::to_string(c) + ", GH, GW] and bbox [" +
                              std::to_string(4 * c) + ", GH, GW] outputs, got " + shapes_to_string(outputs) +
                              " (check num-detected-classes)");
        };
        if (outputs.size() != 2) throw fail();
        for (int first = 0; first < 2; ++first) {
            const auto cov = squeeze_leading(outputs[first].shape, 3), box = squeeze_leading(outputs[1 - first].shape, 3);
            if (cov.size() == 3 && box.size() == 3 && cov[0] == c && box[0] == 4 * c && cov[1] == box[1] &&
                cov[2] == box[2]) {
                return {&outputs[first], &outputs[1 - first]};
            }
        }
        throw fail();
    }
};

}  // namespace

std::unique_ptr<OutputParser> make_detectnet_v2_parser() { return std::make_unique<DetectNetV2Parser>(); }

}  // namespace ss
