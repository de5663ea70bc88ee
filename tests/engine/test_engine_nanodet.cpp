// The default model (NanoDet 416, fetched by setup.sh into the cache): the
// plan's reference run equals OpenCV DNN's forward at batch 2, and the fp16
// plan fuses every LeakyRelu into its convolution.
#include "engine_test_util.hpp"

#include <opencv2/dnn.hpp>

#include <cstdlib>
#include <random>

namespace ss::engine {
namespace {

// Where tools/fetch_model.sh puts it (as core's config finds it).
std::filesystem::path nanodet_path() {
    std::filesystem::path cache;
    if (const char* c = std::getenv("SLIPSTREAM_CACHE"); c && *c) cache = c;
    else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) cache = std::filesystem::path(x) / "slipstream";
    else if (const char* h = std::getenv("HOME"); h && *h) cache = std::filesystem::path(h) / ".cache" / "slipstream";
    return cache / "models" / "nanodet-416.onnx";
}

class NanoDet : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = nanodet_path();
        if (!std::filesystem::exists(path_)) GTEST_SKIP() << path_ << " is not there (./setup.sh fetches it)";
        graph_ = import_onnx(path_);
    }
    std::filesystem::path path_;
    std::shared_ptr<const Graph> graph_;
};

TEST_F(NanoDet, Fp16PlanFusesEveryLeakyRelu) {
    const Plan plan = make_plan(*graph_, 2, Precision::fp16);
    expect_plan_invariants(plan);
    const auto convs = steps_of<ConvStep>(plan);
    EXPECT_EQ(convs.size(), 34u);
    int leaky = 0, residual = 0;
    for (const auto* c : convs) {
        leaky += c->activation == Activation::leaky_relu;
        residual += c->residual >= 0;
    }
    EXPECT_EQ(leaky, 28);
    // Of the FPN's four Adds, two add to a conv output nothing else reads: those fuse.
    EXPECT_EQ(residual, 2);
    EXPECT_EQ(steps_of<BinaryStep>(plan).size(), 2u);
    EXPECT_EQ(steps_of<UnaryStep>(plan).size(), 3u);  // the heads' Sigmoids
    EXPECT_EQ(steps_of<ResizeStep>(plan).size(), 4u);
    EXPECT_EQ(steps_of<MaxPoolStep>(plan).size(), 1u);
    EXPECT_EQ(plan.output_names, (std::vector<std::string>{"cls_8", "box_8", "cls_16", "box_16", "cls_32", "box_32"}));
    EXPECT_EQ(plan.tensors[plan.outputs[0]].dims, (Dims{2, 2704, 80}));
}

TEST_F(NanoDet, ReferenceRunEqualsOpenCvAtBatchTwo) {
    const Plan plan = make_plan(*graph_, 2, Precision::fp32);
    const int sizes[] = {2, 3, 416, 416};
    cv::Mat blob(4, sizes, CV_32F);
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> uniform(0.f, 1.f);
    std::vector<float> input(blob.total());
    for (float& v : input) v = uniform(rng);
    std::copy(input.begin(), input.end(), blob.ptr<float>());

    cv::dnn::Net net = cv::dnn::readNetFromONNX(path_.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    net.setInput(blob);
    std::vector<cv::Mat> expected;
    net.forward(expected, plan.output_names);

    const auto got = reference_run(plan, input);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
        SCOPED_TRACE(plan.output_names[k]);
        ASSERT_EQ(expected[k].total(), got[k].size());
        const float* e = expected[k].ptr<float>();
        expect_close(got[k], std::vector<float>(e, e + expected[k].total()), 1e-3f);
    }
}

}  // namespace
}  // namespace ss::engine
