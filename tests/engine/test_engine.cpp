// Engine tests on the tiny models of make_engine_models.py: every case's plan
// (fp16 and fp32) keeps the plan invariants and its reference_run() matches the
// numpy results; fusion, layouts, aliases, arena reuse, folding and every
// refusal are checked on the plans and messages themselves.
#include "engine_test_util.hpp"
#include "graph.hpp"

#include <slipstream/error.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ss::engine {
namespace {

const std::filesystem::path models_dir = SS_ENGINE_MODELS_DIR;

std::vector<float> read_f32(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f) << path;
    std::vector<float> v(std::filesystem::file_size(path) / sizeof(float));
    f.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
    return v;
}

Plan plan_of(const std::string& name, int batch, Precision precision = Precision::fp16) {
    return make_plan(*import_onnx(models_dir / (name + ".onnx")), batch, precision);
}

struct Case {
    std::string name;
    int batch;
    int outputs;
};

std::vector<Case> manifest() {
    std::ifstream f(models_dir / "manifest.txt");
    std::vector<Case> cases;
    Case c;
    while (f >> c.name >> c.batch >> c.outputs) cases.push_back(c);
    return cases;
}

TEST(EngineCases, ReferenceMatchesNumpyInBothPrecisions) {
    const auto cases = manifest();
    ASSERT_GE(cases.size(), 20u);
    for (const Case& c : cases)
        for (Precision precision : {Precision::fp16, Precision::fp32}) {
            SCOPED_TRACE(c.name + " batch " + std::to_string(c.batch) +
                         (precision == Precision::fp16 ? " fp16" : " fp32"));
            const std::string stem = c.name + ".b" + std::to_string(c.batch);
            Plan plan;
            ASSERT_NO_THROW(plan = plan_of(c.name, c.batch, precision));
            expect_plan_invariants(plan);
            const auto outputs = reference_run(plan, read_f32(models_dir / (stem + ".input.f32")));
            ASSERT_EQ(int(outputs.size()), c.outputs);
            for (int k = 0; k < c.outputs; ++k) {
                SCOPED_TRACE("output " + plan.output_names[k]);
                expect_close(outputs[k], read_f32(models_dir / (stem + ".out" + std::to_string(k) + ".f32")), 1e-4f);
            }
        }
}

TEST(EngineImport, InputWithSymbolicBatch) {
    const auto graph = import_onnx(models_dir / "conv_pads.onnx");
    EXPECT_EQ(graph->input_name, "x");
    EXPECT_EQ(graph->input_dims, (Dims{-1, 3, 8, 7}));
    EXPECT_EQ(graph->opset, 13);
    EXPECT_EQ(graph->outputs, (std::vector<std::string>{"same_upper", "same_lower", "valid", "asym"}));
}

TEST(EngineShapes, ConvWindowsAndPads) {
    const Plan plan = plan_of("conv_pads", 2);
    EXPECT_EQ(output_tensor(plan, "same_upper").dims, (Dims{2, 4, 4, 4}));
    EXPECT_EQ(output_tensor(plan, "same_lower").dims, (Dims{2, 4, 4, 4}));
    EXPECT_EQ(output_tensor(plan, "valid").dims, (Dims{2, 4, 4, 3}));  // dilation 2: extent 5
    EXPECT_EQ(output_tensor(plan, "asym").dims, (Dims{2, 5, 9, 3}));
    const auto convs = steps_of<ConvStep>(plan);
    ASSERT_EQ(convs.size(), 4u);
    EXPECT_EQ(convs[0]->pads, (std::array<int, 4>{0, 1, 1, 1}));  // SAME_UPPER: the odd pad at the end
    EXPECT_EQ(convs[1]->pads, (std::array<int, 4>{1, 1, 0, 1}));  // SAME_LOWER: at the start
    EXPECT_EQ(convs[2]->dilations, (std::array<int, 2>{2, 2}));
    EXPECT_EQ(convs[3]->pads, (std::array<int, 4>{0, 1, 2, 0}));
    EXPECT_EQ(convs[3]->strides, (std::array<int, 2>{1, 2}));
}

TEST(EngineShapes, WindowsResizeAndMovement) {
    const Plan pool = plan_of("maxpool", 2);
    EXPECT_EQ(output_tensor(pool, "p3").dims, (Dims{2, 3, 4, 4}));
    EXPECT_EQ(output_tensor(pool, "ceil").dims, (Dims{2, 3, 4, 4}));  // ceil_mode on 7
    EXPECT_EQ(output_tensor(pool, "p5").dims, (Dims{2, 3, 7, 7}));
    const Plan resize = plan_of("resize", 2);
    EXPECT_EQ(output_tensor(resize, "align_corners").dims, (Dims{2, 2, 9, 7}));  // sizes from Shape + Concat
    EXPECT_EQ(output_tensor(resize, "asymmetric").dims, (Dims{2, 2, 8, 15}));
    const Plan move = plan_of("movement", 2);
    EXPECT_EQ(output_tensor(move, "t").dims, (Dims{2, 6, 6, 4}));
    EXPECT_EQ(output_tensor(move, "s").dims, (Dims{2, 2, 6, 3}));
    EXPECT_EQ(output_tensor(move, "g0").dims, (Dims{2, 6, 6}));
    EXPECT_EQ(output_tensor(move, "g1").dims, (Dims{2, 3, 6, 6}));
    EXPECT_EQ(output_tensor(move, "ex").dims, (Dims{2, 3, 6, 6}));
}

TEST(EngineFusion, ConvBiasLeakyReluIsOneStep) {
    const Plan plan = plan_of("conv_leaky", 2);
    const auto convs = steps_of<ConvStep>(plan);
    ASSERT_EQ(convs.size(), 1u);
    EXPECT_EQ(convs[0]->activation, Activation::leaky_relu);
    EXPECT_FLOAT_EQ(convs[0]->alpha, 0.1f);
    EXPECT_GE(convs[0]->bias, 0);
    EXPECT_EQ(convs[0]->residual, -1);
    EXPECT_TRUE(steps_of<UnaryStep>(plan).empty());
    EXPECT_EQ(plan.tensors[convs[0]->y].layout, Layout::nhwc);
    EXPECT_EQ(plan.tensors[convs[0]->y].dtype, DType::f16);
    EXPECT_EQ(plan.tensors[convs[0]->w].dims, (Dims{8, 3, 3, 3}));  // weights stay f32 OIHW constants
    EXPECT_TRUE(plan.tensors[convs[0]->w].constant);
}

TEST(EngineFusion, SiluPatternAndDepthwiseRelu) {
    const Plan plan = plan_of("conv_silu", 2);
    const auto convs = steps_of<ConvStep>(plan);
    ASSERT_EQ(convs.size(), 2u);
    EXPECT_EQ(convs[0]->activation, Activation::silu);
    EXPECT_EQ(convs[1]->activation, Activation::relu);
    EXPECT_EQ(convs[1]->groups, 8);
    EXPECT_TRUE(steps_of<UnaryStep>(plan).empty());
    EXPECT_TRUE(steps_of<BinaryStep>(plan).empty());
    // Fused-away values do not appear.
    for (const auto& t : plan.tensors) EXPECT_TRUE(t.name != "c" && t.name != "s") << t.name;
}

TEST(EngineFusion, ResidualAddOnlyWhenTheConvHasNoOtherReader) {
    const Plan plan = plan_of("conv_residual", 2);
    const auto convs = steps_of<ConvStep>(plan);
    ASSERT_EQ(convs.size(), 3u);
    EXPECT_EQ(convs[0]->activation, Activation::relu);  // a = Relu(Conv(x))
    EXPECT_EQ(convs[0]->residual, -1);
    ASSERT_GE(convs[1]->residual, 0);  // y = Relu(Conv(a) + a)
    EXPECT_EQ(convs[1]->residual, convs[0]->y);
    EXPECT_EQ(convs[1]->activation, Activation::relu);
    EXPECT_EQ(convs[2]->residual, -1);  // d is a graph output too: e = a + d stays an Add
    EXPECT_EQ(convs[2]->bias, -1);
    EXPECT_EQ(steps_of<BinaryStep>(plan).size(), 1u);
}

TEST(EngineFusion, YoloShapedNetwork) {
    const Plan plan = plan_of("yolo_like", 2);
    const auto convs = steps_of<ConvStep>(plan);
    ASSERT_EQ(convs.size(), 7u);
    int silu = 0;
    for (const auto* c : convs) silu += c->activation == Activation::silu;
    EXPECT_EQ(silu, 4);
    // The bottleneck adds after the activation: a BinaryStep, not a residual.
    for (const auto* c : convs) EXPECT_EQ(c->residual, -1);
    // DFL: the Transpose feeding Softmax is row major, the Softmax output goes
    // to NHWC for its conv, whose input is that relayout.
    EXPECT_EQ(plan.tensors[tensor_index(plan, "dfl_t")].layout, Layout::row_major);
    const auto dfl = std::find_if(plan.steps.begin(), plan.steps.end(), [](const Step& s) {
        return s.node == "dfl_c" && std::holds_alternative<ConvStep>(s.params);
    });
    ASSERT_NE(dfl, plan.steps.end());
    EXPECT_EQ(plan.tensors[std::get<ConvStep>(dfl->params).x].name, "dfl_s/nhwc");
    EXPECT_EQ(plan.tensors[tensor_index(plan, "cat")].layout, Layout::nhwc);  // read by a conv
    EXPECT_EQ(steps_of<MaxPoolStep>(plan).size(), 2u);
    EXPECT_EQ(output_tensor(plan, "output0").dims, (Dims{2, 9, 64}));
    for (const Step& s : plan.steps) EXPECT_TRUE(s.op != "Shape" && s.op != "Gather" && s.op != "Unsqueeze") << s.op;
}

TEST(EngineLayout, ReshapeOfNhwcCopiesOfRowMajorAliases) {
    const Plan plan = plan_of("reshape", 3);
    const int input = plan.input;
    EXPECT_EQ(plan.tensors[input].layout, Layout::nhwc);
    const int r3 = tensor_index(plan, "r3");
    EXPECT_EQ(plan.tensors[r3].alias_of, -1);
    EXPECT_EQ(plan.tensors[r3].layout, Layout::row_major);
    EXPECT_TRUE(written_by<CopyStep>(plan, r3));
    const int t3 = tensor_index(plan, "t3");
    EXPECT_EQ(plan.tensors[t3].layout, Layout::row_major);  // 3-D
    for (const char* alias : {"alias1", "alias2", "alias3"}) {
        const int a = tensor_index(plan, alias);
        EXPECT_EQ(plan.tensors[a].alias_of, t3) << alias;  // chains point at the root
        EXPECT_EQ(plan.tensors[a].offset, plan.tensors[t3].offset) << alias;
        EXPECT_FALSE(written_by<CopyStep>(plan, a)) << alias;
    }
    EXPECT_EQ(plan.tensors[tensor_index(plan, "alias2")].dims, (Dims{3, 1, 15, 4}));
    EXPECT_TRUE(written_by<CopyStep>(plan, tensor_index(plan, "flat_copy")));
}

TEST(EngineLayout, FourDActivationsAreNhwcOthersRowMajor) {
    const Plan plan = plan_of("movement", 2);
    for (const auto& t : plan.tensors) {
        if (t.constant || t.alias_of >= 0) continue;
        if (std::count(plan.outputs.begin(), plan.outputs.end(), &t - plan.tensors.data())) {
            EXPECT_EQ(t.layout, Layout::row_major) << t.name;
            EXPECT_EQ(t.dtype, DType::f32) << t.name;
        } else if (t.dims.size() != 4) {
            EXPECT_EQ(t.layout, Layout::row_major) << t.name;
        }
    }
    EXPECT_EQ(plan.tensors[tensor_index(plan, "cat")].layout, Layout::row_major);  // read by the output copy only
    const Plan softmax = plan_of("softmax13", 2);
    for (const auto* s : steps_of<SoftmaxStep>(softmax)) EXPECT_EQ(softmax.tensors[s->in].layout, Layout::row_major);
    const auto soft = steps_of<SoftmaxStep>(softmax);
    ASSERT_EQ(soft.size(), 2u);
    EXPECT_EQ(soft[0]->outer, 2 * 3 * 4);  // axis -1
    EXPECT_EQ(soft[0]->axis, 5);
    EXPECT_EQ(soft[1]->axis, 3);  // axis 1
    EXPECT_EQ(soft[1]->inner, 20);
    const auto old = steps_of<SoftmaxStep>(plan_of("softmax11", 2));
    ASSERT_EQ(old.size(), 1u);
    EXPECT_EQ(old[0]->outer, 2);  // opset 11: coerced to 2-D at axis 1
    EXPECT_EQ(old[0]->axis, 60);
}

TEST(EngineArena, LifetimesShareBytesAndNeverOverlapWhileLive) {
    const Plan plan = plan_of("chain", 2);
    expect_plan_invariants(plan);
    std::size_t total = 0;
    for (const auto& t : plan.tensors)
        if (!t.constant && t.alias_of < 0) total += t.bytes;
    EXPECT_LT(plan.arena_bytes, total / 2);  // six conv outputs, at most three live at once
    std::set<std::size_t> offsets;
    int activations = 0;
    for (const auto& t : plan.tensors)
        if (!t.constant && t.alias_of < 0) offsets.insert(t.offset), ++activations;
    EXPECT_LT(int(offsets.size()), activations);
    for (const auto& t : plan.tensors)
        if (!t.constant) { EXPECT_EQ(t.offset % 256, 0u) << t.name; }
}

TEST(EngineFolding, DynamicBatchShapeArithmeticLeavesNoSteps) {
    for (int batch : {1, 3}) {
        const Plan plan = plan_of("dynamic", batch);
        EXPECT_EQ(output_tensor(plan, "y").dims, (Dims{batch, 2, 32}));
        for (const Step& s : plan.steps)
            EXPECT_TRUE(s.op == "Reshape" || s.op == "Add" || s.op == "Mul" || s.op == "Output") << s.op << " " << s.node;
        EXPECT_EQ(plan.steps.size(), 4u);
        // The folded Expand is a batch-sized constant the Add reads.
        const auto adds = steps_of<BinaryStep>(plan);
        ASSERT_EQ(adds.size(), 2u);
        EXPECT_TRUE(plan.tensors[adds[0]->b].constant);
        EXPECT_EQ(plan.tensors[adds[0]->b].dims, (Dims{batch, 2, 32}));
    }
}

TEST(EnginePlan, Fp16ActivationsFp32Outputs) {
    const Plan plan = plan_of("conv_residual", 2, Precision::fp16);
    EXPECT_EQ(plan.tensors[plan.input].dtype, DType::f16);
    EXPECT_EQ(plan.tensors[plan.input].dims, (Dims{2, 3, 6, 6}));
    EXPECT_EQ(plan.output_names, (std::vector<std::string>{"y", "d", "e"}));
    for (int o : plan.outputs) {
        EXPECT_EQ(plan.tensors[o].dtype, DType::f32);
        EXPECT_EQ(plan.tensors[o].layout, Layout::row_major);
        EXPECT_TRUE(written_by<CopyStep>(plan, o));
    }
    const Plan fp32 = plan_of("conv_residual", 2, Precision::fp32);
    for (const auto& t : fp32.tensors) EXPECT_EQ(t.dtype, DType::f32) << t.name;
}

// --- refusals ------------------------------------------------------------------
struct Refusal {
    std::string file;
    std::vector<std::string> words;
    bool at_plan = false;
};

std::string refusal_message(const Refusal& r, int batch = 2) {
    try {
        const auto graph = import_onnx(models_dir / r.file);
        if (!r.at_plan) return "(imported)";
        make_plan(*graph, batch, Precision::fp16);
        return "(planned)";
    } catch (const ss::ModelError& e) {
        return e.what();
    }
}

TEST(EngineRefusals, OneLineNamingFileNodeAndOp) {
    const std::vector<Refusal> refusals = {
        {"unknown_op.onnx", {"node 'Tanh_7' (Tanh)", "op Tanh is not supported", "backend=opencv"}},
        {"resize_cubic.onnx", {"node 'Resize_12' (Resize)", "mode 'cubic' is not supported by the cuda backend", "backend=opencv"}},
        {"resize_nearest_half_pixel.onnx", {"node 'Resize_3' (Resize)", "half_pixel"}},
        {"resize_fraction.onnx", {"node 'Resize_5' (Resize)", "fractional"}, true},
        {"maxpool_dilations.onnx", {"node 'pool_1' (MaxPool)", "dilations"}},
        {"cast_to_int.onnx", {"node 'cast_9' (Cast)", "integer"}, true},
        {"runtime_indices.onnx", {"node 'gather_2' (Gather)", "indices must be a constant"}, true},
        {"two_inputs.onnx", {"2 graph inputs", "exactly one"}},
        {"input_3d.onnx", {"3 dimensions", "4-D"}},
        {"symbolic_h.onnx", {"symbolic dimension 2"}},
        {"old_opset.onnx", {"opset 9 is not supported"}},
        {"fixed_batch.onnx", {"fixes its batch at 1"}, true},
        {"external_data.onnx", {"tensor 'w'", "external file"}},
        {"corrupt.onnx", {"not a valid ONNX model"}},
        {"truncated.onnx", {"not a valid ONNX model"}},
        {"text.onnx", {"not a valid ONNX model"}},
        {"no_such_model.onnx", {"no such file"}},
    };
    for (const auto& r : refusals) {
        const std::string message = refusal_message(r);
        SCOPED_TRACE(r.file + ": " + message);
        EXPECT_NE(message.find((models_dir / r.file).string() + ": "), std::string::npos);
        EXPECT_EQ(message.find('\n'), std::string::npos);
        for (const auto& w : r.words) EXPECT_NE(message.find(w), std::string::npos) << w;
    }
    // The fixed-batch model plans at its own batch.
    EXPECT_EQ(refusal_message({"fixed_batch.onnx", {}, true}, 1), "(planned)");
}

}  // namespace
}  // namespace ss::engine
