#pragma once
// Shared set-up of the fuzz entry points: the readers under test take file
// paths, so every input is written to a file in a scratch folder that also
// holds the files a config may refer to (model.onnx, labels.txt), letting the
// fuzzer get past the existence checks into the rest of the reader.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "slipstream/log.hpp"

namespace fuzz {

namespace fs = std::filesystem;

// $SLIPSTREAM_FUZZ_SCRATCH when set (run_fuzz.sh points it into build-fuzz:
// libFuzzer often ends a process without running atexit handlers, which would
// leave one folder per run behind), else a fresh folder removed at exit.
inline const fs::path& scratch() {
    static const fs::path dir = [] {
        fs::path d;
        if (const char* given = std::getenv("SLIPSTREAM_FUZZ_SCRATCH"); given && *given) {
            d = given;
            fs::create_directories(d);
        } else {
            std::string pattern = (fs::temp_directory_path() / "slipstream-fuzz-XXXXXX").string();
            if (!mkdtemp(pattern.data())) std::abort();
            d = pattern;
            // A plain buffer: static objects are already destroyed when atexit handlers run.
            static char remove_at_exit[4096];
            std::snprintf(remove_at_exit, sizeof remove_at_exit, "%s", pattern.c_str());
            std::atexit([] {
                std::error_code ec;
                fs::remove_all(remove_at_exit, ec);
            });
        }
        std::ofstream(d / "model.onnx") << "";
        std::ofstream(d / "labels.txt") << "person\ncar\nbicycle\nstop sign\n";
        fs::create_directories(d / "cache" / "models");
        std::ofstream(d / "cache" / "models" / "cached.onnx") << "";
        // Model look-ups must not depend on the user's cache.
        setenv("SLIPSTREAM_CACHE", (d / "cache").c_str(), 1);
        // Warnings about unsupported keys are expected by the thousand.
        ss::set_log_sink([](ss::LogLevel, std::string_view) {});
        return d;
    }();
    return dir;
}

inline fs::path write_input(const std::uint8_t* data, std::size_t size, const char* name) {
    const fs::path file = scratch() / name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return file;
}

// Error messages are printed as one line that names the file: anything else is a bug.
inline void check_message(const char* what) {
    const std::string m = what;
    if (m.empty() || m.find('\n') != std::string::npos || m.find(scratch().string()) == std::string::npos) {
        std::fprintf(stderr, "bad error message: [%s]\n", what);
        std::abort();
    }
}

}  // namespace fuzz
