// load_infer_config / load_labels: every supported key, per-class overrides,
// class groups, path resolution, warnings, and the one-line errors.
#include <cstdlib>

#include <gtest/gtest.h>

#include "slipstream/config.hpp"
#include "test_util.hpp"

using namespace sstest;

namespace {

// A model file only has to exist for the config to load; nothing reads it here.
struct ConfigDir : TempDir {
    ConfigDir() {
        write("model.onnx", "");
        write("labels.txt", "person\ncar\nbicycle\n");
    }
    ss::InferConfig load(const std::string& text) const { return ss::load_infer_config(write("config.txt", text)); }
    std::string config_path() const { return (path() / "config.txt").string(); }
};

const char* minimal = "[property]\nonnx-file=model.onnx\ninfer-dims=3;64;64\nnum-detected-classes=3\n";

// Sets an environment variable for one scope, then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old, had_ = true;
        setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (had_) {
            setenv(name_, old_.c_str(), 1);
        } else {
            unsetenv(name_);
        }
    }

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

}  // namespace

TEST(Config, ReadsEveryPropertyKey) {
    ConfigDir dir;
    LogCapture logs;
    const auto c = dir.load(
        "[property]\n"
        "onnx-file=model.onnx\n"
        "labelfile-path=labels.txt\n"
        "backend=opencv\n"
        "net-scale-factor=0.5\n"
        "offsets=1;2.5;3\n"
        "model-color-format=1\n"
        "infer-dims=3;320;256\n"
        "network-input-order=1\n"
        "batch-size=4\n"
        "gpu-id=1\n"
        "interval=2\n"
        "num-detected-classes=3\n"
        "cluster-mode=4\n"
        "maintain-aspect-ratio=1\n"
        "symmetric-padding=true\n"
        "filter-out-class-ids=0;2\n"
        "parse-bbox-func-name=yolo\n"
        "output-blob-names=boxes; scores\n"
        "[tracker]\n"
        "max-age=30\n");
    EXPECT_EQ(c.onnx_file, dir / "model.onnx");
    EXPECT_EQ(c.labelfile_path, dir / "labels.txt");
    EXPECT_EQ(c.backend, "opencv");
    EXPECT_EQ(c.gpu_id, 1);
    EXPECT_FLOAT_EQ(c.net_scale_factor, 0.5f);
    EXPECT_FLOAT_EQ(c.offsets[0], 1.f);
    EXPECT_FLOAT_EQ(c.offsets[1], 2.5f);
    EXPECT_FLOAT_EQ(c.offsets[2], 3.f);
    EXPECT_EQ(c.model_color_format, ss::ColorFormat::bgr);
    EXPECT_EQ(c.input_channels, 3);
    EXPECT_EQ(c.input_height, 320);
    EXPECT_EQ(c.input_width, 256);
    EXPECT_EQ(c.network_input_order, ss::InputOrder::nhwc);
    EXPECT_EQ(c.batch_size, 4);
    EXPECT_EQ(c.interval, 2);
    EXPECT_EQ(c.num_detected_classes, 3);
    EXPECT_EQ(c.cluster_mode, ss::ClusterMode::none);
    EXPECT_TRUE(c.maintain_aspect_ratio);
    EXPECT_TRUE(c.symmetric_padding);
    EXPECT_EQ(c.filter_out_class_ids, (std::set<int>{0, 2}));
    EXPECT_EQ(c.parser, "yolo");
    EXPECT_EQ(c.output_blob_names, (std::vector<std::string>{"boxes", "scores"}));
    EXPECT_EQ(c.labels, (std::vector<std::string>{"person", "car", "bicycle"}));
    EXPECT_EQ(c.tracker.at("max-age"), "30");
    EXPECT_TRUE(c.warnings.empty());
    EXPECT_TRUE(logs.messages.empty());
}

TEST(Config, DefaultsAndShorthands) {
    ConfigDir dir;
    const auto c = dir.load(std::string(minimal) + "offsets=7\ninterval=auto\n");
    EXPECT_EQ(c.backend, "opencv");
    EXPECT_EQ(c.parser, "nanodet");
    EXPECT_EQ(c.batch_size, 1);
    EXPECT_FALSE(c.gpu_id.has_value()) << "no gpu-id: the app decides";
    EXPECT_EQ(c.interval, -1);
    EXPECT_FLOAT_EQ(c.net_scale_factor, 1.f);
    for (float o : c.offsets) EXPECT_FLOAT_EQ(o, 7.f);  // one offset applies to all channels
    EXPECT_EQ(c.model_color_format, ss::ColorFormat::rgb);
    EXPECT_EQ(c.network_input_order, ss::InputOrder::nchw);
    EXPECT_EQ(c.cluster_mode, ss::ClusterMode::nms);
    EXPECT_FALSE(c.maintain_aspect_ratio);
    // Without a label file the classes get numbered names.
    EXPECT_EQ(c.labels, (std::vector<std::string>{"class0", "class1", "class2"}));
    EXPECT_EQ(c.label(1), "class1");
    EXPECT_EQ(c.label(3), "object");
    EXPECT_EQ(c.config_file, dir / "config.txt");
}

TEST(Config, GrayModelNeedsOneChannel) {
    ConfigDir dir;
    const auto c = dir.load("[property]\nonnx-file=model.onnx\ninfer-dims=1;32;48\nmodel-color-format=2\nnum-detected-classes=1\n");
    EXPECT_EQ(c.input_channels, 1);
    EXPECT_EQ(c.model_color_format, ss::ColorFormat::gray);
    const auto e = error_of<ss::ConfigError>([&] {
        dir.load("[property]\nonnx-file=model.onnx\ninfer-dims=3;32;48\nmodel-color-format=2\nnum-detected-classes=1\n");
    });
    EXPECT_TRUE(contains(e, dir.config_path() + ":4: model-color-format")) << e;
}

TEST(Config, ClassAttributesAndOverrides) {
    ConfigDir dir;
    // The per-class section comes first in the file: overrides start from
    // [class-attrs-all] wherever that section is.
    const auto c = dir.load(std::string(minimal) +
                            "[class-attrs-1]\n"
                            "threshold=0.7\n"
                            "topk=5\n"
                            "[class-attrs-all]\n"
                            "pre-cluster-threshold=0.3\n"
                            "nms-iou-threshold=0.6\n"
                            "topk=20\n"
                            "detected-min-w=4\n"
                            "detected-min-h=5\n"
                            "detected-max-w=400\n"
                            "detected-max-h=300\n"
                            "roi-top-offset=10\n"
                            "roi-bottom-offset=20\n"
                            "[class-attrs-2]\n"
                            "pre-cluster-threshold=0.8\n"
                            "threshold=0.1\n");
    const auto& all = c.all_classes;
    EXPECT_FLOAT_EQ(all.pre_cluster_threshold, 0.3f);
    EXPECT_FLOAT_EQ(all.nms_iou_threshold, 0.6f);
    EXPECT_EQ(all.topk, 20);
    EXPECT_FLOAT_EQ(all.detected_min_w, 4);
    EXPECT_FLOAT_EQ(all.detected_min_h, 5);
    EXPECT_FLOAT_EQ(all.detected_max_w, 400);
    EXPECT_FLOAT_EQ(all.detected_max_h, 300);
    EXPECT_EQ(all.roi_top_offset, 10);
    EXPECT_EQ(all.roi_bottom_offset, 20);

    ASSERT_EQ(c.per_class.size(), 2u);
    const auto& one = c.attributes(1);
    EXPECT_FLOAT_EQ(one.pre_cluster_threshold, 0.7f);  // legacy key name
    EXPECT_EQ(one.topk, 5);
    EXPECT_FLOAT_EQ(one.nms_iou_threshold, 0.6f);  // inherited
    EXPECT_EQ(one.roi_bottom_offset, 20);
    EXPECT_FLOAT_EQ(c.attributes(2).pre_cluster_threshold, 0.8f);  // the new name wins over 'threshold'
    EXPECT_FLOAT_EQ(c.attributes(0).pre_cluster_threshold, 0.3f);  // no override: [class-attrs-all]
    EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, ClassGroups) {
    ConfigDir dir;
    const auto c = dir.load(std::string(minimal) +
                            "labelfile-path=labels.txt\n"
                            "[class-groups]\n"
                            "Vehicle=car\n"
                            "Cycle=BICYCLE\n"  // labels match case-insensitively
                            "Person=0\n"       // or by class id
                            "Sign=\n");
    EXPECT_EQ(c.groups.names, (std::vector<std::string>{"Vehicle", "Cycle", "Person", "Sign"}));
    EXPECT_EQ(c.groups.group_of(0), 2);
    EXPECT_EQ(c.groups.group_of(1), 0);
    EXPECT_EQ(c.groups.group_of(2), 1);
    EXPECT_EQ(c.groups.group_of(3), -1);
    EXPECT_EQ(c.groups.group_of(-1), -1);
    EXPECT_EQ(c.group_name(1), "Cycle");
    EXPECT_EQ(c.group_name(9), "");

    const auto e = error_of<ss::ConfigError>([&] {
        dir.load(std::string(minimal) + "labelfile-path=labels.txt\n[class-groups]\nVehicle=car;tram\n");
    });
    EXPECT_TRUE(contains(e, dir.config_path() + ":7: Vehicle: 'tram'")) << e;
}

TEST(Config, RelativePathsResolveAgainstTheConfigFolder) {
    TempDir dir;
    dir.write("models/m.onnx", "");
    dir.write("configs/sub/labels.txt", "a\nb\n");
    const auto file = dir.write("configs/sub/detector.txt",
                                "[property]\nonnx-file=../../models/m.onnx\nlabelfile-path=labels.txt\n"
                                "infer-dims=3;64;64\nnum-detected-classes=2\n");
    const auto c = ss::load_infer_config(file);
    EXPECT_TRUE(fs::equivalent(c.onnx_file, dir / "models/m.onnx"));
    EXPECT_TRUE(fs::equivalent(c.labelfile_path, dir / "configs/sub/labels.txt"));
    EXPECT_EQ(c.labels.size(), 2u);

    // Absolute paths stay as they are.
    const auto abs = dir.write("other/detector.txt", "[property]\nonnx-file=" + (dir / "models/m.onnx").string() +
                                                         "\ninfer-dims=3;64;64\nnum-detected-classes=2\n");
    EXPECT_EQ(ss::load_infer_config(abs).onnx_file, dir / "models/m.onnx");
}

TEST(Config, ModelFallsBackToTheCache) {
    TempDir dir;
    dir.write("cache/models/cached.onnx", "");
    const ScopedEnv env("SLIPSTREAM_CACHE", (dir / "cache").string());
    const auto file = dir.write("c/config.txt", "[property]\nonnx-file=cached.onnx\ninfer-dims=3;64;64\nnum-detected-classes=1\n");
    EXPECT_EQ(ss::load_infer_config(file).onnx_file, dir / "cache/models/cached.onnx");
}

TEST(Config, DefaultConfigLoads) {
    TempDir dir;
    dir.write("models/nanodet-416.onnx", "");  // the cache only has to hold a file of that name
    const ScopedEnv env("SLIPSTREAM_CACHE", dir.path().string());
    const auto c = ss::load_infer_config(ss::default_config_path());
    EXPECT_EQ(c.num_detected_classes, 80);
    EXPECT_EQ(c.labels.size(), 80u);
    EXPECT_EQ(c.label(0), "person");
    EXPECT_EQ(c.input_width, 416);
    EXPECT_EQ(c.groups.names.size(), 4u);
    EXPECT_EQ(c.groups.group_of(0), 2);  // person -> Person
    EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, UnsupportedKeysAndSectionsWarn) {
    ConfigDir dir;
    LogCapture logs;
    const auto c = dir.load(std::string(minimal) +
                            "gie-unique-id=1\n"
                            "[class-attrs-all]\n"
                            "eps=0.2\n"
                            "[custom-section]\n"
                            "x=1\n");
    ASSERT_EQ(c.warnings.size(), 3u);
    std::string all;
    for (const auto& w : c.warnings) all += w + "\n";
    EXPECT_TRUE(contains(all, dir.config_path() + ":5: key 'gie-unique-id'")) << all;
    EXPECT_TRUE(contains(all, dir.config_path() + ":7: key 'eps' in [class-attrs-all]")) << all;
    EXPECT_TRUE(contains(all, dir.config_path() + ":8: section [custom-section]")) << all;
    EXPECT_TRUE(logs.messages.empty());  // collected, not printed: callers show them once, their own way
}

namespace {

// Loads `text` expecting a ConfigError; checks it is one line and contains `expected`.
void expect_config_error(const std::string& text, const std::string& expected, const char* labels = nullptr) {
    ConfigDir dir;
    if (labels) dir.write("labels.txt", labels);
    std::string message = error_of<ss::ConfigError>([&] { dir.load(text); });
    // Messages name the file; the test folder name is random, so compare after it.
    const std::string prefix = dir.path().string() + "/";
    for (auto at = message.find(prefix); at != std::string::npos; at = message.find(prefix)) message.erase(at, prefix.size());
    EXPECT_TRUE(contains(message, expected)) << "message: " << message << "\nexpected: " << expected;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace

TEST(ConfigErrors, MalformedIni) {
    expect_config_error("[property]\nonnx-file=model.onnx\nthis line has no equals sign\n", "config.txt:3: not a valid INI file");
    expect_config_error("[property\nonnx-file=model.onnx\n", "config.txt:1: not a valid INI file");
}

TEST(ConfigErrors, BadNumbers) {
    const std::string base = minimal;
    expect_config_error(base + "net-scale-factor=abc\n", "config.txt:5: net-scale-factor: 'abc' is not a number");
    expect_config_error(base + "batch-size=two\n", "config.txt:5: batch-size: 'two' is not an integer");
    expect_config_error(base + "batch-size=0\n", "config.txt:5: batch-size: 0 is out of range 1..64");
    // A repeated key: the last one counts, and the error points at it.
    expect_config_error(base + "batch-size=2\nbatch-size=x\n", "config.txt:6: batch-size: 'x' is not an integer");
    expect_config_error(base + "offsets=1;x;3\n", "config.txt:5: offsets: 'x' is not a number");
    expect_config_error(base + "offsets=1;2\n", "config.txt:5: offsets: expects 1 or 3 numbers");
    expect_config_error(base + "maintain-aspect-ratio=yes\n", "config.txt:5: maintain-aspect-ratio: 'yes' is not 0 or 1");
    expect_config_error(base + "filter-out-class-ids=1.5\n", "config.txt:5: filter-out-class-ids: expects integers");
    expect_config_error(base + "cluster-mode=1\n", "config.txt:5: cluster-mode: only 2 (NMS) and 4");
    expect_config_error(base + "[class-attrs-all]\npre-cluster-threshold=1.5\n", "config.txt:6: pre-cluster-threshold: 1.5 is out of range");
    expect_config_error(base + "[class-attrs-all]\ntopk=many\n", "config.txt:6: topk: 'many' is not an integer");
    expect_config_error("[property]\nonnx-file=model.onnx\ninfer-dims=3;64\nnum-detected-classes=3\n",
                        "config.txt:3: infer-dims: expects <channels>;<height>;<width>");
    expect_config_error("[property]\nonnx-file=model.onnx\ninfer-dims=3;4;64\nnum-detected-classes=3\n",
                        "config.txt:3: infer-dims: channels must be 1 or 3");
}

TEST(ConfigErrors, UnknownNames) {
    const std::string base = minimal;
    expect_config_error(base + "parse-bbox-func-name=retinanet\n",
                        "config.txt:5: parse-bbox-func-name: unknown parser 'retinanet' (known: ");
    expect_config_error(base + "backend=tensorrt\n", "config.txt:5: backend: unknown inference backend 'tensorrt'");
}

TEST(ConfigErrors, LabelCountMismatch) {
    expect_config_error(std::string(minimal) + "labelfile-path=labels.txt\n",
                        "labels.txt: has 2 labels but config.txt:4 says num-detected-classes=3", "a\nb\n");
}

TEST(ConfigErrors, MissingThings) {
    expect_config_error("# comment\n[property]\ninfer-dims=3;64;64\nnum-detected-classes=3\n",
                        "config.txt:2: [property] needs onnx-file=<model.onnx>");
    expect_config_error("[property]\nonnx-file=missing.onnx\ninfer-dims=3;64;64\nnum-detected-classes=3\n",
                        "config.txt:2: onnx-file: 'missing.onnx' not found");
    expect_config_error("[property]\nonnx-file=model.onnx\ninfer-dims=3;64;64\n", "config.txt:1: [property] needs num-detected-classes");
    expect_config_error("[model]\nonnx-file=model.onnx\n", "config.txt: no [property] section");
    // The label file's own problem, prefixed by the config line that names it.
    expect_config_error(std::string(minimal) + "labelfile-path=nolabels.txt\n",
                        "config.txt:5: labelfile-path: nolabels.txt: label file not found");
    expect_config_error(std::string(minimal) + "labelfile-path=labels.txt\n",
                        "config.txt:5: labelfile-path: labels.txt:2: empty label", "a\n\nb\n");
}

// Found by fuzzing: these used to escape as std::filesystem_error or were
// undefined behaviour (float to integer conversion out of range).
TEST(ConfigErrors, FuzzRegressions) {
    const std::string base = "[property]\nonnx-file=model.onnx\nnum-detected-classes=3\n";
    expect_config_error(base + "infer-dims=3;64;1e300\n", "config.txt:4: infer-dims: expects integers");
    expect_config_error(base + "infer-dims=3;64;99999999999\n", "config.txt:4: infer-dims: expects integers");
    expect_config_error(base + "infer-dims=3;64;64\nfilter-out-class-ids=-3e9\n",
                        "config.txt:5: filter-out-class-ids: expects integers");
    expect_config_error(base + "infer-dims=3;64;64\nfilter-out-class-ids=1;nan\n",
                        "config.txt:5: filter-out-class-ids: 'nan' is not a number");
    const std::string long_name(300, 'm');  // longer than NAME_MAX: stat() fails with ENAMETOOLONG
    expect_config_error("[property]\nonnx-file=" + long_name + "\ninfer-dims=3;64;64\nnum-detected-classes=3\n",
                        "config.txt:2: onnx-file: '" + long_name + "' not found");
    expect_config_error(std::string(minimal) + "labelfile-path=" + long_name + "\n",
                        "config.txt:5: labelfile-path: " + long_name + ": label file not found");
}

TEST(ConfigErrors, BadClassAttrsSection) {
    const std::string base = minimal;
    expect_config_error(base + "[class-attrs-x]\ntopk=1\n", "config.txt:5: [class-attrs-x]: expected class-attrs-all or class-attrs-<class id 0..2>");
    expect_config_error(base + "[class-attrs-3]\ntopk=1\n", "config.txt:5: [class-attrs-3]");
    expect_config_error(base + "[class-attrs--1]\ntopk=1\n", "config.txt:5: [class-attrs--1]");
    expect_config_error(base + "[class-attrs-]\ntopk=1\n", "config.txt:5: [class-attrs-]");
}

TEST(ConfigErrors, MissingOrHugeConfigFile) {
    TempDir dir;
    auto e = error_of<ss::ConfigError>([&] { ss::load_infer_config(dir / "nope.txt"); });
    EXPECT_TRUE(contains(e, "nope.txt: config file not found")) << e;
    e = error_of<ss::ConfigError>([&] { ss::load_infer_config(dir.path()); });  // a folder
    EXPECT_TRUE(contains(e, "config file not found")) << e;
    const auto big = dir.write("big.txt", std::string(2 << 20, '#'));
    e = error_of<ss::ConfigError>([&] { ss::load_infer_config(big); });
    EXPECT_TRUE(contains(e, "larger than 1 MiB")) << e;
}

TEST(Labels, OneLabelPerLine) {
    TempDir dir;
    EXPECT_EQ(ss::load_labels(dir.write("a.txt", "person\r\n  car \nbi cycle\n\n\n")),
              (std::vector<std::string>{"person", "car", "bi cycle"}));
    EXPECT_EQ(ss::load_labels(dir.write("b.txt", "no newline")), (std::vector<std::string>{"no newline"}));
    EXPECT_TRUE(ss::load_labels(dir.write("c.txt", "")).empty());
    EXPECT_EQ(ss::load_labels(dir.write("d.txt", "Fußgänger\n")), (std::vector<std::string>{"Fußgänger"}));
}

TEST(Labels, Errors) {
    TempDir dir;
    auto e = error_of<ss::ConfigError>([&] { ss::load_labels(dir.write("gap.txt", "a\n\nb\n")); });
    EXPECT_TRUE(contains(e, "gap.txt:2: empty label")) << e;
    e = error_of<ss::ConfigError>([&] { ss::load_labels(dir.write("bin.txt", "ok\n\xff\xfe\n")); });
    EXPECT_TRUE(contains(e, "bin.txt:2: label is not valid UTF-8")) << e;
    // Found by fuzzing: a lone CR (old Mac line endings) made all labels one.
    e = error_of<ss::ConfigError>([&] { ss::load_labels(dir.write("cr.txt", "person\rcar\rbus\n")); });
    EXPECT_TRUE(contains(e, "cr.txt:1: label contains a control character")) << e;
    EXPECT_EQ(e.find('\r'), std::string::npos);
    e = error_of<ss::ConfigError>([&] { ss::load_labels(dir.write("esc.txt", "ok\nred\x1b[31m\n")); });
    EXPECT_TRUE(contains(e, "esc.txt:2: label contains a control character")) << e;
    e = error_of<ss::ConfigError>([&] { ss::load_labels(dir / "none.txt"); });
    EXPECT_TRUE(contains(e, "none.txt: label file not found")) << e;
}
