#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when clang-format would change a tracked C/C++ source.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.c' 2>/dev/null || true)
[ ${#files[@]} -eq 0 ] && exit 0
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/wgcap-format.$$; then
  echo "check-format: these files need clang-format -i:" >&2
  grep -o '^[^:]*\.\(cpp\|hpp\|h\|c\)' /tmp/wgcap-format.$$ | sort -u >&2
  rm -f /tmp/wgcap-format.$$
  exit 1
fi
rm -f /tmp/wgcap-format.$$
echo "check-format: ${#files[@]} files clean"
