#pragma once
// Detector configuration in nvinfer's INI format, read with GLib's GKeyFile as
// nvinfer does. Key names and meanings follow DeepStream's Gst-nvinfer:
//   [property]          model, pre-processing and clustering settings
//   [class-attrs-all]   thresholds applied to every class
//   [class-attrs-<id>]  per-class overrides
// slipstream adds:
//   [class-groups]      <Group>=<label>;<label>...  counting groups printed and drawn
//   [tracker]           tracker settings (see tracker.hpp)
//   backend=<name>      in [property]: inference backend (default "opencv")
//   parse-on-gpu=0|1    in [property]: a GPU backend parses outputs where they are (default 1)
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ss {

enum class ColorFormat { rgb = 0, bgr = 1, gray = 2 };
enum class InputOrder { nchw = 0, nhwc = 1 };
enum class ClusterMode { nms = 2, none = 4 };

struct ClassAttributes {
    float pre_cluster_threshold = 0.25f;
    float nms_iou_threshold = 0.45f;
    int topk = -1;  // -1 keeps all
    float detected_min_w = 0, detected_min_h = 0;
    float detected_max_w = 0, detected_max_h = 0;  // 0 means no limit
    int roi_top_offset = 0, roi_bottom_offset = 0;
};

struct ClassGroups {
    std::vector<std::string> names;     // in config order, e.g. Vehicle, Cycle, Person, Sign
    std::vector<int> group_of_class;    // class id -> group index or -1

    int group_of(int class_id) const {
        return class_id >= 0 && class_id < static_cast<int>(group_of_class.size()) ? group_of_class[class_id] : -1;
    }
};

struct InferConfig {
    // `interval=auto`: the interval is chosen at run time from the measured
    // frame rate and detection cost (auto_interval.hpp). The config file, the
    // command line and ssinfer's property all mean it with this value.
    static constexpr int interval_auto = -1;

    std::filesystem::path config_file;  // where it was read from; relative paths resolve against its folder

    std::filesystem::path onnx_file;
    std::filesystem::path labelfile_path;
    std::string backend = "opencv";
    bool backend_given = false;   // backend= was in the file; else the app may choose (cuda with --gpu)
    float net_scale_factor = 1.f;
    std::array<float, 3> offsets{0, 0, 0};
    ColorFormat model_color_format = ColorFormat::rgb;
    int input_channels = 3, input_height = 0, input_width = 0;
    InputOrder network_input_order = InputOrder::nchw;
    int batch_size = 1;
    std::optional<int> gpu_id;    // nvinfer's gpu-id: the GPU the app uses when neither --gpu nor GPU_ID says
    // nvinfer's GPU keys, read by GPU backends (the opencv backend ignores them).
    int network_mode = 2;         // 0 fp32, 2 fp16; 1 (INT8) runs fp16 with a warning
    int workspace_mb = 0;         // workspace-size: cap on convolution workspaces in MB; 0 = backend default
    std::filesystem::path model_engine_file;  // cache of the planned engine for one GPU; empty = none
    bool parse_on_gpu = true;     // the parser's DeviceParsePlan on a GPU backend, when it has one
    int interval = 0;             // frames skipped between detections, or interval_auto
    int num_detected_classes = 0;
    ClusterMode cluster_mode = ClusterMode::nms;
    bool maintain_aspect_ratio = false;
    bool symmetric_padding = false;
    std::set<int> filter_out_class_ids;
    std::string parser = "nanodet";
    std::vector<std::string> output_blob_names;

    ClassAttributes all_classes;
    std::map<int, ClassAttributes> per_class;

    std::vector<std::string> labels;
    ClassGroups groups;
    std::map<std::string, std::string> tracker;  // raw [tracker] keys, parsed by the tracker

    std::vector<std::string> warnings;  // unsupported keys and other things the user should see; callers show them

    const ClassAttributes& attributes(int class_id) const {
        auto it = per_class.find(class_id);
        return it == per_class.end() ? all_classes : it->second;
    }
    const std::string& label(int class_id) const;
    std::string group_name(int group) const;
};

// Reads and validates a config file; throws ConfigError("file:line: ...").
InferConfig load_infer_config(const std::filesystem::path& file);

// Reads a label file: one label per line, blank trailing lines ignored.
std::vector<std::string> load_labels(const std::filesystem::path& file);

// The config that ships with slipstream for the default NanoDet model.
std::filesystem::path default_config_path();

}  // namespace ss
