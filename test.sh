#!/usr/bin/env bash
# Runs slipstream's whole test suite (sets up first; quiet when already set up).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./setup.sh --no-run
# Serially: the end-to-end tests measure frame rates on a 2-core machine.
ctest --test-dir build --output-on-failure --timeout 900 "$@"
