// backend=cuda: our own executor for ONNX detection models on NVIDIA GPUs.
// import (libonnx) -> plan per batch size (engine/) -> run (cuDNN fused
// convolutions, our kernels) -> CUDA graph per batch size. Batches are rounded
// up to a few sizes (powers of two up to batch-size) so that a changing
// number of cameras does not plan, tune and capture a new graph every time.
//
// Building a size (planning, tuning its convolutions, compiling their
// kernels) takes seconds. load() builds batch 1 and batch-size; the sizes
// between are built by a thread of their own afterwards, and until one is
// ready a batch runs padded to the next size that is: detection starts at
// once and never stops for a build.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine_cache.hpp"
#include "executor.hpp"
#include "slipstream/backend.hpp"
#include "slipstream/cuda/box_decode.hpp"
#include "slipstream/cuda/preprocess.hpp"
#include "slipstream/cuda/stream_wait.hpp"
#include "slipstream/error.hpp"

namespace ss::cuda_backend {
namespace {

// Page-locked host memory for the outputs, handed out with the tensors.
struct PinnedBlock {
    void* data = nullptr;
    explicit PinnedBlock(std::size_t bytes) {
        if (cudaHostAlloc(&data, std::max<std::size_t>(bytes, 1), cudaHostAllocDefault) != cudaSuccess) {
            cudaGetLastError();
            throw ModelError("cuda backend: cannot allocate " + std::to_string(bytes >> 20) + " MB of pinned host memory");
        }
    }
    ~PinnedBlock() { cudaFreeHost(data); }
    PinnedBlock(const PinnedBlock&) = delete;
    PinnedBlock& operator=(const PinnedBlock&) = delete;
};

int bucket_for(int batch, int max_batch) {
    int bucket = 1;
    while (bucket < batch) bucket *= 2;
    return std::max(batch, std::min(bucket, std::max(max_batch, batch)));
}

// Tuning choices shared by every backend of the process (ssinfer runs one per
// worker): the second one rebuilds what the first measured instead of timing again.
std::mutex tuned_mutex;
std::map<std::string, std::string>& tuned_choices() {
    static std::map<std::string, std::string> choices;
    return choices;
}

std::string device_name(int device) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) return "unknown";
    return std::string(prop.name) + " sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
}

class CudaBackend final : public InferenceBackend {
public:
    ~CudaBackend() override {
        stop_building_ = true;
        if (builder_.joinable()) builder_.join();
        executors_.clear();
        if (build_stream_) cudaStreamDestroy(build_stream_);
        if (stream_) cudaStreamDestroy(stream_);
    }

    void configure(const BackendOptions& options) override { options_ = options; }

    void load(const std::filesystem::path& model, const std::vector<std::string>& output_names) override {
        guarded([&] { load_model(model, output_names); });
    }

    std::vector<OutputTensor> forward(const InputTensor& input) override {
        std::vector<OutputTensor> out;
        guarded([&] { out = forward_host(input); });
        return out;
    }

    bool accepts_device_frames() const override { return true; }

    std::vector<OutputTensor> forward_frames(const std::vector<DeviceFrame>& frames, const InputSpec& spec) override {
        std::vector<OutputTensor> out;
        guarded([&] {
            if (frames.empty()) return;
            out = download(run_frames(frames, spec), static_cast<int>(frames.size()));
        });
        return out;
    }

    // Outputs that carry the batch (read per image where they are); load() tells.
    bool parses_on_device() const override { return batch_in_outputs_; }

    std::vector<std::vector<Candidate>> forward_frames_parsed(const std::vector<DeviceFrame>& frames, const InputSpec& spec,
                                                              const DeviceParsePlan& plan,
                                                              const ParserContext& context) override {
        std::vector<std::vector<Candidate>> out;
        guarded([&] {
            if (frames.empty()) return;
            out = decode_on_device(run_frames(frames, spec), static_cast<int>(frames.size()), plan, context);
        });
        return out;
    }

private:
    // What CUDA, cuDNN or our kernels throw reaches callers as ModelError, the
    // error the rest of slipstream reports (and falls back on) for detectors.
    template <typename Fn>
    void guarded(Fn&& fn) {
        try {
            fn();
        } catch (const ss::Error&) {
            throw;
        } catch (const std::exception& e) {
            throw ModelError("backend=cuda: " + model_.filename().string() + ": " + e.what());
        }
    }

    void load_model(const std::filesystem::path& model, const std::vector<std::string>& output_names) {
        model_ = model;
        int devices = 0;
        if (const auto status = cudaGetDeviceCount(&devices); status != cudaSuccess || devices == 0) {
            cudaGetLastError();
            throw ModelError("backend=cuda: no usable NVIDIA GPU (" +
                             std::string(status == cudaSuccess ? "none found" : cudaGetErrorString(status)) +
                             "); use backend=opencv");
        }
        if (options_.gpu_id < 0 || options_.gpu_id >= devices) {
            throw ModelError("backend=cuda: gpu-id " + std::to_string(options_.gpu_id) + " does not exist (" +
                             std::to_string(devices) + " GPU(s): 0.." + std::to_string(devices - 1) + ")");
        }
        select_device();
        check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating a stream");
        check_cuda(cudaStreamCreateWithFlags(&build_stream_, cudaStreamNonBlocking), "creating a stream");
        if (std::string why; !cudnn::available(&why)) throw ModelError("backend=cuda: " + why);
        graph_ = engine::import_onnx(model);
        const auto key = make_cache_key(model, device_name(options_.gpu_id), cudnn::runtime_version(), options_.fp16);
        cache_ = std::make_unique<EngineCache>(options_.engine_cache, key);
        context_.device = options_.gpu_id;
        context_.workspace_limit = options_.workspace_mb ? options_.workspace_mb << 20 : std::size_t(1) << 30;
        context_.cancelled = &stop_building_;
        const std::string scope = key.gpu + "|" + key.precision + "|" + key.model + "|";
        context_.cached_choice = [this, scope](const std::string& conv, const std::string& any_batch) {
            if (auto cached = cache_->choice(conv); !cached.empty()) return cached;
            const std::lock_guard lock(tuned_mutex);
            auto it = tuned_choices().find(scope + conv);
            if (it == tuned_choices().end()) it = tuned_choices().find(scope + "any batch|" + any_batch);
            return it == tuned_choices().end() ? std::string() : it->second;
        };
        context_.remember_choice = [this, scope](const std::string& conv, const std::string& any_batch,
                                                 const std::string& choice) {
            cache_->remember(conv, choice);
            const std::lock_guard lock(tuned_mutex);
            tuned_choices()[scope + conv] = choice;
            tuned_choices().emplace(scope + "any batch|" + any_batch, choice);
        };

        // Batch 1 first: checks the whole model (unsupported ops fail here, at
        // start) and tells whether outputs carry the batch in their first dim.
        const auto& one = executor_for(1);
        const auto& two_plan = engine::make_plan(*graph_, 2, precision());
        batch_in_outputs_ = true;
        for (std::size_t i = 0; i < one.plan().outputs.size(); ++i) {
            const auto& d1 = one.plan().tensors[one.plan().outputs[i]].dims;
            const auto& d2 = two_plan.tensors[two_plan.outputs[i]].dims;
            if (d1.empty() || d1[0] != 1 || d2[0] != 2) batch_in_outputs_ = false;
        }
        pick_outputs(one.plan(), output_names);
        if (options_.max_batch > 1) executor_for(bucket(options_.max_batch));
        save_cache();
        if (batch_in_outputs_ && options_.sizes_between && options_.max_batch > 2) builder_ = std::thread([this] { build_sizes_between(); });
    }

    // The builder thread: batch sizes 2, 4, ... below batch-size, smallest
    // first (few cameras use them most). A size that fails to build is said
    // once; batches keep running padded.
    void build_sizes_between() {
        const auto started = std::chrono::steady_clock::now();
        try {
            select_device();
            for (int size = 2; size < options_.max_batch && !stop_building_; size *= 2) {
                if (ready_executor_at_least(size).plan().batch == size) continue;
                auto plan = engine::make_plan(*graph_, size, precision());
                std::unique_ptr<Executor> executor;
                {
                    const std::lock_guard building(build_mutex_);
                    executor = std::make_unique<Executor>(std::move(plan), context_, build_stream_);
                }
                const std::lock_guard lock(executors_mutex_);
                executors_.emplace(size, std::move(executor));
            }
            save_cache();
            if (!stop_building_) {
                // Said once per backend: how long the start of a fleet runs padded batches.
                char took[32];
                std::snprintf(took, sizeof took, "%.1f",
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
                say(LogLevel::info, "backend=cuda: " + model_.filename().string() + ": the batch sizes between 1 and " +
                                        std::to_string(options_.max_batch) + " built in " + took + " s");
            }
        } catch (const std::exception& e) {
            if (!stop_building_) {
                say(LogLevel::warning, "backend=cuda: " + model_.filename().string() + ": building the batch sizes between 1 and " +
                                           std::to_string(options_.max_batch) + " failed, batches run padded: " + e.what());
            }
        }
    }

    std::vector<OutputTensor> forward_host(const InputTensor& input) {
        const auto& plan1 = executor_for(1).plan();
        const auto& in_dims = plan1.tensors[plan1.input].dims;  // [1, C, H, W]
        if (input.shape.size() != 4 || input.shape[1] != in_dims[1] || input.shape[2] != in_dims[2] ||
            input.shape[3] != in_dims[3] || input.shape[0] < 1) {
            throw ModelError(model_.string() + ": input of shape " + shape_text(input.shape) +
                             " does not fit the model's " + shape_text(in_dims, "N") +
                             " (the cuda backend takes NCHW; set network-input-order=0)");
        }
        const int count = input.shape[0];
        select_device();
        auto& executor = executor_to_run(count);
        const std::size_t bytes = static_cast<std::size_t>(count) * in_dims[1] * in_dims[2] * in_dims[3] * sizeof(float);
        check_cuda(cudaMemcpyAsync(executor.staging(), input.data, bytes, cudaMemcpyHostToDevice, stream_),
                   "copying the input to the GPU");
        profile_once(executor);  // times the steps on whatever input() holds; run() converts the staged input after
        executor.run(stream_, true);
        return download(executor, count);
    }

    // Pre-processes the frames into the batch's input and runs the model; the
    // outputs stay on the GPU, in the returned executor.
    Executor& run_frames(const std::vector<DeviceFrame>& frames, const InputSpec& spec) {
        const auto& plan1 = executor_for(1).plan();
        const auto& in_dims = plan1.tensors[plan1.input].dims;
        if (spec.width != in_dims[3] || spec.height != in_dims[2] || spec.channels != in_dims[1]) {
            throw ModelError(model_.string() + ": infer-dims " + std::to_string(spec.channels) + ";" +
                             std::to_string(spec.height) + ";" + std::to_string(spec.width) +
                             " do not match the model's input " + shape_text(in_dims, "N"));
        }
        const int count = static_cast<int>(frames.size());
        select_device();
        auto& executor = executor_to_run(count);
        cuda::PreprocessParams params;
        params.width = spec.width;
        params.height = spec.height;
        params.channels = spec.channels;
        params.color = spec.gray ? cuda::ColorOrder::gray : spec.bgr ? cuda::ColorOrder::bgr : cuda::ColorOrder::rgb;
        params.resize = !spec.maintain_aspect_ratio ? cuda::Resize::stretch
                        : spec.symmetric_padding   ? cuda::Resize::letterbox_centered
                                                   : cuda::Resize::letterbox;
        params.net_scale_factor = spec.net_scale_factor;
        params.offsets = spec.offsets;
        params.layout = cuda::TensorLayout::nhwc;
        params.type = options_.fp16 ? cuda::TensorType::f16 : cuda::TensorType::f32;
        std::vector<cuda::PreprocessSource> sources;
        sources.reserve(frames.size());
        for (const auto& f : frames) {
            if (f.device != options_.gpu_id) {
                throw ModelError("backend=cuda: a frame on GPU " + std::to_string(f.device) +
                                 " reached the detector on GPU " + std::to_string(options_.gpu_id) +
                                 "; decode and detect on the same GPU (--gpu / gpu-id)");
            }
            sources.push_back(cuda::describe_source(static_cast<const std::uint8_t*>(f.luma), f.luma_pitch,
                                                    static_cast<const std::uint8_t*>(f.chroma), f.chroma_pitch,
                                                    f.width, f.height, params));
        }
        // Descriptors travel as kernel parameters: nothing to upload first.
        cuda::preprocess_nv12_inline(sources.data(), count, params, executor.input(), stream_);
        profile_once(executor);
        executor.run(stream_, false);
        return executor;
    }

    // Runs the parser's plan on the outputs where they are; copies back only
    // the candidates, in the CPU parser's order (image, level, anchor).
    std::vector<std::vector<Candidate>> decode_on_device(Executor& executor, int count, const DeviceParsePlan& parse,
                                                         const ParserContext& context) {
        const auto& plan = executor.plan();
        if (!batch_in_outputs_) {
            throw ModelError(model_.string() + ": the outputs do not carry the batch; set parse-on-gpu=0");
        }
        auto output = [&](int index, std::size_t floats_per_image, const char* what) {
            if (index < 0 || static_cast<std::size_t>(index) >= order_.size()) {
                throw ModelError(model_.string() + ": the parser's plan names output " + std::to_string(index) +
                                 " of " + std::to_string(order_.size()));
            }
            const auto& t = plan.tensors[plan.outputs[order_[index]]];
            if (t.bytes / plan.batch != floats_per_image * sizeof(float)) {
                throw ModelError(model_.string() + ": output '" + plan.output_names[order_[index]] + "' does not hold the " +
                                 what + " the parser's plan expects; set parse-on-gpu=0");
            }
            return static_cast<const float*>(executor.output(order_[index]));
        };
        std::vector<cuda::GflLevel> levels;
        std::size_t anchors = 0;
        for (const auto& l : parse.levels) {
            cuda::GflLevel level;
            level.scores = output(l.scores_output, static_cast<std::size_t>(l.anchors) * context.num_classes, "scores");
            level.boxes = output(l.boxes_output, static_cast<std::size_t>(l.anchors) * 4 * l.bins, "box distributions");
            level.anchors = l.anchors;
            level.bins = l.bins;
            level.stride = l.stride;
            level.grid_width = l.grid_width;
            levels.push_back(level);
            anchors += static_cast<std::size_t>(l.anchors);
        }
        // At most one candidate per anchor: the buffer never overflows. On the
        // GPU and in pinned memory alike: the count, then the candidates.
        const std::size_t capacity = anchors * static_cast<std::size_t>(count);
        constexpr std::size_t head = 256;          // the count, the candidates aligned after it
        constexpr std::size_t first_copy = 4096;   // candidates that come back with the count (most batches: all)
        if (!decoded_ || decoded_capacity_ < capacity) {
            decoded_ = std::make_unique<DeviceBuffer>(head + capacity * sizeof(cuda::GflCandidate));
            decoded_host_ = std::make_unique<PinnedBlock>(head + capacity * sizeof(cuda::GflCandidate));
            decoded_capacity_ = capacity;
        }
        auto* device = static_cast<char*>(decoded_->data);
        auto* counter = reinterpret_cast<unsigned*>(device);
        auto* decoded = reinterpret_cast<cuda::GflCandidate*>(device + head);
        auto* host_head = static_cast<char*>(decoded_host_->data);
        auto* host = reinterpret_cast<cuda::GflCandidate*>(host_head + head);
        check_cuda(cudaMemsetAsync(counter, 0, sizeof(unsigned), stream_), "clearing the box count");
        cuda::decode_gfl(levels.data(), static_cast<int>(levels.size()), count, context.num_classes,
                         context.min_confidence, decoded, counter, capacity, stream_);
        const std::size_t first = std::min(capacity, first_copy);
        check_cuda(cudaMemcpyAsync(host_head, device, head + first * sizeof(cuda::GflCandidate), cudaMemcpyDeviceToHost,
                                   stream_),
                   "copying the decoded boxes from the GPU");
        check_cuda(finished_.wait(stream_), "running the model");
        const std::size_t found = std::min<std::size_t>(*reinterpret_cast<unsigned*>(host_head), capacity);
        if (found > first) {
            check_cuda(cudaMemcpyAsync(host + first, decoded + first, (found - first) * sizeof(cuda::GflCandidate),
                                       cudaMemcpyDeviceToHost, stream_),
                       "copying the decoded boxes from the GPU");
            check_cuda(finished_.wait(stream_), "copying the decoded boxes from the GPU");
        }
        std::sort(host, host + found, [](const cuda::GflCandidate& a, const cuda::GflCandidate& b) {
            return std::tie(a.image, a.level, a.anchor) < std::tie(b.image, b.level, b.anchor);
        });
        std::vector<std::vector<Candidate>> result(static_cast<std::size_t>(count));
        for (std::size_t i = 0; i < found; ++i) {
            const auto& c = host[i];
            result[static_cast<std::size_t>(c.image)].push_back({c.class_id, c.confidence, c.x1, c.y1, c.x2, c.y2});
        }
        return result;
    }

    engine::Precision precision() const { return options_.fp16 ? engine::Precision::fp16 : engine::Precision::fp32; }
    int bucket(int count) const {
        return batch_in_outputs_ ? bucket_for(count, std::max(options_.max_batch, 1)) : count;
    }
    void select_device() const { check_cuda(cudaSetDevice(options_.gpu_id), "selecting the GPU"); }

    // The executor for exactly `batch`, built now if there is none (load()
    // only, or models whose outputs do not scale with the batch).
    Executor& executor_for(int batch) {
        {
            const std::lock_guard lock(executors_mutex_);
            auto it = executors_.find(batch);
            if (it != executors_.end()) return *it->second;
        }
        auto plan = engine::make_plan(*graph_, batch, precision());
        std::unique_ptr<Executor> executor;
        {
            const std::lock_guard building(build_mutex_);
            executor = std::make_unique<Executor>(std::move(plan), context_, stream_);
        }
        auto& ref = *executor;
        const std::lock_guard lock(executors_mutex_);
        executors_.emplace(batch, std::move(executor));
        return ref;
    }

    // The smallest ready executor for `count` images or more.
    Executor& ready_executor_at_least(int count) {
        const std::lock_guard lock(executors_mutex_);
        return *executors_.lower_bound(count)->second;
    }

    // What runs a batch of `count`: the smallest ready size that holds it.
    Executor& executor_to_run(int count) {
        if (!batch_in_outputs_ || count > options_.max_batch) return executor_for(bucket(count));
        return ready_executor_at_least(count);
    }

    // SLIPSTREAM_CUDA_PROFILE=1: before the first forward at each batch size,
    // a profile of its steps (Executor::profile), said once.
    void profile_once(Executor& executor) {
        static const bool wanted = [] {
            const char* v = std::getenv("SLIPSTREAM_CUDA_PROFILE");
            return v && *v && std::string(v) != "0";
        }();
        if (!wanted || !profiled_.insert(executor.plan().batch).second) return;
        say(LogLevel::info, "backend=cuda: " + model_.filename().string() + ": profile, " + executor.profile(stream_, 20));
    }

    // Through the program's log sink when core gave one; a module built on its own prints.
    void say(LogLevel level, const std::string& message) const {
        if (options_.log) {
            options_.log(level, message);
        } else {
            std::fprintf(stderr, "%s\n", message.c_str());
        }
    }

    void save_cache() {
        try {
            cache_->save();
        } catch (const ModelError&) {
            // A cache that cannot be written costs tuning time at the next start, nothing else.
        }
    }

    void pick_outputs(const engine::Plan& plan, const std::vector<std::string>& names) {
        order_.clear();
        if (names.empty()) {
            for (std::size_t i = 0; i < plan.outputs.size(); ++i) order_.push_back(static_cast<int>(i));
            return;
        }
        for (const auto& name : names) {
            auto it = std::find(plan.output_names.begin(), plan.output_names.end(), name);
            if (it == plan.output_names.end()) {
                std::string known;
                for (const auto& n : plan.output_names) known += (known.empty() ? "" : ", ") + n;
                throw ModelError(model_.string() + ": output-blob-names: the model has no output '" + name +
                                 "' (it has " + known + ")");
            }
            order_.push_back(static_cast<int>(it - plan.output_names.begin()));
        }
    }

    // Copies the first `count` images' outputs to pinned memory; waits for the GPU.
    std::vector<OutputTensor> download(Executor& executor, int count) {
        const auto& plan = executor.plan();
        std::vector<std::size_t> bytes(order_.size());
        std::size_t total = 0;
        for (std::size_t i = 0; i < order_.size(); ++i) {
            const auto& t = plan.tensors[plan.outputs[order_[i]]];
            bytes[i] = batch_in_outputs_ ? t.bytes / plan.batch * count : t.bytes;
            total += (bytes[i] + 255) & ~std::size_t(255);
        }
        auto block = pinned_block(total);
        std::vector<OutputTensor> outputs;
        std::size_t offset = 0;
        for (std::size_t i = 0; i < order_.size(); ++i) {
            const auto& t = plan.tensors[plan.outputs[order_[i]]];
            auto* host = static_cast<char*>(block->data) + offset;
            check_cuda(cudaMemcpyAsync(host, executor.output(order_[i]), bytes[i], cudaMemcpyDeviceToHost, stream_),
                       "copying outputs from the GPU");
            OutputTensor out;
            out.name = plan.output_names[order_[i]];
            out.shape.assign(t.dims.begin(), t.dims.end());
            if (batch_in_outputs_) out.shape[0] = count;
            out.data = reinterpret_cast<const float*>(host);
            out.owner = block;
            outputs.push_back(std::move(out));
            offset += (bytes[i] + 255) & ~std::size_t(255);
        }
        check_cuda(finished_.wait(stream_), "running the model");
        return outputs;
    }

    // A block nobody holds any more, or a new one: outputs handed out earlier stay valid.
    std::shared_ptr<PinnedBlock> pinned_block(std::size_t bytes) {
        for (auto& [size, block] : pinned_) {
            if (size >= bytes && block.use_count() == 1) return block;
        }
        pinned_.erase(std::remove_if(pinned_.begin(), pinned_.end(),
                                     [](const auto& p) { return p.second.use_count() == 1; }),
                      pinned_.end());
        pinned_.emplace_back(bytes, std::make_shared<PinnedBlock>(bytes));
        return pinned_.back().second;
    }

    template <typename Dims>
    static std::string shape_text(const Dims& dims, const char* first = nullptr) {
        std::string s = "[";
        for (std::size_t i = 0; i < dims.size(); ++i) {
            s += (i ? "," : "");
            s += (i == 0 && first) ? std::string(first) : std::to_string(dims[i]);
        }
        return s + "]";
    }

    BackendOptions options_;
    std::filesystem::path model_;
    std::shared_ptr<const engine::Graph> graph_;
    cudaStream_t stream_ = nullptr;        // runs the batches
    cudaStream_t build_stream_ = nullptr;  // tunes the sizes built in the background
    cuda::StreamWait finished_;            // waits for stream_ without spinning a core
    std::set<int> profiled_;               // batch sizes profile_once() has said
    std::unique_ptr<EngineCache> cache_;
    ModelContext context_;                 // used by one build at a time (build_mutex_)
    std::mutex build_mutex_;
    std::mutex executors_mutex_;
    std::map<int, std::unique_ptr<Executor>> executors_;  // by batch size: load()'s, then the builder's
    std::atomic<bool> stop_building_{false};
    std::thread builder_;
    std::vector<int> order_;
    bool batch_in_outputs_ = true;
    std::vector<std::pair<std::size_t, std::shared_ptr<PinnedBlock>>> pinned_;
    // decode_on_device's buffers, kept between batches and grown when a batch needs more.
    std::unique_ptr<DeviceBuffer> decoded_;
    std::unique_ptr<PinnedBlock> decoded_host_;
    std::size_t decoded_capacity_ = 0;  // candidates they hold
};

}  // namespace
}  // namespace ss::cuda_backend

extern "C" __attribute__((visibility("default"))) ss::InferenceBackend* slipstream_create_backend() {
    return new ss::cuda_backend::CudaBackend();
}
