#include "slipstream/config.hpp"

#include <glib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "slipstream/backend.hpp"
#include "slipstream/error.hpp"
#include "slipstream/log.hpp"
#include "slipstream/output_parser.hpp"

namespace fs = std::filesystem;

namespace ss {
namespace {

// Config and label files are small; anything larger is a mistake or an attack.
constexpr std::uintmax_t max_text_file_bytes = 1 << 20;

std::string read_text_file(const fs::path& file, const char* what) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        throw ConfigError(file.string() + ": " + what + " not found (check the path)");
    }
    const auto size = fs::file_size(file, ec);
    if (ec || size > max_text_file_bytes) {
        throw ConfigError(file.string() + ": " + what + " is larger than 1 MiB; is this the right file?");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) throw ConfigError(file.string() + ": cannot read " + what);
    return text.str();
}

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

// GKeyFile reports neither line numbers nor positions of bad values, so the
// text is indexed here once: the line of every key, and the first line that is
// not a group header, key=value pair, comment or blank.
struct LineIndex {
    std::map<std::pair<std::string, std::string>, int> key_line;
    std::map<std::string, int> group_line;
    int first_bad_line = 0;

    explicit LineIndex(const std::string& text) {
        std::istringstream in(text);
        std::string line, group;
        for (int number = 1; std::getline(in, line); ++number) {
            const std::string t = trim(line);
            if (t.empty() || t[0] == '#') continue;
            if (t.front() == '[') {
                if (t.back() != ']') {
                    if (!first_bad_line) first_bad_line = number;
                    continue;
                }
                group = t.substr(1, t.size() - 2);
                group_line.emplace(group, number);
            } else if (const auto eq = t.find('='); eq != std::string::npos && eq > 0) {
                // GKeyFile reads the last of repeated keys, so point at that one.
                key_line[std::make_pair(group, trim(t.substr(0, eq)))] = number;
            } else if (!first_bad_line) {
                first_bad_line = number;
            }
        }
    }
};

class IniReader {
public:
    explicit IniReader(const fs::path& file) : file_(file), keyfile_(g_key_file_new(), g_key_file_free) {
        const std::string text = read_text_file(file, "config file");
        index_ = std::make_unique<LineIndex>(text);
        GError* error = nullptr;
        if (!g_key_file_load_from_data(keyfile_.get(), text.data(), text.size(), G_KEY_FILE_NONE, &error)) {
            std::string reason = error ? error->message : "unreadable";
            g_clear_error(&error);
            const int line = index_->first_bad_line;
            throw ConfigError(file.string() + (line ? ":" + std::to_string(line) : "") +
                              ": not a valid INI file (" + reason + ")");
        }
    }

    bool has_group(const std::string& group) const { return g_key_file_has_group(keyfile_.get(), group.c_str()); }

    std::vector<std::string> groups() const { return string_list(g_key_file_get_groups(keyfile_.get(), nullptr)); }

    std::vector<std::string> keys(const std::string& group) const {
        return string_list(g_key_file_get_keys(keyfile_.get(), group.c_str(), nullptr, nullptr));
    }

    std::optional<std::string> value(const std::string& group, const std::string& key) const {
        gchar* raw = g_key_file_get_value(keyfile_.get(), group.c_str(), key.c_str(), nullptr);
        if (!raw) return std::nullopt;
        std::string v = trim(raw);
        g_free(raw);
        return v;
    }

    std::string where(const std::string& group, const std::string& key = {}) const {
        int line = 0;
        if (!key.empty()) {
            auto it = index_->key_line.find({group, key});
            if (it != index_->key_line.end()) line = it->second;
        } else if (auto it = index_->group_line.find(group); it != index_->group_line.end()) {
            line = it->second;
        }
        return line ? file_.string() + ":" + std::to_string(line) : file_.string();
    }

    [[noreturn]] void fail(const std::string& group, const std::string& key, const std::string& what) const {
        throw ConfigError(where(group, key) + ": " + key + ": " + what);
    }

    std::optional<long> integer(const std::string& group, const std::string& key, long min, long max) const {
        auto v = value(group, key);
        if (!v) return std::nullopt;
        errno = 0;
        char* end = nullptr;
        const long n = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0' || errno == ERANGE) fail(group, key, "'" + *v + "' is not an integer");
        if (n < min || n > max) {
            fail(group, key, std::to_string(n) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
        }
        return n;
    }

    static std::optional<float> parse_float(const std::string& s) {
        errno = 0;
        char* end = nullptr;
        const float f = std::strtof(s.c_str(), &end);
        if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(f)) return std::nullopt;
        return f;
    }

    std::optional<float> number(const std::string& group, const std::string& key, float min, float max) const {
        auto v = value(group, key);
        if (!v) return std::nullopt;
        auto f = parse_float(*v);
        if (!f) fail(group, key, "'" + *v + "' is not a number");
        if (*f < min || *f > max) fail(group, key, *v + " is out of range");
        return f;
    }

    std::optional<bool> boolean(const std::string& group, const std::string& key) const {
        auto v = value(group, key);
        if (!v) return std::nullopt;
        if (*v == "1" || *v == "true") return true;
        if (*v == "0" || *v == "false") return false;
        fail(group, key, "'" + *v + "' is not 0 or 1");
    }

    std::vector<std::string> list(const std::string& group, const std::string& key) const {
        std::vector<std::string> items;
        auto v = value(group, key);
        if (!v) return items;
        std::string item;
        std::istringstream in(*v);
        while (std::getline(in, item, ';')) {
            item = trim(item);
            if (!item.empty()) items.push_back(item);
        }
        return items;
    }

    std::vector<float> number_list(const std::string& group, const std::string& key) const {
        std::vector<float> numbers;
        for (const auto& item : list(group, key)) {
            auto f = parse_float(item);
            if (!f) fail(group, key, "'" + item + "' is not a number");
            numbers.push_back(*f);
        }
        return numbers;
    }

    // Items may be written as 3 or 3.0 (as nvinfer accepts); each must be an
    // integer that fits an int: converting a larger float is undefined behaviour.
    std::vector<long> integer_list(const std::string& group, const std::string& key) const {
        std::vector<long> numbers;
        for (const auto& item : list(group, key)) {
            errno = 0;
            char* end = nullptr;
            const double d = std::strtod(item.c_str(), &end);
            if (*end != '\0' || errno == ERANGE || !std::isfinite(d)) fail(group, key, "'" + item + "' is not a number");
            if (d != std::floor(d) || d < std::numeric_limits<int>::min() || d > std::numeric_limits<int>::max()) {
                fail(group, key, "expects integers separated by ';'");
            }
            numbers.push_back(static_cast<long>(d));
        }
        return numbers;
    }

private:
    static std::vector<std::string> string_list(gchar** raw) {
        std::vector<std::string> out;
        for (gchar** p = raw; p && *p; ++p) out.emplace_back(*p);
        g_strfreev(raw);
        return out;
    }

    fs::path file_;
    std::unique_ptr<GKeyFile, decltype(&g_key_file_free)> keyfile_;
    std::unique_ptr<LineIndex> index_;
};

const std::set<std::string> supported_property_keys = {
    "onnx-file", "labelfile-path", "backend", "net-scale-factor", "offsets", "model-color-format",
    "infer-dims", "network-input-order", "batch-size", "interval", "num-detected-classes", "cluster-mode",
    "maintain-aspect-ratio", "symmetric-padding", "filter-out-class-ids", "parse-bbox-func-name",
    "output-blob-names", "gpu-id", "network-mode", "workspace-size", "model-engine-file",
    "parse-on-gpu",
};

const std::set<std::string> supported_class_keys = {
    "pre-cluster-threshold", "threshold", "nms-iou-threshold", "topk", "detected-min-w", "detected-min-h",
    "detected-max-w", "detected-max-h", "roi-top-offset", "roi-bottom-offset",
};

// Collected, not printed: each caller shows them its own way (stderr, element warnings).
void warn(InferConfig& config, const std::string& message) {
    config.warnings.push_back(message);
}

fs::path model_cache_dir() {
    if (const char* cache = std::getenv("SLIPSTREAM_CACHE"); cache && *cache) return fs::path(cache) / "models";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "slipstream" / "models";
    if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "slipstream" / "models";
    return {};
}

// Never throws: a path the OS rejects (too long, a loop of links) is simply not there.
bool path_exists(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec) && !ec;
}

fs::path resolve_relative(const fs::path& config_file, const std::string& value) {
    fs::path p(value);
    return p.is_absolute() ? p : config_file.parent_path() / p;
}

void read_class_attributes(const IniReader& ini, const std::string& group, ClassAttributes& a, InferConfig& config) {
    for (const auto& key : ini.keys(group)) {
        if (!supported_class_keys.count(key)) {
            warn(config, ini.where(group, key) + ": key '" + key + "' in [" + group +
                             "] is not supported by slipstream; ignored");
        }
    }
    // 'threshold' is the legacy name of pre-cluster-threshold; the new name wins.
    if (auto v = ini.number(group, "threshold", 0.f, 1.f)) a.pre_cluster_threshold = *v;
    if (auto v = ini.number(group, "pre-cluster-threshold", 0.f, 1.f)) a.pre_cluster_threshold = *v;
    if (auto v = ini.number(group, "nms-iou-threshold", 0.f, 1.f)) a.nms_iou_threshold = *v;
    if (auto v = ini.integer(group, "topk", -1, 100000)) a.topk = static_cast<int>(*v);
    if (auto v = ini.number(group, "detected-min-w", 0.f, 1e6f)) a.detected_min_w = *v;
    if (auto v = ini.number(group, "detected-min-h", 0.f, 1e6f)) a.detected_min_h = *v;
    if (auto v = ini.number(group, "detected-max-w", 0.f, 1e6f)) a.detected_max_w = *v;
    if (auto v = ini.number(group, "detected-max-h", 0.f, 1e6f)) a.detected_max_h = *v;
    if (auto v = ini.integer(group, "roi-top-offset", 0, 100000)) a.roi_top_offset = static_cast<int>(*v);
    if (auto v = ini.integer(group, "roi-bottom-offset", 0, 100000)) a.roi_bottom_offset = static_cast<int>(*v);
}

int class_id_for(const InferConfig& config, const std::string& name) {
    for (std::size_t i = 0; i < config.labels.size(); ++i) {
        if (g_ascii_strcasecmp(config.labels[i].c_str(), name.c_str()) == 0) return static_cast<int>(i);
    }
    char* end = nullptr;
    const long id = std::strtol(name.c_str(), &end, 10);
    if (!name.empty() && *end == '\0' && id >= 0 && id < config.num_detected_classes) return static_cast<int>(id);
    return -1;
}

void read_class_groups(const IniReader& ini, InferConfig& config) {
    const std::string group = "class-groups";
    config.groups.group_of_class.assign(config.num_detected_classes, -1);
    if (!ini.has_group(group)) return;
    for (const auto& name : ini.keys(group)) {
        const int index = static_cast<int>(config.groups.names.size());
        config.groups.names.push_back(name);
        for (const auto& member : ini.list(group, name)) {
            const int id = class_id_for(config, member);
            if (id < 0) ini.fail(group, name, "'" + member + "' is neither a label in the label file nor a class id");
            config.groups.group_of_class[id] = index;
        }
    }
}

}  // namespace

const std::string& InferConfig::label(int class_id) const {
    static const std::string unknown = "object";
    return class_id >= 0 && class_id < static_cast<int>(labels.size()) ? labels[class_id] : unknown;
}

std::string InferConfig::group_name(int group) const {
    return group >= 0 && group < static_cast<int>(groups.names.size()) ? groups.names[group] : std::string();
}

std::vector<std::string> load_labels(const fs::path& file) {
    const std::string text = read_text_file(file, "label file");
    std::vector<std::string> labels;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) labels.push_back(trim(line));
    while (!labels.empty() && labels.back().empty()) labels.pop_back();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i].empty()) {
            throw ConfigError(file.string() + ":" + std::to_string(i + 1) + ": empty label (one label per line)");
        }
        if (!g_utf8_validate(labels[i].data(), static_cast<gssize>(labels[i].size()), nullptr)) {
            throw ConfigError(file.string() + ":" + std::to_string(i + 1) + ": label is not valid UTF-8");
        }
        // Labels reach the terminal, logs and the overlay: no escape sequences or
        // stray carriage returns (a file with old Mac line endings would otherwise
        // read as one long label).
        if (std::any_of(labels[i].begin(), labels[i].end(), [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f; })) {
            throw ConfigError(file.string() + ":" + std::to_string(i + 1) +
                              ": label contains a control character (one label per line, \\n line endings)");
        }
    }
    return labels;
}

InferConfig load_infer_config(const fs::path& file) {
    const IniReader ini(file);
    InferConfig config;
    config.config_file = file;
    const std::string prop = "property";
    if (!ini.has_group(prop)) throw ConfigError(file.string() + ": no [property] section; is this an nvinfer config file?");

    for (const auto& group : ini.groups()) {
        const bool known = group == prop || group == "class-attrs-all" || group.rfind("class-attrs-", 0) == 0 ||
                           group == "class-groups" || group == "tracker";
        if (!known) warn(config, ini.where(group) + ": section [" + group + "] is not supported by slipstream; ignored");
    }
    for (const auto& key : ini.keys(prop)) {
        if (!supported_property_keys.count(key)) {
            warn(config, ini.where(prop, key) + ": key '" + key + "' is not supported by slipstream; ignored");
        }
    }

    auto onnx = ini.value(prop, "onnx-file");
    if (!onnx || onnx->empty()) throw ConfigError(ini.where(prop) + ": [property] needs onnx-file=<model.onnx>");
    config.onnx_file = resolve_relative(file, *onnx);
    if (!path_exists(config.onnx_file) && !fs::path(*onnx).is_absolute()) {
        // The default model lives in the download cache, not beside the config in the clone.
        const fs::path cached = model_cache_dir() / *onnx;
        if (path_exists(cached)) config.onnx_file = cached;
    }
    if (!path_exists(config.onnx_file)) {
        ini.fail(prop, "onnx-file", "'" + *onnx + "' not found next to the config file or in " +
                                        model_cache_dir().string() + " (run ./setup.sh to fetch the default model)");
    }

    if (auto v = ini.value(prop, "backend")) {
        config.backend = *v;
        config.backend_given = true;
    }
    if (const auto backends = inference_backend_names();
        std::find(backends.begin(), backends.end(), config.backend) == backends.end()) {
        std::string known;
        for (const auto& b : backends) known += (known.empty() ? "" : ", ") + b;
        ini.fail(prop, "backend", "unknown inference backend '" + config.backend + "' (known: " + known + ")");
    }
    if (auto v = ini.number(prop, "net-scale-factor", 0.f, 1e6f)) config.net_scale_factor = *v;
    if (ini.value(prop, "offsets")) {
        auto offsets = ini.number_list(prop, "offsets");
        if (offsets.size() != 1 && offsets.size() != 3) ini.fail(prop, "offsets", "expects 1 or 3 numbers separated by ';'");
        for (int c = 0; c < 3; ++c) config.offsets[c] = offsets[offsets.size() == 1 ? 0 : c];
    }
    if (auto v = ini.integer(prop, "model-color-format", 0, 2)) config.model_color_format = static_cast<ColorFormat>(*v);

    const auto dims = ini.integer_list(prop, "infer-dims");
    if (dims.size() != 3) throw ConfigError(ini.where(prop, "infer-dims") + ": infer-dims: expects <channels>;<height>;<width>, e.g. 3;416;416");
    if ((dims[0] != 1 && dims[0] != 3) || dims[1] < 8 || dims[1] > 4096 || dims[2] < 8 || dims[2] > 4096) {
        ini.fail(prop, "infer-dims", "channels must be 1 or 3 and height/width 8..4096");
    }
    config.input_channels = static_cast<int>(dims[0]);
    config.input_height = static_cast<int>(dims[1]);
    config.input_width = static_cast<int>(dims[2]);
    if ((config.input_channels == 1) != (config.model_color_format == ColorFormat::gray)) {
        ini.fail(prop, "model-color-format", "must be 2 (gray) exactly when infer-dims has 1 channel");
    }

    if (auto v = ini.integer(prop, "network-input-order", 0, 1)) config.network_input_order = static_cast<InputOrder>(*v);
    if (auto v = ini.integer(prop, "batch-size", 1, 64)) config.batch_size = static_cast<int>(*v);
    if (auto v = ini.integer(prop, "gpu-id", 0, 63)) config.gpu_id = static_cast<int>(*v);
    if (auto v = ini.integer(prop, "network-mode", 0, 2)) {
        config.network_mode = static_cast<int>(*v);
        if (*v == 1) warn(config, ini.where(prop, "network-mode") + ": network-mode=1 (INT8) is not supported yet; running FP16");
    }
    if (auto v = ini.integer(prop, "workspace-size", 0, 1 << 20)) config.workspace_mb = static_cast<int>(*v);
    if (auto v = ini.integer(prop, "parse-on-gpu", 0, 1)) config.parse_on_gpu = *v != 0;
    if (auto v = ini.value(prop, "model-engine-file"); v && !v->empty()) {
        const fs::path engine(*v);
        config.model_engine_file = engine.is_absolute() ? engine : file.parent_path() / engine;
    }
    if (ini.value(prop, "interval") == "auto") {
        config.interval = InferConfig::interval_auto;
    } else if (auto v = ini.integer(prop, "interval", 0, 1000)) {
        config.interval = static_cast<int>(*v);
    }
    auto classes = ini.integer(prop, "num-detected-classes", 1, 100000);
    if (!classes) throw ConfigError(ini.where(prop) + ": [property] needs num-detected-classes=<N>");
    config.num_detected_classes = static_cast<int>(*classes);

    if (auto v = ini.integer(prop, "cluster-mode", 0, 4)) {
        if (*v != 2 && *v != 4) ini.fail(prop, "cluster-mode", "only 2 (NMS) and 4 (no clustering) are supported");
        config.cluster_mode = static_cast<ClusterMode>(*v);
    }
    if (auto v = ini.boolean(prop, "maintain-aspect-ratio")) config.maintain_aspect_ratio = *v;
    if (auto v = ini.boolean(prop, "symmetric-padding")) config.symmetric_padding = *v;
    for (long id : ini.integer_list(prop, "filter-out-class-ids")) config.filter_out_class_ids.insert(static_cast<int>(id));
    config.output_blob_names = ini.list(prop, "output-blob-names");

    if (auto v = ini.value(prop, "parse-bbox-func-name")) config.parser = *v;
    const auto parsers = output_parser_names();
    if (std::find(parsers.begin(), parsers.end(), config.parser) == parsers.end()) {
        std::string known;
        for (const auto& p : parsers) known += (known.empty() ? "" : ", ") + p;
        ini.fail(prop, "parse-bbox-func-name", "unknown parser '" + config.parser + "' (known: " + known + ")");
    }

    if (auto v = ini.value(prop, "labelfile-path")) {
        config.labelfile_path = resolve_relative(file, *v);
        try {
            config.labels = load_labels(config.labelfile_path);
        } catch (const ConfigError& e) {
            // Say which config names the label file, not only what is wrong with it.
            ini.fail(prop, "labelfile-path", e.what());
        }
        if (static_cast<int>(config.labels.size()) != config.num_detected_classes) {
            throw ConfigError(config.labelfile_path.string() + ": has " + std::to_string(config.labels.size()) +
                              " labels but " + ini.where(prop, "num-detected-classes") + " says num-detected-classes=" +
                              std::to_string(config.num_detected_classes) + "; make them agree");
        }
    } else {
        for (int i = 0; i < config.num_detected_classes; ++i) config.labels.push_back("class" + std::to_string(i));
    }

    if (ini.has_group("class-attrs-all")) read_class_attributes(ini, "class-attrs-all", config.all_classes, config);
    for (const auto& group : ini.groups()) {
        if (group.rfind("class-attrs-", 0) != 0 || group == "class-attrs-all") continue;
        const std::string id_text = group.substr(12);
        char* end = nullptr;
        const long id = std::strtol(id_text.c_str(), &end, 10);
        if (id_text.empty() || *end != '\0' || id < 0 || id >= config.num_detected_classes) {
            throw ConfigError(ini.where(group) + ": [" + group + "]: expected class-attrs-all or class-attrs-<class id 0.." +
                              std::to_string(config.num_detected_classes - 1) + ">");
        }
        ClassAttributes attributes = config.all_classes;
        read_class_attributes(ini, group, attributes, config);
        config.per_class[static_cast<int>(id)] = attributes;
    }

    read_class_groups(ini, config);
    if (ini.has_group("tracker")) {
        for (const auto& key : ini.keys("tracker")) config.tracker[key] = *ini.value("tracker", key);
    }
    return config;
}

fs::path default_config_path() {
    if (const char* env = std::getenv("SLIPSTREAM_DEFAULT_CONFIG"); env && *env) return env;
    return fs::path(SLIPSTREAM_SOURCE_DIR) / "configs" / "default" / "nanodet.txt";
}

}  // namespace ss
