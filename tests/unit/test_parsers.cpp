// The output parsers end to end: ss::Detector through the real OpenCV DNN
// backend on the tiny models of make_test_models.py, whose outputs are known
// numbers (see that script). Every model takes a 64x64 input here; its outputs
// are `base + gain * mean(input)`, so solid grey images of different levels
// give different detections within one batch.
#include <memory>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "slipstream/config.hpp"
#include "slipstream/detector.hpp"
#include "test_util.hpp"

using namespace sstest;

namespace {

const fs::path models_dir = SS_TEST_MODELS_DIR;

struct Expected {
    int class_id;
    float confidence;
    float x1, y1, x2, y2;  // image pixels
};

void expect_detections(const ss::Detections& got, const std::vector<Expected>& expected) {
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE("detection " + std::to_string(i));
        const auto& d = got[i];
        const auto& e = expected[i];
        ASSERT_EQ(d.class_id, e.class_id);
        ASSERT_NEAR(d.confidence, e.confidence, 1e-4);
        ASSERT_NEAR(d.box.left, e.x1, 1e-3);
        ASSERT_NEAR(d.box.top, e.y1, 1e-3);
        ASSERT_NEAR(d.box.right(), e.x2, 1e-3);
        ASSERT_NEAR(d.box.bottom(), e.y2, 1e-3);
    }
}

cv::Mat grey(int width, int height, int level) { return cv::Mat(height, width, CV_8UC3, cv::Scalar::all(level)); }

class Parsers : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(models_dir / "nanodet.onnx")) {
            GTEST_SKIP() << "test models missing in " << models_dir << " (needs python3-onnx)";
        }
    }

    // A config for `model` with a 64x64 input and pixel values scaled to 0..1.
    ss::InferConfig config(const std::string& model, const std::string& parser, int classes,
                           const std::string& property = "", const std::string& sections = "") {
        const std::string text = "[property]\nonnx-file=" + (models_dir / (model + ".onnx")).string() +
                                 "\nnet-scale-factor=0.00392156862745098\ninfer-dims=3;64;64\n"
                                 "num-detected-classes=" + std::to_string(classes) +
                                 "\nparse-bbox-func-name=" + parser + "\n" + property +
                                 "[class-attrs-all]\npre-cluster-threshold=0.25\nnms-iou-threshold=0.5\n" + sections;
        return ss::load_infer_config(dir_.write("config.txt", text));
    }

    TempDir dir_;
};

}  // namespace

// NanoDet, 3 classes, 8 bins. At a mean input of m:
//   A: stride 8, anchor (2, 3), centre (20, 28); distances 1.75, 0.75, 2.75, 3.75 bins
//      -> (20-14, 28-6, 20+22, 28+30) = (6, 22, 42, 58); class 1, confidence 0.2 + 0.6 m
//   B: stride 16, anchor (2, 1), centre (40, 24); 0.75 bins each side = 12
//      -> (28, 12, 52, 36); class 2, confidence 0.9 - 0.6 m
TEST_F(Parsers, NanoDetStretched) {
    ss::Detector detector(config("nanodet", "nanodet", 3));
    // 128x96 stretched to 64x64: x scales by 2, y by 1.5.
    const auto found = detector.detect(grey(128, 96, 255));
    expect_detections(found, {{1, 0.8f, 12, 33, 84, 87}, {2, 0.3f, 56, 18, 104, 54}});
}

TEST_F(Parsers, NanoDetBatchFollowsEachImage) {
    ss::Detector detector(config("nanodet", "nanodet", 3, "batch-size=4\n"));
    // Five images: one full batch of four and a remainder of one, each of its own size.
    const std::vector<cv::Mat> images = {grey(64, 64, 0), grey(64, 64, 85), grey(128, 96, 170), grey(32, 128, 255),
                                         grey(64, 64, 255)};
    const auto found = detector.detect(images);
    ASSERT_EQ(found.size(), 5u);
    {
        SCOPED_TRACE("image 0, m = 0: A is below the threshold");
        expect_detections(found[0], {{2, 0.9f, 28, 12, 52, 36}});
    }
    {
        SCOPED_TRACE("image 1, m = 1/3");
        expect_detections(found[1], {{2, 0.7f, 28, 12, 52, 36}, {1, 0.4f, 6, 22, 42, 58}});
    }
    {
        SCOPED_TRACE("image 2, m = 2/3, 128x96");
        expect_detections(found[2], {{1, 0.6f, 12, 33, 84, 87}, {2, 0.5f, 56, 18, 104, 54}});
    }
    {
        SCOPED_TRACE("image 3, m = 1, 32x128");
        expect_detections(found[3], {{1, 0.8f, 3, 44, 21, 116}, {2, 0.3f, 14, 24, 26, 72}});
    }
    {
        SCOPED_TRACE("image 4, m = 1, the batch of one");
        expect_detections(found[4], {{1, 0.8f, 6, 22, 42, 58}, {2, 0.3f, 28, 12, 52, 36}});
    }
}

TEST_F(Parsers, NanoDetInputSizeMustFitTheAnchors) {
    // The model always returns 64/16/4 anchors: no stride of a 96x96 input gives those.
    auto c = config("nanodet", "nanodet", 3);
    c.input_width = c.input_height = 96;
    const auto e = error_of<ss::ModelError>([&] { ss::Detector detector(c); });
    EXPECT_EQ(e.rfind((models_dir / "nanodet.onnx").string() + ": nanodet parser:", 0), 0u) << e;
    EXPECT_TRUE(contains(e, "fits no stride of a 96x96 input")) << e;
}

// YOLOv5 rows, 2 classes, at a mean input of m:
//   row 0: centre (32, 20), 16x8 -> (24, 16, 40, 24); objectness 0.9 x class 1 0.8 = 0.72
//   row 1: objectness 0.1, never reported
//   row 2: centre (48, 48), (8 + 16 m)x8; (0.5 + 0.4 m) x class 0 0.9
TEST_F(Parsers, YoloV5Rows) {
    ss::Detector detector(config("yolov5", "yolo", 2));
    expect_detections(detector.detect(grey(64, 64, 0)), {{1, 0.72f, 24, 16, 40, 24}, {0, 0.45f, 44, 44, 52, 52}});
}

TEST_F(Parsers, YoloV5Batch) {
    ss::Detector detector(config("yolov5", "yolo", 2, "batch-size=4\n"));
    const std::vector<cv::Mat> images = {grey(64, 64, 0), grey(64, 64, 85), grey(64, 64, 170), grey(64, 64, 255)};
    const auto found = detector.detect(images);
    ASSERT_EQ(found.size(), 4u);
    for (int i = 0; i < 4; ++i) {
        SCOPED_TRACE("image " + std::to_string(i));
        const float m = static_cast<float>(i) / 3.f, half = (8 + 16 * m) / 2, confidence = 0.9f * (0.5f + 0.4f * m);
        std::vector<Expected> expected = {{1, 0.72f, 24, 16, 40, 24}, {0, confidence, 48 - half, 44, 48 + half, 52}};
        if (confidence > 0.72f) std::swap(expected[0], expected[1]);  // highest confidence first
        expect_detections(found[i], expected);
    }
}

// Letterboxing, with black images (the padding must not change the mean).
// 128x64 into 64x64: scale 0.5, 64x32 content; 64x128: 32x64 content.
TEST_F(Parsers, LetterboxTopLeft) {
    ss::Detector detector(config("yolov5", "yolo", 2, "maintain-aspect-ratio=1\n"));
    // Row 2 (44..52 in y) lies in the padding below the content: clamped to nothing.
    expect_detections(detector.detect(grey(128, 64, 0)), {{1, 0.72f, 48, 32, 80, 48}});
    // Portrait: row 0 spans x 24..40 of which the content covers 0..32; row 2 is outside.
    expect_detections(detector.detect(grey(64, 128, 0)), {{1, 0.72f, 48, 32, 64, 48}});
}

TEST_F(Parsers, LetterboxSymmetric) {
    ss::Detector detector(config("yolov5", "yolo", 2, "maintain-aspect-ratio=1\nsymmetric-padding=1\n"));
    // Landscape: 16 rows of padding above; image y = (y - 16) * 2, clamped to the image.
    expect_detections(detector.detect(grey(128, 64, 0)), {{1, 0.72f, 48, 0, 80, 16}, {0, 0.45f, 88, 56, 104, 64}});
    // Portrait: 16 columns of padding on the left; image x = (x - 16) * 2.
    expect_detections(detector.detect(grey(64, 128, 0)), {{1, 0.72f, 16, 32, 48, 48}, {0, 0.45f, 56, 88, 64, 104}});
}

// YOLOv8 columns, 2 classes:
//   box 0: centre (16, 40), 8x24 -> (12, 28, 20, 52), class 1 0.6
//   box 1: centre (50, 12), 12x8 -> (44, 8, 56, 16), class 0 0.85
//   boxes 2..4: best score <= 0.1
TEST_F(Parsers, YoloV8Columns) {
    ss::Detector detector(config("yolov8", "yolo", 2));
    // 640x320 stretched: x by 10, y by 5.
    expect_detections(detector.detect(grey(640, 320, 40)), {{0, 0.85f, 440, 40, 560, 80}, {1, 0.6f, 120, 140, 200, 260}});
}

TEST_F(Parsers, ClassFiltersAndThresholds) {
    // Class 0 filtered out: only the class-1 box is left.
    {
        ss::Detector detector(config("yolov8", "yolo", 2, "filter-out-class-ids=0\n"));
        expect_detections(detector.detect(grey(64, 64, 0)), {{1, 0.6f, 12, 28, 20, 52}});
    }
    // A per-class threshold above 0.6 drops class 1.
    {
        ss::Detector detector(config("yolov8", "yolo", 2, "", "[class-attrs-1]\npre-cluster-threshold=0.65\n"));
        expect_detections(detector.detect(grey(64, 64, 0)), {{0, 0.85f, 44, 8, 56, 16}});
    }
    // Box size limits: class 0 is 12x8, class 1 8x24.
    {
        ss::Detector detector(config("yolov8", "yolo", 2, "", "detected-min-h=10\n"));
        expect_detections(detector.detect(grey(64, 64, 0)), {{1, 0.6f, 12, 28, 20, 52}});
    }
    {
        ss::Detector detector(config("yolov8", "yolo", 2, "", "detected-max-w=10\n"));
        expect_detections(detector.detect(grey(64, 64, 0)), {{1, 0.6f, 12, 28, 20, 52}});
    }
    // Only objects entirely between the ROI offsets: class 1 reaches y = 52.
    {
        ss::Detector detector(config("yolov8", "yolo", 2, "", "roi-bottom-offset=14\n"));
        expect_detections(detector.detect(grey(64, 64, 0)), {{0, 0.85f, 44, 8, 56, 16}});
    }
    {
        ss::Detector detector(config("yolov8", "yolo", 2, "", "roi-top-offset=9\n"));
        expect_detections(detector.detect(grey(64, 64, 0)), {{1, 0.6f, 12, 28, 20, 52}});
    }
}

// SSD, 2 classes plus background in column 0; boxes normalised to the input:
//   box 0: (0.1, 0.2, 0.5, 0.6), scores (bg 0.1, 0.2, 0.7) -> class 1, 0.7
//   box 1: background 0.9
//   box 2: (0.5, 0.5, 0.9, 0.8), scores (0.2, 0.6, 0.2) -> class 0, 0.6
//   box 3: background 0.8
TEST_F(Parsers, SsdWithBackgroundColumn) {
    ss::Detector detector(config("ssd", "ssd", 2));
    expect_detections(detector.detect(grey(200, 100, 0)), {{1, 0.7f, 20, 20, 100, 60}, {0, 0.6f, 100, 50, 180, 80}});
}

// DetectNet_v2, 2 classes, 4x4 grid of a 64x64 input (stride 16). Cell (1, 2),
// class 1, coverage 0.8, offsets 0.2, 0.3, 0.4, 0.5: centre ((16 + 0.5), (32 + 0.5))
// -> (16.5 - 7, 32.5 - 10.5, 16.5 + 14, 32.5 + 17.5) = (9.5, 22, 30.5, 50).
TEST_F(Parsers, DetectNetV2Grid) {
    ss::Detector detector(config("detectnet_v2", "detectnet_v2", 2, "cluster-mode=4\n"));
    expect_detections(detector.detect(grey(32, 32, 0)), {{1, 0.8f, 4.75f, 11, 15.25f, 25}});
}

TEST_F(Parsers, OutputsThatDoNotFitTheParserNameTheModel) {
    struct Case {
        const char* model;
        const char* parser;
        int classes;
        const char* says;
    };
    for (const Case& c : {Case{"yolov5", "ssd", 2, "ssd parser: needs exactly two outputs"},
                          Case{"ssd", "yolo", 2, "yolo parser: expected one output"},
                          Case{"yolov8", "yolo", 3, "yolo parser: expected one output"},
                          Case{"detectnet_v2", "nanodet", 2, "nanodet parser: output"},
                          Case{"nanodet", "nanodet", 4, "nanodet parser: expected pairs"},
                          Case{"ssd", "detectnet_v2", 2, "detectnet_v2 parser: expected coverage"}}) {
        SCOPED_TRACE(std::string(c.model) + " with the " + c.parser + " parser");
        const std::string model = (models_dir / (std::string(c.model) + ".onnx")).string();
        const auto e = error_of<ss::ModelError>([&] { ss::Detector detector(config(c.model, c.parser, c.classes)); });
        EXPECT_EQ(e.rfind(model + ": ", 0), 0u) << e;
        EXPECT_TRUE(contains(e, c.says)) << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
}

// A static-batch export: [1, -1, 7] turns a batch of 4 into [1, 12, 7]. Image 0
// alone still parses; a batch must be refused, not read past the output.
TEST_F(Parsers, OutputWithoutBatchDimensionRefusesBatches) {
    {
        ss::Detector detector(config("yolov5_fixed_batch", "yolo", 2));
        expect_detections(detector.detect(grey(64, 64, 0)), {{1, 0.72f, 24, 16, 40, 24}, {0, 0.45f, 44, 44, 52, 52}});
    }
    ss::Detector detector(config("yolov5_fixed_batch", "yolo", 2, "batch-size=4\n"));
    const std::vector<cv::Mat> images(4, grey(64, 64, 0));
    const auto e = error_of<ss::ModelError>([&] { detector.detect(images); });
    EXPECT_EQ(e.rfind((models_dir / "yolov5_fixed_batch.onnx").string() + ": output 'output0' has shape [1, 12, 7] for a batch of 4", 0), 0u) << e;
    EXPECT_TRUE(contains(e, "does not support batch-size=4")) << e;
}

TEST_F(Parsers, NotAnOnnxFile) {
    const auto fake = dir_.write("fake.onnx", "this is not a protobuf, let alone a model\n");
    auto c = config("yolov5", "yolo", 2);
    c.onnx_file = fake;
    const auto e = error_of<ss::ModelError>([&] { ss::Detector detector(c); });
    EXPECT_EQ(e.rfind(fake.string() + ": ", 0), 0u) << e;
    EXPECT_TRUE(contains(e, "not an ONNX model")) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST_F(Parsers, WrongImageTypeIsAnError) {
    ss::Detector detector(config("yolov5", "yolo", 2));
    EXPECT_THROW(detector.detect(cv::Mat()), ss::Error);
    EXPECT_THROW(detector.detect(cv::Mat(8, 8, CV_32FC3, cv::Scalar::all(0))), ss::Error);
    EXPECT_TRUE(detector.detect(std::vector<cv::Mat>{}).empty());
}

// Without models: each parser's check_outputs is the first step of its parse
// (LayoutParser), so both refuse outputs that fit no layout with one message.
TEST(ParserLayouts, CheckAndParseRefuseAlike) {
    const float data[3] = {0, 0, 0};
    const std::vector<ss::TensorView> outputs = {{"out", {3}, data}};
    ss::ParserContext context;
    context.input_width = context.input_height = 64;
    context.num_classes = 2;
    for (const std::string& name : ss::output_parser_names()) {
        SCOPED_TRACE(name);
        const auto parser = ss::make_output_parser(name);
        const auto checked = error_of<ss::ModelError>([&] { parser->check_outputs(outputs, context); });
        std::vector<ss::Candidate> candidates;
        const auto parsed = error_of<ss::ModelError>([&] { parser->parse(outputs, context, candidates); });
        EXPECT_TRUE(contains(checked, name + " parser: ")) << checked;
        EXPECT_TRUE(contains(checked, "[3]")) << checked;  // says what the model gave
        EXPECT_EQ(parsed, checked);
        EXPECT_TRUE(candidates.empty());
    }
}

TEST(ParserLayouts, ShapesOfAllOutputsInOrder) {
    const std::vector<ss::TensorView> outputs = {{"boxes", {1, 8, 4}, nullptr}, {"scores", {8, 3}, nullptr}};
    EXPECT_EQ(ss::shapes_to_string(outputs), "[1, 8, 4], [8, 3]");
    EXPECT_EQ(ss::shapes_to_string({}), "");
}

// The plan a GPU backend runs for NanoDet: each level's outputs found by
// shape in any order, in the CPU parser's order (its score outputs').
TEST(ParserLayouts, NanoDetPlanForTheGpu) {
    const std::vector<ss::TensorView> outputs = {
        {"boxes_16", {8, 32}, nullptr}, {"scores_8", {32, 2}, nullptr},
        {"boxes_8", {32, 32}, nullptr}, {"scores_16", {8, 2}, nullptr}};
    ss::ParserContext context;
    context.input_width = 64;
    context.input_height = 32;
    context.num_classes = 2;
    const auto plan = ss::make_output_parser("nanodet")->device_plan(outputs, context);
    const std::vector<ss::DistributionLevel> expected = {
        {.scores_output = 1, .boxes_output = 2, .anchors = 32, .bins = 8, .stride = 8, .grid_width = 8},
        {.scores_output = 3, .boxes_output = 0, .anchors = 8, .bins = 8, .stride = 16, .grid_width = 4}};
    EXPECT_EQ(plan.levels, expected);
    // Outputs that fit no layout: the same error as parse(), never an empty plan.
    EXPECT_THROW(ss::make_output_parser("nanodet")->device_plan({{"out", {3}, nullptr}}, context), ss::ModelError);
    // Parsers without a GPU plan say so with an empty one.
    EXPECT_TRUE(ss::make_output_parser("yolo")->device_plan(outputs, context).empty());
}
