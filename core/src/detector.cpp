#include "slipstream/detector.hpp"

#include <algorithm>
#include <chrono>

#include <opencv2/core/utility.hpp>

#include "slipstream/error.hpp"
#include "slipstream/nms.hpp"

namespace ss {
namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

InputSpec input_spec_of(const InferConfig& config) {
    InputSpec spec;
    spec.width = config.input_width;
    spec.height = config.input_height;
    spec.channels = config.input_channels;
    spec.bgr = config.model_color_format == ColorFormat::bgr;
    spec.gray = config.model_color_format == ColorFormat::gray;
    spec.net_scale_factor = config.net_scale_factor;
    spec.offsets = config.offsets;
    spec.maintain_aspect_ratio = config.maintain_aspect_ratio;
    spec.symmetric_padding = config.symmetric_padding;
    return spec;
}

ParserContext parser_context_of(const InferConfig& config) {
    ParserContext context;
    context.input_width = config.input_width;
    context.input_height = config.input_height;
    context.num_classes = config.num_detected_classes;
    context.min_confidence = config.all_classes.pre_cluster_threshold;
    for (const auto& [id, attributes] : config.per_class) {
        context.min_confidence = std::min(context.min_confidence, attributes.pre_cluster_threshold);
    }
    return context;
}

Detector::Detector(InferConfig config) : Detector(config, make_inference_backend(config.backend)) {}

Detector::Detector(InferConfig config, std::unique_ptr<InferenceBackend> backend)
    : config_(std::move(config)),
      preprocessor_(config_),
      backend_(std::move(backend)),
      parser_(make_output_parser(config_.parser)) {
    if (!backend_) throw Error("Detector: no inference backend");
    spec_ = input_spec_of(config_);
    context_ = parser_context_of(config_);

    BackendOptions options;
    options.gpu_id = config_.gpu_id.value_or(0);
    options.fp16 = config_.network_mode != 0;
    options.workspace_mb = static_cast<std::size_t>(config_.workspace_mb);
    options.engine_cache = config_.model_engine_file;
    options.max_batch = config_.batch_size;
    options.log = [](LogLevel level, std::string_view message) { ss::log(level, message); };
    backend_->configure(options);
    backend_->load(config_.onnx_file, config_.output_blob_names);
    // One forward pass on a blank image tells the real output shapes, so a model
    // that does not fit the parser fails here, at start, and not on the first frame.
    input_.assign(preprocessor_.floats_per_image(), 0.f);
    const bool nchw = config_.network_input_order == InputOrder::nchw;
    const std::vector<int> shape = nchw ? std::vector<int>{1, config_.input_channels, config_.input_height, config_.input_width}
                                        : std::vector<int>{1, config_.input_height, config_.input_width, config_.input_channels};
    try {
        const auto outputs = backend_->forward({input_.data(), shape});
        const auto views = image_views(outputs, 0);
        parser_->check_outputs(views, context_);
        if (config_.parse_on_gpu && backend_->parses_on_device()) device_plan_ = parser_->device_plan(views, context_);
    } catch (const ModelError& e) {
        const std::string model = config_.onnx_file.string();
        const std::string what = e.what();
        throw ModelError(what.rfind(model, 0) == 0 ? what : model + ": " + what);
    }
}

std::vector<TensorView> image_views(const std::vector<OutputTensor>& outputs, std::size_t index) {
    std::vector<TensorView> views;
    for (const auto& out : outputs) {
        TensorView view;
        view.name = out.name;
        if (out.shape.empty()) throw ModelError("output '" + out.name + "' is a scalar");
        view.shape.assign(out.shape.begin() + 1, out.shape.end());
        view.data = out.data + index * view.size();
        views.push_back(std::move(view));
    }
    return views;
}

std::vector<Detections> Detector::detect(const std::vector<cv::Mat>& images) {
    std::vector<Detections> results(images.size());
    timing_ = {};
    const std::size_t batch = static_cast<std::size_t>(config_.batch_size);
    for (std::size_t first = 0; first < images.size(); first += batch) {
        run_batch(images, first, std::min(batch, images.size() - first), results);
    }
    return results;
}

void Detector::run_batch(const std::vector<cv::Mat>& images, std::size_t first, std::size_t count,
                         std::vector<Detections>& results) {
    auto start = std::chrono::steady_clock::now();
    const std::size_t per_image = preprocessor_.floats_per_image();
    input_.resize(per_image * count);
    std::vector<InputTransform> transforms(count);
    for (std::size_t i = 0; i < count; ++i) transforms[i] = preprocessor_.run(images[first + i], input_.data() + i * per_image);
    timing_.preprocess_ms += elapsed_ms(start);

    start = std::chrono::steady_clock::now();
    const int n = static_cast<int>(count);
    const bool nchw = config_.network_input_order == InputOrder::nchw;
    const std::vector<int> shape = nchw ? std::vector<int>{n, config_.input_channels, config_.input_height, config_.input_width}
                                        : std::vector<int>{n, config_.input_height, config_.input_width, config_.input_channels};
    const auto outputs = backend_->forward({input_.data(), shape});
    timing_.forward_ms += elapsed_ms(start);
    check_batch(outputs, n);

    start = std::chrono::steady_clock::now();
    parse_batch(
        outputs, first, count, [&](std::size_t i) { return transforms[i]; },
        [&](std::size_t i) { return images[first + i].size(); }, results);
    timing_.postprocess_ms += elapsed_ms(start);
}

// Image i's tensors are read at i * (size of one image's tensor): a model whose
// batch dimension does not follow the input (a fixed batch of 1 reshaped with
// -1, say) would send every image after the first past the end of the data.
void Detector::check_batch(const std::vector<OutputTensor>& outputs, int n) const {
    for (const auto& out : outputs) {
        if (out.shape.empty() || out.shape[0] != n) {
            throw ModelError(config_.onnx_file.string() + ": output '" + out.name + "' has shape " +
                             shape_to_string(out.shape) + " for a batch of " + std::to_string(n) +
                             " images; the model does not support batch-size=" + std::to_string(config_.batch_size) +
                             " (use batch-size=1 or a model with a dynamic batch dimension)");
        }
    }
}

std::vector<Detections> Detector::detect_frames(const std::vector<DeviceFrame>& frames,
                                                const std::vector<cv::Size>& report_sizes) {
    if (frames.size() != report_sizes.size()) {
        throw Error("detect_frames: " + std::to_string(frames.size()) + " frames but " +
                    std::to_string(report_sizes.size()) + " report sizes");
    }
    if (!backend_->accepts_device_frames()) {
        throw ModelError("inference backend '" + config_.backend + "' cannot read frames in GPU memory");
    }
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const DeviceFrame& f = frames[i];
        if (f.width <= 0 || f.height <= 0 || !f.luma || !f.chroma || report_sizes[i].width <= 0 ||
            report_sizes[i].height <= 0) {
            throw Error("detect_frames: frame " + std::to_string(i) + " (" + std::to_string(f.width) + "x" +
                        std::to_string(f.height) + ", report size " + std::to_string(report_sizes[i].width) + "x" +
                        std::to_string(report_sizes[i].height) + ") is empty");
        }
    }
    std::vector<Detections> results(frames.size());
    timing_ = {};
    const std::size_t batch = static_cast<std::size_t>(config_.batch_size);
    for (std::size_t first = 0; first < frames.size(); first += batch) {
        run_frames(frames, report_sizes, first, std::min(batch, frames.size() - first), results);
    }
    return results;
}

void Detector::run_frames(const std::vector<DeviceFrame>& frames, const std::vector<cv::Size>& report_sizes,
                          std::size_t first, std::size_t count, std::vector<Detections>& results) {
    // Pre-processing runs inside the backend (on the GPU), counted as forward.
    auto start = std::chrono::steady_clock::now();
    const auto begin = frames.begin() + static_cast<std::ptrdiff_t>(first);
    const std::vector<DeviceFrame> batch(begin, begin + static_cast<std::ptrdiff_t>(count));
    std::vector<OutputTensor> outputs;
    std::vector<std::vector<Candidate>> parsed;
    if (device_plan_.empty()) {
        outputs = backend_->forward_frames(batch, spec_);
        check_batch(outputs, static_cast<int>(count));
    } else {
        parsed = backend_->forward_frames_parsed(batch, spec_, device_plan_, context_);
        if (parsed.size() != count) {
            throw ModelError("inference backend '" + config_.backend + "' parsed " + std::to_string(parsed.size()) +
                             " images of a batch of " + std::to_string(count));
        }
    }
    timing_.forward_ms += elapsed_ms(start);

    start = std::chrono::steady_clock::now();
    // Network -> device-frame pixels as the kernel placed the frame, then
    // device-frame -> report pixels (the same picture at another size): one
    // transform, so clamping and the size filters act in report pixels.
    auto transform_of = [&](std::size_t i) {
        const DeviceFrame& f = frames[first + i];
        const cv::Size report = report_sizes[first + i];
        InputTransform transform = preprocessor_.transform_for({f.width, f.height});
        transform.scale_x *= static_cast<float>(f.width) / static_cast<float>(report.width);
        transform.scale_y *= static_cast<float>(f.height) / static_cast<float>(report.height);
        return transform;
    };
    if (device_plan_.empty()) {
        parse_batch(outputs, first, count, transform_of, [&](std::size_t i) { return report_sizes[first + i]; }, results);
    } else {
        // Thresholds, mapping and NMS over a few candidates per image: one thread is enough.
        for (std::size_t i = 0; i < count; ++i) results[first + i] = finish(parsed[i], transform_of(i), report_sizes[first + i]);
    }
    timing_.postprocess_ms += elapsed_ms(start);
}

// Images side by side on OpenCV's thread pool (one thread on a CPU backend's
// workers, every core beside a GPU backend): a GPU batch of 64 leaves about a
// millisecond of parsing per image, which one thread would make the limit.
void Detector::parse_batch(const std::vector<OutputTensor>& outputs, std::size_t first, std::size_t count,
                           const std::function<InputTransform(std::size_t)>& transform_of,
                           const std::function<cv::Size(std::size_t)>& size_of, std::vector<Detections>& results) const {
    cv::parallel_for_(cv::Range(0, static_cast<int>(count)), [&](const cv::Range& range) {
        std::vector<Candidate> candidates;
        for (int k = range.start; k < range.end; ++k) {
            const auto i = static_cast<std::size_t>(k);
            candidates.clear();
            parser_->parse(image_views(outputs, i), context_, candidates);
            results[first + i] = finish(candidates, transform_of(i), size_of(i));
        }
    });
}

Detections Detector::finish(std::vector<Candidate>& candidates, const InputTransform& transform,
                            const cv::Size& image) const {
    Detections detections;
    const float width = static_cast<float>(image.width), height = static_cast<float>(image.height);
    for (const Candidate& c : candidates) {
        if (c.class_id < 0 || c.class_id >= config_.num_detected_classes) continue;
        if (config_.filter_out_class_ids.count(c.class_id)) continue;
        const ClassAttributes& a = config_.attributes(c.class_id);
        if (c.confidence < a.pre_cluster_threshold) continue;
        const float x1 = std::clamp(transform.to_image_x(c.x1), 0.f, width);
        const float y1 = std::clamp(transform.to_image_y(c.y1), 0.f, height);
        const float x2 = std::clamp(transform.to_image_x(c.x2), 0.f, width);
        const float y2 = std::clamp(transform.to_image_y(c.y2), 0.f, height);
        const Box box{x1, y1, x2 - x1, y2 - y1};
        if (box.width <= 0 || box.height <= 0) continue;
        if (box.width < a.detected_min_w || box.height < a.detected_min_h) continue;
        if ((a.detected_max_w > 0 && box.width > a.detected_max_w) || (a.detected_max_h > 0 && box.height > a.detected_max_h)) {
            continue;
        }
        // As nvinfer: only objects entirely inside the band between the ROI offsets.
        if (box.top < static_cast<float>(a.roi_top_offset) || box.bottom() > height - static_cast<float>(a.roi_bottom_offset)) {
            continue;
        }
        Detection d;
        d.class_id = c.class_id;
        d.group = config_.groups.group_of(c.class_id);
        d.confidence = c.confidence;
        d.box = box;
        detections.push_back(d);
    }
    auto iou_of = [this](int id) {
        return config_.cluster_mode == ClusterMode::nms ? config_.attributes(id).nms_iou_threshold : 1.f;
    };
    auto topk_of = [this](int id) { return config_.attributes(id).topk; };
    return non_maximum_suppression(std::move(detections), iou_of, topk_of);
}

}  // namespace ss
