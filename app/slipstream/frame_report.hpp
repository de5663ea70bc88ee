#pragma once
// What the pipeline tells about every frame: the original's per-frame line on
// stdout and, optionally, one JSON line per frame per stream.
#include <gst/gst.h>

#include <cstdio>
#include <memory>
#include <string>

#include "line_writer.hpp"

namespace slipstream {

class FrameReport {
public:
    // metadata: nullptr for none; stdout allowed.
    FrameReport(bool show_frames, FILE* metadata);

    // Attach to a pad that carries batches after detection (and tracking).
    void attach(GstPad* pad);

private:
    void report(GstBuffer* batch, GstClockTime now);

    bool show_frames_;
    std::unique_ptr<LineWriter> lines_, metadata_;
    std::string text_;  // reused: one write per batch
    std::string json_;
};

}  // namespace slipstream
