// The console's writer: text arrives whole and in order, credentials masked,
// and bulk text is dropped, never waited for, when the reader falls behind.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "line_writer.hpp"

namespace {

std::string read_all(FILE* file) {
    std::rewind(file);
    std::string text;
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, n);
    return text;
}

}  // namespace

TEST(LineWriter, WritesInOrderAndMasksCredentials) {
    FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    {
        slipstream::LineWriter writer(file, "the test file");
        writer.write_message("Input 0: rtsp://admin:secret@cam/stream\n");
        writer.write("Stream=0 Frame=1\n");
        writer.write_message("error: could not open rtsp://user:pw@10.0.0.1:554/a (\"rtsp://x:y@h/b\")\n");
    }
    EXPECT_EQ(read_all(file),
              "Input 0: rtsp://***@cam/stream\n"
              "Stream=0 Frame=1\n"
              "error: could not open rtsp://***@10.0.0.1:554/a (\"rtsp://***@h/b\")\n");
    std::fclose(file);
}

TEST(LineWriter, BulkTextOverTheBoundIsDroppedMessagesNever) {
    FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    {
        // A bound smaller than one bulk write: all of it is dropped, the message is not.
        slipstream::LineWriter writer(file, "the test file", 4);
        writer.write("Stream=0 Frame=1\n");
        writer.write_message("Output: rtsp://host:8554/ds\n");
    }
    EXPECT_EQ(read_all(file), "Output: rtsp://host:8554/ds\n");
    std::fclose(file);
}

TEST(LineWriter, AfterFinishMessagesGoStraightOut) {
    FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    slipstream::LineWriter writer(file, "the test file");
    writer.write_message("first\n");
    writer.finish();
    writer.write_message("late rtsp://a:b@c/d\n");
    writer.write("bulk after the end\n");
    EXPECT_EQ(read_all(file), "first\nlate rtsp://***@c/d\n");
    std::fclose(file);
    EXPECT_FALSE(slipstream::LineWriter::any_stuck());
}
