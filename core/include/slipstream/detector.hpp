#pragma once
// The detector: pre-processing, a backend forward pass over a batch, the
// configured output parser, thresholds, NMS and filters. Pure C++, no GStreamer.
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/backend.hpp"
#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"
#include "slipstream/output_parser.hpp"
#include "slipstream/preprocess.hpp"

namespace ss {

struct DetectorTiming {
    double preprocess_ms = 0, forward_ms = 0, postprocess_ms = 0;
};

class Detector {
public:
    // Loads the model and checks its outputs against the parser with one forward
    // pass; throws ModelError with a message naming the model file.
    explicit Detector(InferConfig config);

    // Detects objects in each image (8-bit BGR, BGRA or gray). Boxes are in the
    // pixels of the image they were found in. Images are run in batches of the
    // config's batch-size.
    std::vector<Detections> detect(const std::vector<cv::Mat>& images);
    Detections detect(const cv::Mat& image) { return detect(std::vector<cv::Mat>{image}).front(); }

    const InferConfig& config() const { return config_; }
    const DetectorTiming& last_timing() const { return timing_; }

private:
    void run_batch(const std::vector<cv::Mat>& images, std::size_t first, std::size_t count,
                   std::vector<Detections>& results);
    Detections finish(std::vector<Candidate>& candidates, const InputTransform& transform, const cv::Size& image) const;
    std::vector<TensorView> views_for(const std::vector<OutputTensor>& outputs, std::size_t index) const;

    InferConfig config_;
    Preprocessor preprocessor_;
    std::unique_ptr<InferenceBackend> backend_;
    std::unique_ptr<OutputParser> parser_;
    ParserContext context_;
    std::vector<float> input_;
    DetectorTiming timing_;
};

}  // namespace ss
