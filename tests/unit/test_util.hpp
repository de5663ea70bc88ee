#pragma once
// Helpers shared by the unit tests: a scratch folder per test and file writing.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "slipstream/error.hpp"
#include "slipstream/log.hpp"

namespace sstest {

namespace fs = std::filesystem;

// A fresh folder under $TMPDIR, removed with everything in it at the end of the test.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "slipstream-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

    // Writes `text` to <dir>/<name> (creating sub-folders) and returns the full path.
    fs::path write(const std::string& name, std::string_view text) const {
        const fs::path file = path_ / name;
        fs::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        return file;
    }

private:
    fs::path path_;
};

// Collects log messages for the lifetime of the object instead of printing them.
class LogCapture {
public:
    LogCapture() {
        ss::set_log_sink([this](ss::LogLevel, std::string_view m) { messages.emplace_back(m); });
    }
    ~LogCapture() { ss::set_log_sink(nullptr); }
    std::vector<std::string> messages;
};

// Runs f, which must throw E; returns the message.
template <typename E, typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw the wrong exception type: " << e.what();
        return {};
    }
    ADD_FAILURE() << "did not throw";
    return {};
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace sstest
