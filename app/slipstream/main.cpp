#include <cstring>

#include "commands.hpp"

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "detect") == 0) return run_detect_command(argc - 1, argv + 1);
    return run_pipeline_command(argc, argv);
}
