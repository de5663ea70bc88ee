#!/bin/sh
# Starts the GPU benchmark (bench/gpu.sh) from a slipstream bundle wherever it
# was unpacked. Unlike the other start scripts it sets no library paths: the
# benchmark is the host's python3, and it runs the bundle's programs through
# their own start scripts next to this one. --help lists the options.
here=$(dirname "$(readlink -f "$0")")
exec "$(dirname "$here")/share/slipstream/bench/gpu.sh" "$@"
