// The slipstream GStreamer plugin: registers every element. Built both as a
// loadable plugin (GST_PLUGIN_PATH=build/gst) and linked statically into the
// slipstream command, which registers it with ss_register_elements().
#include "plugin.hpp"

#include "batchmux/gstssbatchmux.hpp"
#ifdef SS_HAVE_CUDA
#include "cudascale/gstsscudascale.hpp"
#endif
#include "infer/gstssinfer.hpp"
#include "tiler/gstsstiler.hpp"
#include "tracker/gstsstracker.hpp"

#include "slipstream/log.hpp"

#ifndef SS_STATIC_PLUGIN
GST_DEBUG_CATEGORY_STATIC(ss_core_debug);
#endif

static gboolean plugin_init(GstPlugin* plugin) {
#ifndef SS_STATIC_PLUGIN
    // Loaded by a GStreamer application: the core's messages go to its debug log.
    // (The slipstream command routes them itself.)
    GST_DEBUG_CATEGORY_INIT(ss_core_debug, "sscore", 0, "slipstream core");
    ss::set_log_sink([](ss::LogLevel level, std::string_view message) {
        const GstDebugLevel gst_level = level == ss::LogLevel::error     ? GST_LEVEL_ERROR
                                        : level == ss::LogLevel::warning ? GST_LEVEL_WARNING
                                        : level == ss::LogLevel::info    ? GST_LEVEL_INFO
                                                                         : GST_LEVEL_DEBUG;
        GST_CAT_LEVEL_LOG(ss_core_debug, gst_level, nullptr, "%.*s", static_cast<int>(message.size()), message.data());
    });
#endif
#ifdef SS_HAVE_CUDA
    // Registered with or without a GPU: it needs one only when CUDA frames arrive.
    if (!gst_element_register(plugin, "sscudascale", GST_RANK_NONE, SS_TYPE_CUDA_SCALE)) return FALSE;
#endif
    return gst_element_register(plugin, "ssbatchmux", GST_RANK_NONE, SS_TYPE_BATCH_MUX) &&
           gst_element_register(plugin, "ssinfer", GST_RANK_NONE, SS_TYPE_INFER) &&
           gst_element_register(plugin, "sstracker", GST_RANK_NONE, SS_TYPE_TRACKER) &&
           gst_element_register(plugin, "sstiler", GST_RANK_NONE, SS_TYPE_TILER);
}

#ifdef SS_STATIC_PLUGIN
gboolean ss_register_elements() {
    return gst_plugin_register_static(GST_VERSION_MAJOR, GST_VERSION_MINOR, "slipstream", "slipstream analytics elements",
                                      plugin_init, "0.1.0", "LGPL", "slipstream", "slipstream", "https://example.invalid/slipstream");
}
#else
#define PACKAGE "slipstream"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, slipstream, "slipstream analytics elements", plugin_init, "0.1.0",
                  "LGPL", "slipstream", "https://example.invalid/slipstream")
#endif
