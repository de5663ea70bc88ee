// The trackers' optimal assignment, checked against trying every assignment.
#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "assignment.hpp"  // core/src/trackers: internal to the core

namespace {

// Visits every way to give each row a distinct column or none; `pick(row, col)`
// says whether a pair may be made, `done(pairs)` sees each complete choice.
template <typename Pick, typename Done>
void for_each_matching(std::size_t rows, std::size_t cols, Pick pick, Done done) {
    std::vector<char> used(cols, 0);
    ss::IndexPairs pairs;
    auto visit = [&](auto&& self, std::size_t row) -> void {
        if (row == rows) return done(pairs);
        self(self, row + 1);  // row left unpaired
        for (std::size_t c = 0; c < cols; ++c) {
            if (used[c] || !pick(row, c)) continue;
            used[c] = 1;
            pairs.emplace_back(row, c);
            self(self, row + 1);
            pairs.pop_back();
            used[c] = 0;
        }
    };
    visit(visit, 0);
}

void expect_one_to_one(const ss::IndexPairs& pairs, std::size_t rows, std::size_t cols) {
    std::vector<char> row_used(rows, 0), col_used(cols, 0);
    for (const auto& [r, c] : pairs) {
        ASSERT_LT(r, rows);
        ASSERT_LT(c, cols);
        EXPECT_FALSE(row_used[r]++) << "row " << r << " twice";
        EXPECT_FALSE(col_used[c]++) << "column " << c << " twice";
    }
    EXPECT_TRUE(std::is_sorted(pairs.begin(), pairs.end()));
}

}  // namespace

TEST(TrackerAssignment, BeatsGreedyWhereGreedyIsWrong) {
    // Greedy takes (0,0) at 0.1 and is left with (1,1) at 0.9: total 1.0. Optimal: 0.2 + 0.15.
    const std::vector<double> cost = {0.1, 0.2,  //
                                      0.15, 0.9};
    EXPECT_EQ(ss::solve_assignment(cost, 2, 2), (ss::IndexPairs{{0, 1}, {1, 0}}));
    EXPECT_TRUE(ss::solve_assignment({}, 0, 3).empty());
    EXPECT_TRUE(ss::solve_assignment({}, 3, 0).empty());
}

TEST(TrackerAssignment, MatchesBruteForceOnRandomRectangularMatrices) {
    std::mt19937 random(7);
    std::uniform_real_distribution<double> value(-1.0, 1.0);
    for (int trial = 0; trial < 600; ++trial) {
        const std::size_t rows = random() % 7, cols = random() % 7;
        std::vector<double> cost(rows * cols);
        for (double& c : cost) c = value(random);
        if (trial % 3 == 0) {
            for (double& c : cost) c = std::floor(c * 2);  // many ties, which must not break optimality
        }
        SCOPED_TRACE(::testing::Message() << "trial " << trial << ": " << rows << "x" << cols);
        const auto pairs = ss::solve_assignment(cost, rows, cols);
        expect_one_to_one(pairs, rows, cols);
        ASSERT_EQ(pairs.size(), std::min(rows, cols));
        double got = 0, best = 1e300;
        for (const auto& [r, c] : pairs) got += cost[r * cols + c];
        for_each_matching(rows, cols, [](auto, auto) { return true; }, [&](const ss::IndexPairs& p) {
            if (p.size() != std::min(rows, cols)) return;
            double total = 0;
            for (const auto& [r, c] : p) total += cost[r * cols + c];
            best = std::min(best, total);
        });
        EXPECT_NEAR(got, pairs.empty() ? 0 : best, 1e-9);
    }
}

TEST(TrackerAssignment, IouMatchingKeepsClassesApartAndGates) {
    const std::vector<ss::BoxOfClass> tracks = {{{0, 0, 10, 10}, 0}, {{100, 0, 10, 10}, 1}};
    const std::vector<ss::BoxOfClass> detections = {
        {{100, 0, 10, 10}, 0},  // on track 1's box, but class 0
        {{1, 0, 10, 10}, 0},    // IoU 0.82 with track 0
        {{108, 0, 10, 10}, 1},  // IoU 2/18 with track 1: below the gate
    };
    EXPECT_EQ(ss::match_by_iou(tracks, detections, 0.3f), (ss::IndexPairs{{0, 1}}));
    EXPECT_EQ(ss::match_by_iou(tracks, detections, 0.1f), (ss::IndexPairs{{0, 1}, {1, 2}}));
}

TEST(TrackerAssignment, OneCloseMatchBeatsTwoMarginalOnes) {
    // Track 0 sits on detection 0 (IoU 1) and barely over the gate on detection 1;
    // track 1 is barely over the gate on detection 0. Two pairs would give each
    // a marginal match; one close pair is kept instead, and track 1 goes unmatched.
    const std::vector<ss::BoxOfClass> tracks = {{{0, 0, 10, 10}, 0}, {{5, 0, 10, 10}, 0}};
    const std::vector<ss::BoxOfClass> detections = {{{0, 0, 10, 10}, 0}, {{-5, 0, 10, 10}, 0}};
    EXPECT_EQ(ss::match_by_iou(tracks, detections, 0.3f), (ss::IndexPairs{{0, 0}}));
}

TEST(TrackerAssignment, IouMatchingMatchesBruteForceOnRandomBoxes) {
    std::mt19937 random(11);
    std::uniform_real_distribution<float> position(0.f, 60.f), size(10.f, 40.f);
    auto box = [&] { return ss::Box{position(random), position(random), size(random), size(random)}; };
    const float gate = 0.3f;
    for (int trial = 0; trial < 400; ++trial) {
        std::vector<ss::BoxOfClass> tracks(random() % 6), detections(random() % 6);
        for (auto& t : tracks) t = {box(), static_cast<int>(random() % 2)};
        for (auto& d : detections) d = {box(), static_cast<int>(random() % 2)};
        auto gain = [&](std::size_t t, std::size_t d) {
            const float iou = ss::intersection_over_union(tracks[t].box, detections[d].box);
            return tracks[t].class_id == detections[d].class_id && iou >= gate ? double(iou) - gate : -1.0;
        };
        SCOPED_TRACE(::testing::Message() << "trial " << trial);
        const auto pairs = ss::match_by_iou(tracks, detections, gate);
        expect_one_to_one(pairs, tracks.size(), detections.size());
        double got = 0, best = 0;
        for (const auto& [t, d] : pairs) {
            ASSERT_GE(gain(t, d), 0) << "pair " << t << "," << d << " is gated out";
            got += gain(t, d);
        }
        for_each_matching(tracks.size(), detections.size(), [&](auto t, auto d) { return gain(t, d) >= 0; },
                          [&](const ss::IndexPairs& p) {
                              double total = 0;
                              for (const auto& [t, d] : p) total += gain(t, d);
                              best = std::max(best, total);
                          });
        EXPECT_NEAR(got, best, 1e-6);
    }
}
