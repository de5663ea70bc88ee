#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.hpp"
#include "console.hpp"
#include "line_writer.hpp"

int main(int argc, char** argv) {
    const int code = argc > 1 && std::strcmp(argv[1], "detect") == 0 ? run_detect_command(argc - 1, argv + 1)
                                                                       : run_pipeline_command(argc, argv);
    slipstream::console::finish();
    if (slipstream::LineWriter::any_stuck()) {
        // stdout's reader stopped reading: flushing it at exit would block forever.
        std::fflush(stderr);
        std::_Exit(code);
    }
    return code;
}
