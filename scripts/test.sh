#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what the build and tests need, builds,
# checks formatting and runs every test (privileged ones included; they skip
# with a reason when not root unless WGCAP_REQUIRE_PRIVILEGED=1, then fail).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
build_dir=${WGCAP_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j"$(nproc)"
scripts/check-format.sh
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" "$@"
