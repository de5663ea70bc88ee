// Test main: GStreamer (with its installed plugins) and the slipstream
// elements set up once, before any test runs.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "plugin.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    gst_init(nullptr, nullptr);
    if (!ss_register_elements()) {
        fprintf(stderr, "could not register the slipstream elements\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
