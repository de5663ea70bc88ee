// FusedConv on a real GPU against the CPU reference. Every test skips with the
// reason where find_devices() finds no usable GPU or cuDNN 9 cannot be loaded.
//
// Tolerances: f16 compares against a reference computed from the same
// f16-rounded inputs, so the error left is f16 output rounding (2^-11
// relative, twice on path 2) and FP32 accumulation order: |got - ref| <=
// 1e-2 * (|ref| + rms(ref)). f32: 1e-4 on the same scale with strict FP32
// engines; 5e-3 when FusedConv::tf32() says a TF32 engine had to be used (it
// then prints so).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "conv_reference.hpp"
#include "gpu_test.hpp"
#include "slipstream/cuda/devices.hpp"
#include "slipstream/cudnn/fused_conv.hpp"

namespace ss::cudnn::test {
namespace {

constexpr std::size_t workspace_limit = std::size_t(256) << 20;

struct Case {
    ConvShape shape;
    DataType type = DataType::f16;
    bool bias = true, residual = false;
    Activation act = Activation::none;
    float alpha = 0.f;
    std::uint32_t seed = 1;
};

ConvShape shape(int n, int c, int h, int w, int k, int r, int s, int stride, int pad, int groups = 1) {
    ConvShape sh;
    sh.n = n, sh.c = c, sh.h = h, sh.w = w, sh.k = k, sh.r = r, sh.s = s, sh.groups = groups;
    sh.stride_h = sh.stride_w = stride;
    sh.pad_top = sh.pad_left = sh.pad_bottom = sh.pad_right = pad;
    return sh;
}

struct DeviceMemory {
    void* p = nullptr;
    explicit DeviceMemory(std::size_t bytes) {
        if (bytes != 0 && cudaMalloc(&p, bytes) != cudaSuccess) p = nullptr;
    }
    ~DeviceMemory() {
        if (p != nullptr) (void)cudaFree(p);
    }
    DeviceMemory(const DeviceMemory&) = delete;
    DeviceMemory& operator=(const DeviceMemory&) = delete;
};

std::vector<std::uint8_t> to_bytes(const std::vector<float>& v, DataType type) {
    std::vector<std::uint8_t> out(v.size() * element_size(type));
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (type == DataType::f16) {
            const std::uint16_t h = float_to_half(v[i]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        } else {
            std::memcpy(out.data() + 4 * i, &v[i], 4);
        }
    }
    return out;
}

std::vector<float> from_bytes(const std::vector<std::uint8_t>& b, DataType type) {
    const std::size_t n = b.size() / element_size(type);
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (type == DataType::f16) {
            std::uint16_t h;
            std::memcpy(&h, b.data() + 2 * i, 2);
            out[i] = half_to_float(h);
        } else {
            std::memcpy(&out[i], b.data() + 4 * i, 4);
        }
    }
    return out;
}

// A layer's inputs on host and device, and the reference output.
struct Problem {
    Case c;
    std::vector<float> x, w_oihw, bias, residual;
    std::vector<double> ref;
    std::unique_ptr<DeviceMemory> dx, dw, db, dr;

    explicit Problem(const Case& cs) : c(cs) {
        const ConvShape& s = c.shape;
        const int fan_in = (s.c / s.groups) * s.r * s.s;
        const float wr = 1.f / std::sqrt(float(fan_in));
        x = random_values(static_cast<std::size_t>(s.x_elements()), -1.f, 1.f, c.seed);
        w_oihw = random_values(static_cast<std::size_t>(s.w_elements()), -wr * 1.7f, wr * 1.7f, c.seed + 1);
        if (c.bias) bias = random_values(static_cast<std::size_t>(s.k), -0.5f, 0.5f, c.seed + 2);
        if (c.residual) residual = random_values(static_cast<std::size_t>(s.y_elements()), -1.f, 1.f, c.seed + 3);
        if (c.type == DataType::f16) {  // what the GPU sees
            round_to_half(x);
            round_to_half(w_oihw);
            round_to_half(residual);
        }
        ref = reference_conv(s, x, w_oihw, bias, residual, c.act, c.alpha);
    }

    void upload() {
        auto put = [](std::unique_ptr<DeviceMemory>& d, const std::vector<std::uint8_t>& bytes) {
            d = std::make_unique<DeviceMemory>(bytes.size());
            ASSERT_NE(d->p, nullptr);
            ASSERT_CUDA(cudaMemcpy(d->p, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
        };
        put(dx, to_bytes(x, c.type));
        put(dw, reorder_weights(w_oihw, c.shape, c.type));  // the reorder under test too
        if (c.bias) {
            std::vector<std::uint8_t> b(bias.size() * 4);
            std::memcpy(b.data(), bias.data(), b.size());
            put(db, b);
        }
        if (c.residual) put(dr, to_bytes(residual, c.type));
    }

    // Runs `conv` on `stream` into a y prefilled with NaN bytes.
    std::vector<float> run(FusedConv& conv, cudaStream_t stream) {
        const std::size_t ybytes = static_cast<std::size_t>(c.shape.y_elements()) * element_size(c.type);
        DeviceMemory y(ybytes);
        DeviceMemory ws(conv.workspace_bytes());
        std::vector<std::uint8_t> out(ybytes);
        EXPECT_NE(y.p, nullptr);
        if (y.p == nullptr) return {};
        EXPECT_EQ(cudaMemsetAsync(y.p, 0xFF, ybytes, stream), cudaSuccess);
        EXPECT_NO_THROW(conv.run(dx->p, dw->p, db ? db->p : nullptr, dr ? dr->p : nullptr, y.p, ws.p, stream));
        EXPECT_EQ(cudaMemcpyAsync(out.data(), y.p, ybytes, cudaMemcpyDeviceToHost, stream), cudaSuccess);
        EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
        return from_bytes(out, c.type);
    }
};

// Compares got with ref; returns the number of elements outside tolerance.
std::size_t compare(const std::vector<float>& got, const std::vector<double>& ref, double rtol, const std::string& what) {
    EXPECT_EQ(got.size(), ref.size());
    if (got.size() != ref.size()) return ref.size();
    double sq = 0;
    for (double v : ref) sq += v * v;
    const double rms = std::max(std::sqrt(sq / double(ref.size())), 1e-3);
    std::size_t bad = 0;
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double err = std::fabs(double(got[i]) - ref[i]);
        const double tol = rtol * (std::fabs(ref[i]) + rms);
        const double rel = err / (std::fabs(ref[i]) + rms);
        if (!(rel <= worst)) worst = rel;  // NaN counts as worst
        if (!(err <= tol)) {
            if (bad < 5)
                ADD_FAILURE() << what << ": element " << i << ": got " << got[i] << ", want " << ref[i]
                              << " (tolerance " << tol << ")";
            ++bad;
        }
    }
    std::cout << "  " << what << ": worst error " << worst << " x (|ref| + rms " << rms << "), " << bad << " of "
              << ref.size() << " outside " << rtol << "\n";
    return bad;
}

double tolerance(const Case& c, const FusedConv& conv) {
    if (c.type == DataType::f16) return 1e-2;
    if (conv.tf32()) {
        std::cout << "  NOTE: fp32 layer runs on TF32 tensor cores (no strict FP32 engine): tolerance 5e-3\n";
        return 5e-3;
    }
    return 1e-4;
}

class FusedConvGpu : public ::testing::Test {
protected:
    void SetUp() override {
        SELECT_GPU_OR_SKIP();
        std::string why;
        if (!available(&why)) GTEST_SKIP() << "no loadable cuDNN: " << why;
        // One stream for the whole test: a layer's handle keeps the stream it last
        // ran on, so that stream must outlive the handle's later uses.
        ASSERT_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        try {
            handle_ = std::make_unique<Handle>();
        } catch (const std::exception& e) {
            FAIL() << e.what();
        }
        std::cout << "cuDNN " << runtime_version() << "\n";
    }
    void TearDown() override {
        unsetenv("SLIPSTREAM_CUDNN_FORCE_UNFUSED");
        handle_.reset();
        if (stream_) (void)cudaStreamDestroy(stream_);
    }

    std::unique_ptr<FusedConv> build(const Case& c, const std::string& name, const std::string& preferred = {}) {
        std::unique_ptr<FusedConv> conv;
        try {
            conv = std::make_unique<FusedConv>(*handle_, c.shape, c.type, c.bias, c.residual, c.act, c.alpha,
                                               workspace_limit, name, preferred);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "building '" << name << "': " << e.what();
            return nullptr;
        }
        std::cout << "  " << conv->describe() << "\n";
        return conv;
    }

    // Builds, runs and compares one case; returns the layer for more checks.
    std::unique_ptr<FusedConv> expect_matches(const Case& c, const std::string& name) {
        SCOPED_TRACE(name + ": " + describe_shape(c.shape, c.type) + ", n " + std::to_string(c.shape.n) + ", " +
                     to_string(c.act) + (c.bias ? ", bias" : "") + (c.residual ? ", residual" : ""));
        Problem p(c);
        p.upload();
        if (HasFatalFailure()) return nullptr;
        auto conv = build(c, name);
        if (!conv) return nullptr;
        const auto got = p.run(*conv, stream_);
        EXPECT_EQ(compare(got, p.ref, tolerance(c, *conv), name), 0u);
        return conv;
    }

    std::unique_ptr<Handle> handle_;
    cudaStream_t stream_ = nullptr;
};

TEST_F(FusedConvGpu, Conv3x3Stride1Pad1) {
    expect_matches({shape(1, 32, 20, 20, 64, 3, 3, 1, 1), DataType::f16, true, false, Activation::relu}, "c3x3_f16");
    expect_matches({shape(1, 32, 20, 20, 64, 3, 3, 1, 1), DataType::f32, true, false, Activation::relu}, "c3x3_f32");
}

TEST_F(FusedConvGpu, Conv3x3Stride2) {
    expect_matches({shape(1, 16, 21, 19, 32, 3, 3, 2, 1), DataType::f16, true, false, Activation::silu}, "s2_f16");
    expect_matches({shape(1, 16, 21, 19, 32, 3, 3, 2, 1), DataType::f32, true, false, Activation::silu}, "s2_f32");
}

TEST_F(FusedConvGpu, Conv1x1) {
    expect_matches({shape(1, 64, 10, 10, 64, 1, 1, 1, 0), DataType::f16, true, false, Activation::none}, "1x1_f16");
    expect_matches({shape(1, 64, 10, 10, 64, 1, 1, 1, 0), DataType::f32, true, false, Activation::none}, "1x1_f32");
}

TEST_F(FusedConvGpu, Depthwise) {
    expect_matches({shape(1, 32, 16, 16, 32, 3, 3, 1, 1, 32), DataType::f16, true, false, Activation::relu}, "dw_f16");
    expect_matches({shape(1, 48, 15, 15, 48, 3, 3, 2, 1, 48), DataType::f16, true, false, Activation::silu},
                   "dw_s2_f16");
    expect_matches({shape(1, 32, 16, 16, 32, 3, 3, 1, 1, 32), DataType::f32, true, false, Activation::relu}, "dw_f32");
    expect_matches({shape(1, 32, 16, 16, 32, 5, 5, 1, 2, 32), DataType::f16, true, false, Activation::none},
                   "dw5x5_f16");
}

TEST_F(FusedConvGpu, Grouped) {
    expect_matches({shape(1, 32, 12, 12, 64, 3, 3, 1, 1, 4), DataType::f16, true, false, Activation::leaky_relu, 0.1f},
                   "g4_f16");
}

TEST_F(FusedConvGpu, Dilated) {
    ConvShape s = shape(1, 16, 16, 16, 16, 3, 3, 1, 2);
    s.dil_h = s.dil_w = 2;
    expect_matches({s, DataType::f16, true, false, Activation::relu}, "dil2_f16");
}

TEST_F(FusedConvGpu, AsymmetricPadding) {
    ConvShape s = shape(1, 16, 16, 16, 32, 3, 3, 2, 0);
    s.pad_bottom = s.pad_right = 1;  // TF SAME with stride 2
    const Case c{s, DataType::f16, true, false, Activation::relu};
    Problem p(c);
    p.upload();
    std::unique_ptr<FusedConv> conv;
    try {
        conv = std::make_unique<FusedConv>(*handle_, c.shape, c.type, c.bias, c.residual, c.act, c.alpha,
                                           workspace_limit, "asym", "");
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        ASSERT_NE(what.find("asymmetric padding (0,0,1,1)"), std::string::npos) << what;
        GTEST_SKIP() << "asymmetric padding not supported by this cuDNN: " << what;
    }
    std::cout << "  " << conv->describe() << "\n";
    EXPECT_EQ(compare(p.run(*conv, stream_), p.ref, tolerance(c, *conv), "asym"), 0u);
}

TEST_F(FusedConvGpu, EachActivation) {
    const Activation acts[] = {Activation::none, Activation::relu, Activation::leaky_relu, Activation::sigmoid,
                               Activation::silu};
    for (DataType type : {DataType::f16, DataType::f32})
        for (Activation act : acts)
            expect_matches({shape(1, 24, 12, 12, 32, 3, 3, 1, 1), type, true, false, act, 0.1f, 7},
                           std::string("act_") + to_string(act) + "_" + to_string(type));
}

TEST_F(FusedConvGpu, Residual) {
    for (DataType type : {DataType::f16, DataType::f32}) {
        expect_matches({shape(1, 32, 14, 14, 32, 3, 3, 1, 1), type, true, true, Activation::silu, 0.f, 11},
                       std::string("res_silu_") + to_string(type));
        expect_matches({shape(1, 32, 14, 14, 32, 1, 1, 1, 0), type, true, true, Activation::none, 0.f, 12},
                       std::string("res_none_") + to_string(type));
    }
}

TEST_F(FusedConvGpu, NoBias) {
    expect_matches({shape(1, 16, 10, 10, 32, 3, 3, 1, 1), DataType::f16, false, false, Activation::none}, "nobias");
    expect_matches({shape(1, 16, 10, 10, 32, 3, 3, 1, 1), DataType::f16, false, false, Activation::sigmoid},
                   "nobias_sigmoid");
    expect_matches({shape(1, 16, 10, 10, 32, 3, 3, 1, 1), DataType::f32, false, true, Activation::relu},
                   "nobias_res_f32");
}

TEST_F(FusedConvGpu, OddChannels) {
    // First layer of a detector (c = 3), class heads (k = 80), box/obj heads (44, 124).
    for (DataType type : {DataType::f16, DataType::f32}) {
        const std::string t = to_string(type);
        expect_matches({shape(1, 3, 32, 32, 16, 3, 3, 2, 1), type, true, false, Activation::silu}, "c3_" + t);
        expect_matches({shape(1, 64, 10, 10, 80, 1, 1, 1, 0), type, true, false, Activation::none}, "k80_" + t);
        expect_matches({shape(1, 64, 10, 10, 44, 1, 1, 1, 0), type, true, false, Activation::none}, "k44_" + t);
        expect_matches({shape(1, 96, 8, 8, 124, 1, 1, 1, 0), type, true, false, Activation::sigmoid}, "k124_" + t);
        expect_matches({shape(1, 40, 9, 9, 80, 3, 3, 1, 1), type, true, false, Activation::relu}, "c40k80_" + t);
    }
}

TEST_F(FusedConvGpu, Batch8) {
    expect_matches({shape(8, 16, 12, 12, 32, 3, 3, 1, 1), DataType::f16, true, true, Activation::silu, 0.f, 21},
                   "b8_f16");
    expect_matches({shape(8, 16, 12, 12, 32, 3, 3, 2, 1), DataType::f32, true, false, Activation::relu, 0.f, 22},
                   "b8_f32");
    expect_matches({shape(8, 3, 24, 24, 16, 3, 3, 2, 1), DataType::f16, true, false, Activation::silu, 0.f, 23},
                   "b8_c3_f16");
}

TEST_F(FusedConvGpu, EpilogueKernelPath) {
    // Path 2 forced: cuDNN conv only + our epilogue kernel, all activations.
    setenv("SLIPSTREAM_CUDNN_FORCE_UNFUSED", "1", 1);
    const Activation acts[] = {Activation::relu, Activation::leaky_relu, Activation::sigmoid, Activation::silu};
    for (DataType type : {DataType::f16, DataType::f32}) {
        for (Activation act : acts) {
            auto conv = expect_matches({shape(2, 16, 10, 10, 24, 3, 3, 1, 1), type, true, true, act, 0.2f, 31},
                                       std::string("unfused_") + to_string(act) + "_" + to_string(type));
            if (conv) {
                EXPECT_FALSE(conv->fused());
            }
        }
        auto conv = expect_matches({shape(1, 16, 10, 10, 24, 1, 1, 1, 0), type, false, true, Activation::none, 0.f, 32},
                                   std::string("unfused_res_only_") + to_string(type));
        if (conv) {
            EXPECT_FALSE(conv->fused());
        }
    }
    // Nothing to fuse: a plain conv stays one cuDNN graph.
    auto plain = expect_matches({shape(1, 16, 10, 10, 24, 3, 3, 1, 1), DataType::f16, false, false, Activation::none},
                                "unfused_plain");
    if (plain) {
        EXPECT_TRUE(plain->fused());
    }
}

TEST_F(FusedConvGpu, ChoiceRoundTrip) {
    const Case c{shape(2, 32, 16, 16, 64, 3, 3, 1, 1), DataType::f16, true, true, Activation::silu, 0.f, 41};
    Problem p(c);
    p.upload();
    ASSERT_FALSE(HasFatalFailure());
    auto first = build(c, "tuned");
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->autotuned());
    EXPECT_GE(first->candidates_timed(), 1);
    const std::string choice = first->choice();
    std::cout << "  choice: " << choice << "\n";
    EXPECT_NE(choice.find("engine="), std::string::npos);

    auto second = build(c, "cached", choice);
    ASSERT_TRUE(second);
    EXPECT_FALSE(second->autotuned()) << second->describe();
    EXPECT_EQ(second->candidates_timed(), 0);
    EXPECT_EQ(second->choice(), choice);
    EXPECT_EQ(second->fused(), first->fused());
    EXPECT_EQ(second->workspace_bytes(), first->workspace_bytes());

    const auto a = p.run(*first, stream_);
    const auto b = p.run(*second, stream_);
    EXPECT_EQ(compare(a, p.ref, 1e-2, "tuned"), 0u);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "same plan, different results";

    // Stale or foreign choices are not used: the layer autotunes again.
    Case other = c;
    other.shape.k = 32;
    auto foreign = build(other, "foreign", choice);
    ASSERT_TRUE(foreign);
    EXPECT_TRUE(foreign->autotuned());
    auto garbage = build(c, "garbage", "cudnn=1;key=0;path=fused;engine=99999;knobs=;tf32=0");
    ASSERT_TRUE(garbage);
    EXPECT_TRUE(garbage->autotuned());
    auto unreadable = build(c, "unreadable", "not a choice");
    ASSERT_TRUE(unreadable);
    EXPECT_TRUE(unreadable->autotuned());
}

TEST_F(FusedConvGpu, CapturedInCudaGraph) {
    for (bool unfused : {false, true}) {
        if (unfused) setenv("SLIPSTREAM_CUDNN_FORCE_UNFUSED", "1", 1);
        const Case c{shape(1, 32, 16, 16, 32, 3, 3, 1, 1), DataType::f16, true, true, Activation::silu, 0.f, 51};
        SCOPED_TRACE(unfused ? "conv + epilogue" : "best path");
        Problem p(c);
        p.upload();
        ASSERT_FALSE(HasFatalFailure());
        auto conv = build(c, unfused ? "graph_unfused" : "graph");
        ASSERT_TRUE(conv);
        const std::size_t ybytes = static_cast<std::size_t>(c.shape.y_elements()) * 2;
        DeviceMemory y(ybytes), ws(conv->workspace_bytes());
        cudaStream_t stream = stream_;
        ASSERT_CUDA(cudaMemsetAsync(y.p, 0xFF, ybytes, stream));
        ASSERT_CUDA(cudaStreamSynchronize(stream));
        cudaGraph_t graph = nullptr;
        ASSERT_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        try {
            conv->run(p.dx->p, p.dw->p, p.db->p, p.dr->p, y.p, ws.p, stream);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "run() under capture: " << e.what();
        }
        ASSERT_CUDA(cudaStreamEndCapture(stream, &graph));
        cudaGraphExec_t exec = nullptr;
        ASSERT_CUDA(cudaGraphInstantiate(&exec, graph, 0));
        ASSERT_CUDA(cudaGraphLaunch(exec, stream));
        ASSERT_CUDA(cudaGraphLaunch(exec, stream));  // twice: in-place epilogue must not accumulate
        std::vector<std::uint8_t> out(ybytes);
        ASSERT_CUDA(cudaMemcpyAsync(out.data(), y.p, ybytes, cudaMemcpyDeviceToHost, stream));
        ASSERT_CUDA(cudaStreamSynchronize(stream));
        (void)cudaGraphExecDestroy(exec);
        (void)cudaGraphDestroy(graph);
        EXPECT_EQ(compare(from_bytes(out, DataType::f16), p.ref, 1e-2, "graph"), 0u);
    }
}

TEST_F(FusedConvGpu, NoWorkspaceAllowed) {
    const Case c{shape(1, 32, 16, 16, 64, 3, 3, 1, 1), DataType::f16, true, false, Activation::relu, 0.f, 61};
    Problem p(c);
    p.upload();
    ASSERT_FALSE(HasFatalFailure());
    std::unique_ptr<FusedConv> conv;
    try {
        conv = std::make_unique<FusedConv>(*handle_, c.shape, c.type, c.bias, c.residual, c.act, c.alpha, 0,
                                           "nows", "");
    } catch (const std::exception& e) {
        FAIL() << e.what();
    }
    std::cout << "  " << conv->describe() << "\n";
    EXPECT_EQ(conv->workspace_bytes(), 0u);
    EXPECT_EQ(compare(p.run(*conv, stream_), p.ref, 1e-2, "nows"), 0u);
}

TEST_F(FusedConvGpu, RunRejectsBadPointers) {
    const Case c{shape(1, 16, 8, 8, 16, 3, 3, 1, 1), DataType::f16, true, false, Activation::relu};
    Problem p(c);
    p.upload();
    ASSERT_FALSE(HasFatalFailure());
    auto conv = build(c, "ptrs");
    ASSERT_TRUE(conv);
    DeviceMemory y(static_cast<std::size_t>(c.shape.y_elements()) * 2 + 16);
    EXPECT_THROW(conv->run(p.dx->p, p.dw->p, nullptr, nullptr, y.p, nullptr, nullptr), std::invalid_argument);
    EXPECT_THROW(conv->run(p.dx->p, p.dw->p, p.db->p, nullptr, static_cast<char*>(y.p) + 2, nullptr, nullptr),
                 std::invalid_argument);
}

TEST_F(FusedConvGpu, VersionAndErrors) {
    const std::string v = runtime_version();
    EXPECT_EQ(v.rfind("9.", 0), 0u) << v;
    EXPECT_EQ(Handle::version(), v);
    ConvShape bad = shape(1, 30, 8, 8, 32, 3, 3, 1, 1, 4);
    EXPECT_THROW(FusedConv(*handle_, bad, DataType::f16, true, false, Activation::none, 0.f, workspace_limit, "bad"),
                 std::invalid_argument);
}

}  // namespace
}  // namespace ss::cudnn::test
