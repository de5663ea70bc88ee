#include "console.hpp"

#include <cstdio>

#include "line_writer.hpp"

namespace slipstream::console {

namespace {

struct Streams {
    LineWriter out{stdout, "stdout"};
    LineWriter err{stderr, "stderr"};
};

// Made on first use and never destroyed: a streaming thread may still print
// while static destructors run; finish() writes out what is queued.
Streams& streams() {
    static Streams* all = new Streams;
    return *all;
}

std::string line(std::string_view prefix, std::string_view text) {
    std::string out;
    out.reserve(prefix.size() + text.size() + 1);
    out += prefix;
    out += text;
    out += '\n';
    return out;
}

}  // namespace

void say(std::string_view text) { streams().out.write_message(line("", text)); }
void note(std::string_view text) { streams().err.write_message(line("", text)); }
void warn(std::string_view message) { streams().err.write_message(line("warning: ", message)); }
void error(std::string_view message) { streams().err.write_message(line("error: ", message)); }

void frame_lines(std::string text) { streams().out.write(std::move(text)); }

LineWriter& stdout_writer() { return streams().out; }

void finish() {
    streams().out.finish();
    streams().err.finish();
}

}  // namespace slipstream::console
