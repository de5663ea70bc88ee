#pragma once
// Helpers of the engine tests: finding tensors and steps in a plan, and the
// invariants every plan must keep, checked by walking it.
#include <slipstream/engine/plan.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace ss::engine {

// A tensor by its ONNX name (a graph output's producer is renamed "<name>/computed").
inline int tensor_index(const Plan& plan, const std::string& name) {
    for (const std::string& wanted : {name + "/computed", name})
        for (std::size_t i = 0; i < plan.tensors.size(); ++i)
            if (plan.tensors[i].name == wanted) return int(i);
    ADD_FAILURE() << "no tensor " << name;
    return 0;
}

inline const PlannedTensor& output_tensor(const Plan& plan, const std::string& name) {
    for (std::size_t k = 0; k < plan.output_names.size(); ++k)
        if (plan.output_names[k] == name) return plan.tensors[plan.outputs[k]];
    ADD_FAILURE() << "no output " << name;
    return plan.tensors.at(0);
}

template <typename T>
std::vector<const T*> steps_of(const Plan& plan) {
    std::vector<const T*> found;
    for (const Step& s : plan.steps)
        if (const T* p = std::get_if<T>(&s.params)) found.push_back(p);
    return found;
}

template <typename T>
bool written_by(const Plan& plan, int tensor) {
    for (const Step& s : plan.steps)
        if (std::holds_alternative<T>(s.params) && step_writes(s) == tensor) return true;
    return false;
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, float tolerance) {
    ASSERT_EQ(got.size(), want.size());
    int bad = 0;
    for (std::size_t i = 0; i < got.size() && bad < 5; ++i)
        if (!(std::abs(got[i] - want[i]) <= tolerance * (1 + std::abs(want[i])))) {
            ADD_FAILURE() << "element " << i << ": " << got[i] << " != " << want[i];
            ++bad;
        }
}

// [lowest, highest] element reached by a strided walk.
inline std::pair<int64_t, int64_t> reach(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, int64_t offset) {
    int64_t lo = offset, hi = offset;
    for (std::size_t d = 0; d < dims.size(); ++d) {
        const int64_t span = (dims[d] - 1) * strides[d];
        (span < 0 ? lo : hi) += span;
    }
    return {lo, hi};
}

inline void expect_plan_invariants(const Plan& plan) {
    const int count = int(plan.tensors.size());
    const DType act = plan.precision == Precision::fp16 ? DType::f16 : DType::f32;
    auto valid = [&](int t) { return t >= 0 && t < count; };
    ASSERT_TRUE(valid(plan.input));
    ASSERT_EQ(plan.outputs.size(), plan.output_names.size());
    auto root = [&](int t) { return plan.tensors[t].alias_of >= 0 ? plan.tensors[t].alias_of : t; };
    auto is_output = [&](int t) { return std::count(plan.outputs.begin(), plan.outputs.end(), t) > 0; };

    for (int i = 0; i < count; ++i) {
        const PlannedTensor& t = plan.tensors[i];
        SCOPED_TRACE("tensor " + t.name);
        if (t.constant) {
            ASSERT_TRUE(t.constant_index >= 0 && t.constant_index < int(plan.constants.size()));
            EXPECT_EQ(int64_t(plan.constants[t.constant_index].values.size()), t.elements());
            continue;
        }
        EXPECT_EQ(t.dtype, is_output(i) ? DType::f32 : act);
        EXPECT_EQ(t.bytes, std::size_t(t.elements()) * (t.dtype == DType::f16 ? 2 : 4));
        if (t.layout == Layout::nhwc) { EXPECT_EQ(t.dims.size(), 4u); }
        if (t.alias_of >= 0) {
            ASSERT_TRUE(valid(t.alias_of));
            EXPECT_EQ(plan.tensors[t.alias_of].alias_of, -1);
            EXPECT_EQ(plan.tensors[t.alias_of].layout, Layout::row_major);
            EXPECT_EQ(t.layout, Layout::row_major);
            EXPECT_EQ(t.elements(), plan.tensors[t.alias_of].elements());
            EXPECT_EQ(t.offset, plan.tensors[t.alias_of].offset);
        }
        EXPECT_EQ(t.offset % 256, 0u);
        EXPECT_LE(t.offset + t.bytes, plan.arena_bytes);
    }
    for (int o : plan.outputs) {
        ASSERT_TRUE(valid(o));
        EXPECT_EQ(plan.tensors[o].layout, Layout::row_major);
    }

    // Steps read only what exists by then; lifetimes from the steps.
    std::vector<int> first(count, INT32_MAX), last(count, -2);
    first[plan.input] = -1;
    const int end = int(plan.steps.size());
    for (int s = 0; s < end; ++s) {
        const Step& step = plan.steps[s];
        SCOPED_TRACE("step " + std::to_string(s) + " " + step.op + " " + step.node);
        for (int r : step_reads(step)) {
            ASSERT_TRUE(valid(r));
            if (!plan.tensors[r].constant) {
                EXPECT_LT(first[root(r)], s) << "reads " << plan.tensors[r].name << " before it is written";
                last[root(r)] = std::max(last[root(r)], s);
            }
        }
        const int w = step_writes(step);
        ASSERT_TRUE(valid(w));
        EXPECT_FALSE(plan.tensors[w].constant);
        EXPECT_EQ(plan.tensors[w].alias_of, -1);
        first[w] = std::min(first[w], s);
        last[w] = std::max(last[w], s);
        const auto& t = plan.tensors;
        if (auto* c = std::get_if<ConvStep>(&step.params)) {
            EXPECT_EQ(t[c->x].layout, Layout::nhwc);
            EXPECT_EQ(t[c->y].layout, Layout::nhwc);
            EXPECT_TRUE(t[c->w].constant);
            if (c->bias >= 0) { EXPECT_TRUE(t[c->bias].constant); }
            if (c->residual >= 0) { EXPECT_EQ(t[c->residual].dims, t[c->y].dims); }
        } else if (auto* c = std::get_if<CopyStep>(&step.params)) {
            EXPECT_LE(c->dims.size(), std::size_t(max_rank));
            ASSERT_EQ(c->in_strides.size(), c->dims.size());
            ASSERT_EQ(c->out_strides.size(), c->dims.size());
            const auto [ilo, ihi] = reach(c->dims, c->in_strides, c->in_offset);
            const auto [olo, ohi] = reach(c->dims, c->out_strides, c->out_offset);
            EXPECT_GE(ilo, 0);
            EXPECT_LT(ihi, t[c->in].elements());
            EXPECT_GE(olo, 0);
            EXPECT_LT(ohi, t[c->out].elements());
        } else if (auto* b = std::get_if<BinaryStep>(&step.params)) {
            int64_t n = 1;
            for (int64_t d : b->dims) n *= d;
            EXPECT_EQ(n, t[b->out].elements());
            ASSERT_EQ(b->a_strides.size(), b->dims.size());
            ASSERT_EQ(b->b_strides.size(), b->dims.size());
            EXPECT_LT(reach(b->dims, b->a_strides, 0).second, t[b->a].elements());
            EXPECT_LT(reach(b->dims, b->b_strides, 0).second, t[b->b].elements());
        } else if (auto* r = std::get_if<ResizeStep>(&step.params)) {
            EXPECT_EQ(t[r->in].layout, Layout::nhwc);
            EXPECT_EQ(t[r->out].layout, Layout::nhwc);
        } else if (auto* m = std::get_if<MaxPoolStep>(&step.params)) {
            EXPECT_EQ(t[m->in].layout, Layout::nhwc);
            EXPECT_EQ(t[m->out].layout, Layout::nhwc);
        } else if (auto* s2 = std::get_if<SoftmaxStep>(&step.params)) {
            EXPECT_EQ(t[s2->in].layout, Layout::row_major);
            EXPECT_EQ(s2->outer * s2->axis * s2->inner, t[s2->in].elements());
        } else if (auto* mm = std::get_if<MatMulStep>(&step.params)) {
            if (!t[mm->a].constant) { EXPECT_EQ(t[mm->a].layout, Layout::row_major); }
            if (!t[mm->b].constant) { EXPECT_EQ(t[mm->b].layout, Layout::row_major); }
            EXPECT_EQ(mm->batch * mm->m * mm->n, t[mm->out].elements());
        }
    }
    for (int o : plan.outputs) last[root(o)] = end;

    // No two tensors alive at the same time share a byte.
    for (int a = 0; a < count; ++a)
        for (int b = a + 1; b < count; ++b) {
            const PlannedTensor &ta = plan.tensors[a], &tb = plan.tensors[b];
            if (ta.constant || tb.constant || ta.alias_of >= 0 || tb.alias_of >= 0) continue;
            const bool both_live = !(last[a] < first[b] || last[b] < first[a]);
            const bool share = ta.offset < tb.offset + tb.bytes && tb.offset < ta.offset + ta.bytes;
            EXPECT_FALSE(both_live && share) << ta.name << " and " << tb.name << " overlap while both live";
        }
}

}  // namespace ss::engine
