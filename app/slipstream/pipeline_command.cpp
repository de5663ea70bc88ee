#include <cstdio>

#include "commands.hpp"

int run_pipeline_command(int, char**) {
    std::fprintf(stderr, "error: the streaming pipeline is not built yet\n");
    return 1;
}
