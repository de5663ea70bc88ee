#include "encoded_stream.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include "frame_stamp.hpp"

namespace fs = std::filesystem;

namespace ss::camsim {
namespace {

// Cache file layout (native byte order; the cache never leaves the machine):
//   CacheHeader, then per access unit: UnitHeader followed by its bytes.
constexpr char kCacheMagic[8] = {'S', 'L', 'I', 'P', 'C', 'A', 'M', 'S'};
constexpr uint32_t kCacheFormatVersion = 1;
// Part of every cache key; bump it when the encoder settings below change so
// streams encoded the old way are not reused.
constexpr int kEncoderSettingsVersion = 2;
constexpr uint32_t kKeyframeFlag = 1;
constexpr int kFallbackFps = 30;

struct CacheHeader {
    char magic[8];
    uint32_t format_version;
    uint32_t codec;
    uint32_t width;
    uint32_t height;
    uint32_t fps;
    uint32_t unit_count;
};

struct UnitHeader {
    uint32_t size;
    uint32_t flags;
};

struct GObjectUnref {
    void operator()(gpointer object) const {
        if (object) g_object_unref(object);
    }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GErrorFree {
    void operator()(GError* error) const { g_error_free(error); }
};
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;

template <typename T>
void append_pod(std::vector<uint8_t>& bytes, const T& value) {
    const auto* raw = reinterpret_cast<const uint8_t*>(&value);
    bytes.insert(bytes.end(), raw, raw + sizeof(T));
}

uint64_t fnv1a_64(std::string_view text) {
    uint64_t hash = 0xcbf29ce484222325ull;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

int round_down_even(int value) { return value & ~1; }

int round_even(double value) { return std::max(16, 2 * static_cast<int>(std::lround(value / 2))); }

// Checks the bytes and builds the index of access units; nullptr if they are
// not a complete stream in the cache format.
std::shared_ptr<EncodedStream> index_stream(std::vector<uint8_t> bytes) {
    CacheHeader header{};
    if (bytes.size() < sizeof header) return nullptr;
    std::memcpy(&header, bytes.data(), sizeof header);
    if (std::memcmp(header.magic, kCacheMagic, sizeof kCacheMagic) != 0 ||
        header.format_version != kCacheFormatVersion || header.codec > 1 || header.unit_count == 0 ||
        header.fps == 0 || header.width == 0 || header.height == 0)
        return nullptr;

    auto stream = std::make_shared<EncodedStream>();
    stream->codec = header.codec == 0 ? Codec::h264 : Codec::h265;
    stream->width = static_cast<int>(header.width);
    stream->height = static_cast<int>(header.height);
    stream->fps = static_cast<int>(header.fps);
    stream->units.reserve(header.unit_count);
    size_t offset = sizeof header;
    for (uint32_t i = 0; i < header.unit_count; ++i) {
        UnitHeader unit_header{};
        if (bytes.size() - offset < sizeof unit_header) return nullptr;
        std::memcpy(&unit_header, bytes.data() + offset, sizeof unit_header);
        offset += sizeof unit_header;
        if (unit_header.size == 0 || bytes.size() - offset < unit_header.size) return nullptr;
        bool keyframe = unit_header.flags & kKeyframeFlag;
        if (keyframe) stream->keyframe_units.push_back(stream->units.size());
        stream->units.push_back({offset, unit_header.size, keyframe});
        offset += unit_header.size;
    }
    if (offset != bytes.size() || !stream->units.front().keyframe) return nullptr;
    stream->bytes = std::move(bytes);
    return stream;
}

std::vector<uint8_t> read_whole_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::error_code error;
    auto size = fs::file_size(path, error);
    if (error) return {};
    std::vector<uint8_t> bytes(size);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (!in) return {};
    return bytes;
}

void write_cache_file(const fs::path& path, const std::vector<uint8_t>& bytes) {
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    // Write under a private name and rename, so concurrent runs and crashes
    // never leave a half-written file under the real name.
    fs::path temporary = path;
    temporary += ".tmp" + std::to_string(getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (out) fs::rename(temporary, path, error);
        else error = std::make_error_code(std::errc::io_error);
    }
    if (error) {
        fs::remove(temporary, error);
        std::fprintf(stderr,
                     "slipstream-camsim: warning: cannot write the cache file %s; the next run will encode "
                     "again (set SLIPSTREAM_CACHE to a writable folder)\n",
                     path.c_str());
    }
}

struct SourceVideo {
    int width = 0;
    int height = 0;
    int fps = 0;  // 0: the file does not say
};

// Asks GStreamer what the file holds, turning every way it can be unusable
// into an InputError that says what to do.
SourceVideo probe_source(const std::string& file, const std::string& uri) {
    GError* raw_error = nullptr;
    GObjectPtr<GstDiscoverer> discoverer(gst_discoverer_new(20 * GST_SECOND, &raw_error));
    GErrorPtr error(raw_error);
    if (!discoverer) throw std::runtime_error("cannot create a GStreamer discoverer: " + std::string(error->message));

    raw_error = nullptr;
    GObjectPtr<GstDiscovererInfo> info(gst_discoverer_discover_uri(discoverer.get(), uri.c_str(), &raw_error));
    error.reset(raw_error);
    GstDiscovererResult result = info ? gst_discoverer_info_get_result(info.get()) : GST_DISCOVERER_ERROR;
    std::string detail = error ? error->message : "unknown error";
    switch (result) {
        case GST_DISCOVERER_OK:
            break;
        case GST_DISCOVERER_MISSING_PLUGINS:
            throw InputError(file + ": no GStreamer plugin can decode it; install gstreamer1.0-libav and "
                                    "gstreamer1.0-plugins-{good,bad,ugly}, or convert the file to H.264 MP4");
        case GST_DISCOVERER_TIMEOUT:
            throw InputError(file + ": GStreamer timed out reading it; check that it is a complete video file");
        default:
            throw InputError(file + ": not a video file GStreamer can read (" + detail +
                             "); pass a video such as .mp4, .mkv or .avi");
    }

    GList* video_streams = gst_discoverer_info_get_video_streams(info.get());
    if (!video_streams) {
        throw InputError(file + ": has no video stream; pass a video file");
    }
    auto* video = GST_DISCOVERER_VIDEO_INFO(video_streams->data);
    SourceVideo source;
    source.width = static_cast<int>(gst_discoverer_video_info_get_width(video));
    source.height = static_cast<int>(gst_discoverer_video_info_get_height(video));
    unsigned fps_num = gst_discoverer_video_info_get_framerate_num(video);
    unsigned fps_den = gst_discoverer_video_info_get_framerate_denom(video);
    bool is_image = gst_discoverer_video_info_is_image(video);
    gst_discoverer_stream_info_list_free(video_streams);
    if (is_image) throw InputError(file + ": is a still image; pass a video file");
    if (source.width < 16 || source.height < 16)
        throw InputError(file + ": video size " + std::to_string(source.width) + "x" + std::to_string(source.height) +
                         " is too small or unknown; pass a larger video");
    if (fps_num > 0 && fps_den > 0)
        source.fps = std::clamp(static_cast<int>(std::lround(double(fps_num) / fps_den)), 1, 240);
    return source;
}

// The concrete size and rate to encode at.
struct EncodeShape {
    int width = 0;
    int height = 0;
    int fps = 0;
};

EncodeShape resolve_shape(const StreamRequest& request, const SourceVideo& source) {
    EncodeShape shape;
    double aspect = double(source.width) / source.height;
    if (request.width && request.height) {
        shape.width = request.width;
        shape.height = request.height;
    } else if (request.width) {
        shape.width = request.width;
        shape.height = std::min(8192, round_even(request.width / aspect));
    } else if (request.height) {
        shape.height = request.height;
        shape.width = std::min(8192, round_even(request.height * aspect));
    } else {
        shape.width = round_down_even(source.width);
        shape.height = round_down_even(source.height);
    }
    shape.fps = request.fps ? request.fps : source.fps ? source.fps : kFallbackFps;
    const StampPlacement placement{request.stamp_cell, request.stamp_bottom, request.stamp_shape};
    const int stamp_w = stamp_width(placement, shape.width), stamp_h = stamp_height(placement, shape.width);
    if (request.stamp && (shape.width < stamp_w || shape.height < stamp_h)) {
        throw InputError("--stamp needs frames at least " + std::to_string(stamp_w) + " pixels wide and " +
                         std::to_string(stamp_h) + " high, but " +
                         request.file + " would be " + std::to_string(shape.width) + "x" +
                         std::to_string(shape.height) + "; pass a larger --width or a smaller --stamp-cell");
    }
    return shape;
}

GstElement* make_element(const char* factory) {
    GstElement* element = gst_element_factory_make(factory, nullptr);
    if (!element) {
        throw std::runtime_error(std::string("the GStreamer element ") + factory +
                                 " is missing; install gstreamer1.0-plugins-{base,good,bad,ugly}");
    }
    return element;
}

// Configures the encoder for camera-like streams that clients can join fast:
// a key frame every second, no B-frames (no reordering delay in decoders).
void configure_encoder(GstElement* encoder, Codec codec, const EncodeShape& shape, int bitrate_bps) {
    unsigned kbps = static_cast<unsigned>(std::max(1, bitrate_bps / 1000));
    if (codec == Codec::h264) {
        g_object_set(encoder, "bitrate", kbps, "key-int-max", static_cast<unsigned>(shape.fps), "bframes", 0u,
                     nullptr);
        gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "veryfast");
        gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
        // zerolatency would also split frames into one slice per thread; the
        // payloader then repeats SPS/PPS between the slices of key frames,
        // which some clients (ffmpeg) read as two frames. One slice per frame.
        g_object_set(encoder, "sliced-threads", FALSE, nullptr);
    } else {
        // x265's zerolatency tune forces single-frame threading, which makes
        // the one-time encode several times slower; the options below give
        // the same stream structure.
        g_object_set(encoder, "bitrate", kbps, "key-int-max", shape.fps, "option-string",
                     "bframes=0:open-gop=0:rc-lookahead=0", nullptr);
        gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "ultrafast");
        gst_util_set_object_arg(G_OBJECT(encoder), "log-level", "none");
    }
}

// Links the decoder's first video pad into the encode chain and sends every
// other stream (audio, extra video) into a fakesink so it cannot stall decoding.
struct DecoderLinker {
    GstElement* pipeline = nullptr;
    GstElement* video_entry = nullptr;
    std::mutex mutex;

    static void on_pad_added(GstElement*, GstPad* pad, gpointer data) {
        auto* self = static_cast<DecoderLinker*>(data);
        std::lock_guard lock(self->mutex);
        GstCaps* caps = gst_pad_get_current_caps(pad);
        if (!caps) caps = gst_pad_query_caps(pad, nullptr);
        bool is_video = false;
        if (caps && !gst_caps_is_empty(caps)) {
            is_video = g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
        }
        if (caps) gst_caps_unref(caps);

        GstPad* video_sink = gst_element_get_static_pad(self->video_entry, "sink");
        if (is_video && !gst_pad_is_linked(video_sink)) {
            gst_pad_link(pad, video_sink);
        } else {
            GstElement* discard = gst_element_factory_make("fakesink", nullptr);
            g_object_set(discard, "sync", FALSE, "async", FALSE, nullptr);
            gst_bin_add(GST_BIN(self->pipeline), discard);
            gst_element_sync_state_with_parent(discard);
            GstPad* discard_sink = gst_element_get_static_pad(discard, "sink");
            gst_pad_link(pad, discard_sink);
            gst_object_unref(discard_sink);
        }
        gst_object_unref(video_sink);
    }
};

struct StampProbe {
    GstVideoInfo info{};
    StampPlacement placement;
    uint32_t next_counter = 0;

    static GstPadProbeReturn on_buffer(GstPad*, GstPadProbeInfo* probe_info, gpointer data) {
        auto* self = static_cast<StampProbe*>(data);
        GstBuffer* buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(probe_info));
        GST_PAD_PROBE_INFO_DATA(probe_info) = buffer;
        GstVideoFrame frame;
        if (gst_video_frame_map(&frame, &self->info, buffer, GST_MAP_WRITE)) {
            paint_frame_stamp(frame, self->next_counter, self->placement);
            gst_video_frame_unmap(&frame);
        }
        ++self->next_counter;
        return GST_PAD_PROBE_OK;
    }
};

std::string bus_error_text(GstMessage* message) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &error, &debug);
    std::string text = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    g_free(debug);
    return text;
}

// Runs file -> decode -> scale/rate -> (stamp) -> encode -> parse -> appsink
// as fast as the CPU allows and collects the access units in cache format.
std::shared_ptr<EncodedStream> encode_file(const StreamRequest& request, const std::string& uri,
                                           const EncodeShape& shape, const std::function<bool()>& stop_requested) {
    const bool h264 = request.codec == Codec::h264;
    GObjectPtr<GstElement> pipeline(GST_ELEMENT(g_object_ref_sink(gst_pipeline_new("camsim-encode"))));
    GstElement* decoder = make_element("uridecodebin");
    GstElement* rate = make_element("videorate");
    GstElement* scale = make_element("videoscale");
    GstElement* convert = make_element("videoconvert");
    GstElement* raw_filter = make_element("capsfilter");
    GstElement* encoder = make_element(h264 ? "x264enc" : "x265enc");
    GstElement* parser = make_element(h264 ? "h264parse" : "h265parse");
    GstElement* sink = make_element("appsink");
    gst_bin_add_many(GST_BIN(pipeline.get()), decoder, rate, scale, convert, raw_filter, encoder, parser, sink,
                     nullptr);

    g_object_set(decoder, "uri", uri.c_str(), nullptr);
    GstCaps* raw_caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                                            shape.width, "height", G_TYPE_INT, shape.height, "framerate",
                                            GST_TYPE_FRACTION, shape.fps, 1, "pixel-aspect-ratio",
                                            GST_TYPE_FRACTION, 1, 1, nullptr);
    g_object_set(raw_filter, "caps", raw_caps, nullptr);
    gst_caps_unref(raw_caps);
    configure_encoder(encoder, request.codec, shape, request.bitrate_bps);
    // Parameter sets in front of every key frame make each key frame a valid
    // place to start a client or a loop.
    g_object_set(parser, "config-interval", -1, nullptr);
    GstCaps* coded_caps = gst_caps_from_string(stream_caps(request.codec));
    g_object_set(sink, "caps", coded_caps, "sync", FALSE, "max-buffers", 64u, nullptr);
    gst_caps_unref(coded_caps);

    if (!gst_element_link_many(rate, scale, convert, raw_filter, encoder, parser, sink, nullptr))
        throw std::runtime_error("cannot link the encode pipeline for " + request.file);

    DecoderLinker linker;
    linker.pipeline = pipeline.get();
    linker.video_entry = rate;
    g_signal_connect(decoder, "pad-added", G_CALLBACK(DecoderLinker::on_pad_added), &linker);

    StampProbe stamp;
    if (request.stamp) {
        gst_video_info_set_format(&stamp.info, GST_VIDEO_FORMAT_I420, shape.width, shape.height);
        stamp.placement = {request.stamp_cell, request.stamp_bottom, request.stamp_shape};
        GstPad* encoder_sink = gst_element_get_static_pad(encoder, "sink");
        gst_pad_add_probe(encoder_sink, GST_PAD_PROBE_TYPE_BUFFER, StampProbe::on_buffer, &stamp, nullptr);
        gst_object_unref(encoder_sink);
    }

    size_t max_units = request.duration_s > 0 ? static_cast<size_t>(std::ceil(request.duration_s * shape.fps)) : 0;
    CacheHeader header{};
    std::memcpy(header.magic, kCacheMagic, sizeof kCacheMagic);
    header.format_version = kCacheFormatVersion;
    header.codec = h264 ? 0 : 1;
    header.width = static_cast<uint32_t>(shape.width);
    header.height = static_cast<uint32_t>(shape.height);
    header.fps = static_cast<uint32_t>(shape.fps);
    std::vector<uint8_t> bytes;
    append_pod(bytes, header);

    GObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
    // Always leave the pipeline in NULL, whichever way we exit, before the
    // probe and linker state on this stack frame go away.
    struct StopPipeline {
        GstElement* pipeline;
        ~StopPipeline() { gst_element_set_state(pipeline, GST_STATE_NULL); }
    } stop_pipeline{pipeline.get()};

    auto throw_bus_error = [&] {
        GstMessage* message = gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR);
        if (!message) return;
        std::string text = bus_error_text(message);
        gst_message_unref(message);
        throw InputError(request.file + ": cannot decode or encode it (" + text +
                         "); check that it is a playable video file");
    };

    if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        throw_bus_error();
        throw InputError(request.file + ": GStreamer cannot play it; check that it is a playable video file");
    }
    auto* appsink = GST_APP_SINK(sink);
    uint32_t unit_count = 0;
    while (max_units == 0 || unit_count < max_units) {
        if (stop_requested()) return nullptr;
        GstSample* sample = gst_app_sink_try_pull_sample(appsink, 100 * GST_MSECOND);
        if (!sample) {
            throw_bus_error();
            if (gst_app_sink_is_eos(appsink)) break;
            continue;
        }
        GstBuffer* buffer = gst_sample_get_buffer(sample);
        GstMapInfo map;
        if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
            bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
            // A stream must start on a key frame; encoders always begin with one.
            if (map.size > 0 && (unit_count > 0 || keyframe)) {
                append_pod(bytes, UnitHeader{static_cast<uint32_t>(map.size), keyframe ? kKeyframeFlag : 0});
                bytes.insert(bytes.end(), map.data, map.data + map.size);
                ++unit_count;
            }
            gst_buffer_unmap(buffer, &map);
        }
        gst_sample_unref(sample);
    }
    if (unit_count == 0) throw InputError(request.file + ": has no decodable video frames; pass a video file");

    header.unit_count = unit_count;
    std::memcpy(bytes.data(), &header, sizeof header);
    auto stream = index_stream(std::move(bytes));
    if (!stream) throw std::runtime_error("internal error: encoded stream of " + request.file + " is malformed");
    return stream;
}

struct FileFacts {
    long long size = 0;
    long long mtime_ns = 0;
};

FileFacts file_facts(const std::string& file) {
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) return {};
    return {static_cast<long long>(info.st_size),
            static_cast<long long>(info.st_mtim.tv_sec) * 1'000'000'000LL + info.st_mtim.tv_nsec};
}

std::string cache_file_name(const std::string& file, Codec codec, uint64_t key) {
    std::string stem = fs::path(file).stem().string();
    std::replace_if(stem.begin(), stem.end(), [](unsigned char c) { return !std::isalnum(c) && c != '-' && c != '_'; },
                    '_');
    if (stem.size() > 40) stem.resize(40);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
    return stem + "-" + codec_name(codec) + "-" + hex + ".camsim";
}

}  // namespace

std::string StreamRequest::identity() const {
    std::error_code error;
    fs::path absolute = fs::weakly_canonical(fs::absolute(file), error);
    std::ostringstream text;
    text << "encoder-settings=" << kEncoderSettingsVersion << "|file=" << (error ? file : absolute.string())
         << "|codec=" << codec_name(codec) << "|size=" << width << "x" << height << "|fps=" << fps
         << "|bitrate=" << bitrate_bps << "|stamp=" << stamp << "|duration=" << std::llround(duration_s * 1000);
    // Appended only when set, so streams cached before these options keep their keys.
    if (stamp && stamp_cell > 0) text << "|stamp-cell=" << stamp_cell;
    if (stamp && stamp_bottom) text << "|stamp-position=bottom";
    if (stamp && stamp_shape == StampShape::block) text << "|stamp-shape=block";
    return text.str();
}

size_t EncodedStream::keyframe_at_or_before(size_t unit) const {
    auto after = std::upper_bound(keyframe_units.begin(), keyframe_units.end(), unit);
    return after == keyframe_units.begin() ? 0 : *(after - 1);
}

fs::path default_cache_dir() {
    auto from_env = [](const char* name) -> const char* {
        const char* value = std::getenv(name);
        return value && *value ? value : nullptr;
    };
    fs::path base;
    if (const char* cache = from_env("SLIPSTREAM_CACHE")) {
        base = cache;
    } else if (const char* xdg = from_env("XDG_CACHE_HOME")) {
        base = fs::path(xdg) / "slipstream";
    } else if (const char* home = from_env("HOME")) {
        base = fs::path(home) / ".cache" / "slipstream";
    } else {
        base = fs::temp_directory_path() / "slipstream";
    }
    return base / "camsim";
}

void check_input_file(const std::string& file) {
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) {
        if (errno == ENOENT) throw InputError(file + ": no such file; check the path");
        throw InputError(file + ": cannot access it (" + std::strerror(errno) + "); check the path and permissions");
    }
    if (S_ISDIR(info.st_mode)) throw InputError(file + ": is a directory; pass a video file");
    if (access(file.c_str(), R_OK) != 0)
        throw InputError(file + ": cannot read it (" + std::strerror(errno) + "); check its permissions");
}

std::shared_ptr<const EncodedStream> load_or_encode(const StreamRequest& request, const fs::path& cache_dir,
                                                    const std::function<bool()>& stop_requested) {
    check_input_file(request.file);
    FileFacts facts = file_facts(request.file);
    std::string key_text = request.identity() + "|bytes=" + std::to_string(facts.size) +
                           "|mtime_ns=" + std::to_string(facts.mtime_ns);
    fs::path cache_path = cache_dir / cache_file_name(request.file, request.codec, fnv1a_64(key_text));

    if (auto cached = index_stream(read_whole_file(cache_path)); cached && cached->codec == request.codec) {
        return cached;
    }

    GError* raw_error = nullptr;
    gchar* uri = gst_filename_to_uri(request.file.c_str(), &raw_error);
    GErrorPtr error(raw_error);
    if (!uri) throw InputError(request.file + ": cannot turn it into a URI; pass a plain file path");
    std::string uri_text = uri;
    g_free(uri);

    SourceVideo source = probe_source(request.file, uri_text);
    EncodeShape shape = resolve_shape(request, source);
    std::fprintf(stderr, "slipstream-camsim: encoding %s as %s %dx%d@%d %d kbit/s (once; cached for later runs)\n",
                 request.file.c_str(), codec_name(request.codec), shape.width, shape.height, shape.fps,
                 request.bitrate_bps / 1000);
    auto stream = encode_file(request, uri_text, shape, stop_requested);
    if (stream) write_cache_file(cache_path, stream->bytes);
    return stream;
}

}  // namespace ss::camsim
