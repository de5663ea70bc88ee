// The Prometheus exposition writer: escaping, number formatting, histograms.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "prometheus_text.hpp"

using namespace slipstream::prometheus;

TEST(PrometheusText, EscapesLabelValuesAndHelp) {
    EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
    EXPECT_EQ(escape_label_value("plain"), "plain");
    // HELP keeps its quotes: only backslash and newline are escaped there.
    EXPECT_EQ(escape_help("say \"hi\"\\\nnext"), R"(say "hi"\\\nnext)");
}

TEST(PrometheusText, FormatsValues) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(1234567890123.0), "1234567890123");  // a counter, never 1.23e+12
    EXPECT_EQ(format_value(0.1), "0.1");
    EXPECT_EQ(format_value(0.0025), "0.0025");
    EXPECT_EQ(format_value(-2.5), "-2.5");
    EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
    EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
    EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
    EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // reads back exactly
}

TEST(PrometheusText, WritesFamiliesAndLabels) {
    TextWriter w;
    w.family("slipstream_camera_frames_shown_total", TextWriter::Type::counter, "Frames shown.\nPer camera.");
    w.sample("slipstream_camera_frames_shown_total", {{"camera_id", "0"}, {"camera_name", "door \"A\""}}, 42);
    w.family("slipstream_output_fps", TextWriter::Type::gauge, "Output pictures per second.");
    w.sample("slipstream_output_fps", {}, 29.5);
    EXPECT_EQ(w.text(),
              "# HELP slipstream_camera_frames_shown_total Frames shown.\\nPer camera.\n"
              "# TYPE slipstream_camera_frames_shown_total counter\n"
              "slipstream_camera_frames_shown_total{camera_id=\"0\",camera_name=\"door \\\"A\\\"\"} 42\n"
              "# HELP slipstream_output_fps Output pictures per second.\n"
              "# TYPE slipstream_output_fps gauge\n"
              "slipstream_output_fps 29.5\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeAndInfIsTheCount) {
    LatencyHistogram h;
    h.observe(0.0005);  // <= 1 ms
    h.observe(0.001);   // on the bound: still le="0.001"
    h.observe(0.003);   // <= 5 ms
    h.observe(60);      // over every bound
    h.observe(-1);      // unknown: not counted
    TextWriter w;
    w.histogram("slipstream_stage_latency_seconds", {{"stage", "receive"}}, h.snapshot());
    const std::string& t = w.text();
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_bucket{stage=\"receive\",le=\"0.001\"} 2\n"), std::string::npos) << t;
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_bucket{stage=\"receive\",le=\"0.0025\"} 2\n"), std::string::npos) << t;
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_bucket{stage=\"receive\",le=\"0.005\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_bucket{stage=\"receive\",le=\"10\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_bucket{stage=\"receive\",le=\"+Inf\"} 4\n"), std::string::npos) << t;
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_sum{stage=\"receive\"} 60.0045\n"), std::string::npos) << t;
    EXPECT_NE(t.find("slipstream_stage_latency_seconds_count{stage=\"receive\"} 4\n"), std::string::npos) << t;
}

TEST(PrometheusText, HistogramTakesObservationsFromManyThreads) {
    LatencyHistogram h;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&h] {
            for (int i = 0; i < 10000; ++i) h.observe(0.002);
        });
    }
    for (auto& t : threads) t.join();
    const HistogramSnapshot s = h.snapshot();
    std::uint64_t total = 0;
    for (const auto c : s.counts) total += c;
    EXPECT_EQ(total, 40000u);
    EXPECT_EQ(s.counts[1], 40000u);  // le="0.0025"
    EXPECT_NEAR(s.sum, 80.0, 1e-6);
}
