#pragma once
// Sub-commands of the `slipstream` executable.

int run_detect_command(int argc, char** argv);    // slipstream detect [--config FILE] IMAGE...
int run_pipeline_command(int argc, char** argv);  // slipstream [options]: the streaming pipeline
