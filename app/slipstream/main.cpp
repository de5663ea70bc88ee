#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.hpp"
#include "line_writer.hpp"

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "detect") == 0) return run_detect_command(argc - 1, argv + 1);
    const int code = run_pipeline_command(argc, argv);
    if (slipstream::LineWriter::any_stuck()) {
        // stdout's reader stopped reading: flushing it at exit would block forever.
        std::fflush(stderr);
        std::_Exit(code);
    }
    return code;
}
