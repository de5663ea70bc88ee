#pragma once
// The detector: pre-processing, a backend forward pass over a batch, the
// configured output parser, thresholds, NMS and filters. Pure C++, no GStreamer.
#include <functional>
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

// What a config asks of a backend that pre-processes itself, and of the parser.
InputSpec input_spec_of(const InferConfig& config);
ParserContext parser_context_of(const InferConfig& config);
// Image `index`'s part of a batch's outputs, as the parsers read it (batch dimension stripped).
std::vector<TensorView> image_views(const std::vector<OutputTensor>& outputs, std::size_t index);

class Detector {
public:
    // Loads the model and checks its outputs against the parser with one forward
    // pass; throws ModelError with a message naming the model file.
    explicit Detector(InferConfig config);
    // The same with a backend made by the caller instead of the registry's
    // config.backend (tests give one that records what it was handed).
    Detector(InferConfig config, std::unique_ptr<InferenceBackend> backend);

    // Detects objects in each image (8-bit BGR, BGRA or gray). Boxes are in the
    // pixels of the image they were found in. Images are run in batches of the
    // config's batch-size.
    std::vector<Detections> detect(const std::vector<cv::Mat>& images);
    Detections detect(const cv::Mat& image) { return detect(std::vector<cv::Mat>{image}).front(); }

    // Whether the backend pre-processes NV12 frames in GPU memory itself
    // (detect_frames); otherwise only detect() works.
    bool accepts_device_frames() const { return backend_->accepts_device_frames(); }
    // Detects objects in frames on the GPU. The backend letterboxes or
    // stretches each frame as the config says (ss::cuda::preprocess_nv12, same
    // geometry as Preprocessor); boxes come back in the pixels of
    // report_sizes[i] (the picture the rest of the pipeline shows for that
    // frame: the same scene at another size). Throws ModelError when the
    // backend cannot read device frames, Error on mismatched arguments.
    std::vector<Detections> detect_frames(const std::vector<DeviceFrame>& frames, const std::vector<cv::Size>& report_sizes);
    // The backend's pre-processing settings, from the config.
    const InputSpec& input_spec() const { return spec_; }

    const InferConfig& config() const { return config_; }
    const DetectorTiming& last_timing() const { return timing_; }

private:
    void run_batch(const std::vector<cv::Mat>& images, std::size_t first, std::size_t count,
                   std::vector<Detections>& results);
    void run_frames(const std::vector<DeviceFrame>& frames, const std::vector<cv::Size>& report_sizes, std::size_t first,
                    std::size_t count, std::vector<Detections>& results);
    void check_batch(const std::vector<OutputTensor>& outputs, int n) const;
    // Parses images first..first+count-1 of a batch's outputs into results,
    // image i mapped back with transform_of(i) into a picture of size_of(i).
    void parse_batch(const std::vector<OutputTensor>& outputs, std::size_t first, std::size_t count,
                     const std::function<InputTransform(std::size_t)>& transform_of,
                     const std::function<cv::Size(std::size_t)>& size_of, std::vector<Detections>& results) const;
    Detections finish(std::vector<Candidate>& candidates, const InputTransform& transform, const cv::Size& image) const;

    InferConfig config_;
    Preprocessor preprocessor_;
    std::unique_ptr<InferenceBackend> backend_;
    std::unique_ptr<OutputParser> parser_;
    ParserContext context_;
    DeviceParsePlan device_plan_;  // not empty: detect_frames parses on the backend's device
    std::vector<float> input_;
    InputSpec spec_;
    DetectorTiming timing_;
};

}  // namespace ss
