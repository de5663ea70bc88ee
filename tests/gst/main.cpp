// Test main: GStreamer set up once, with the slipstream elements registered
// statically, before any test runs.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "plugin.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // The tests need no installed plugin: skip the registry scan, which would make
    // the first run slow and tie results to what the machine has installed.
    g_setenv("GST_REGISTRY_DISABLE", "yes", FALSE);
    gst_init(nullptr, nullptr);
    if (!ss_register_elements()) {
        fprintf(stderr, "could not register the slipstream elements\n");
        return 1;
    }
    const int result = RUN_ALL_TESTS();
    gst_deinit();
    return result;
}
