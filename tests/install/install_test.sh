#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` into a temporary prefix, then a program built only from
# what was installed (through pkg-config) parses a filter and matches a
# packet, and examples/capture_pcapng.cpp is built from the prefix both ways
# (find_package(wgcap) and pkg-config) and run. Catches a header missing from
# the install, a public header that includes a private one or <linux/...>,
# more than the 12 public headers (+ wgcap.hpp), and a .pc or config file
# that does not link.
#
# usage: install_test.sh BUILD_DIR CXX
set -euo pipefail

build_dir=$1
cxx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log"

for f in bin/wgcap share/man/man8/wgcap.8 lib/libwgcap.a lib/pkgconfig/wgcap.pc \
  lib/cmake/wgcap/wgcapConfig.cmake include/wgcap/wgcap.hpp \
  include/wgcap/filter_parser.hpp include/wgcap/result.hpp; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f" >&2; cat "$tmp/install.log" >&2; exit 1; }
done

# The man page renders without a warning (man -l runs groff the same way).
if ! warnings=$(groff -man -ww -z "$prefix/share/man/man8/wgcap.8" 2>&1) || [ -n "$warnings" ]; then
  echo "groff warns about wgcap.8:" >&2
  echo "$warnings" >&2
  exit 1
fi

# Public headers include only each other and system headers.
if grep -n '#include "' "$prefix"/include/wgcap/* | grep -v '#include "wgcap/'; then
  echo "public headers above include non-public headers" >&2
  exit 1
fi
# The public API is small (STYLE.md "Layout"): at most 12 headers plus the
# umbrella, and none of them pulls in kernel headers.
count=$(find "$prefix/include/wgcap" -type f | wc -l)
if [ "$count" -gt 13 ]; then
  echo "$count public headers installed; at most 12 + wgcap.hpp" >&2
  exit 1
fi
if grep -n '#include <linux/' "$prefix"/include/wgcap/*; then
  echo "public headers above include <linux/...>" >&2
  exit 1
fi
# Nothing private (skeleton, userspace/ headers) leaked into the install.
if find "$prefix/include" -name '*.skel.h' -o -name 'tc_*.hpp' | grep .; then
  echo "private headers installed" >&2
  exit 1
fi

cat >"$tmp/consumer.cpp" <<'CPP'
#include <cstdint>
#include <cstdio>
#include <vector>

#include "wgcap/filter_parser.hpp"

int main() {
  auto matcher = wgcap::ParseFilter("udp and dst port 53");
  if (!matcher) {
    std::fprintf(stderr, "parse: %s\n", matcher.error().message.c_str());
    return 1;
  }
  // IPv4 UDP 192.0.2.1:40000 -> 192.0.2.2:53, no payload.
  const std::vector<std::uint8_t> dns = {
      0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0x00,
      0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};
  std::vector<std::uint8_t> other = dns;
  other[23] = 0x36; // dst port 54
  const bool ok = (*matcher)->Match(dns) && !(*matcher)->Match(other);
  std::puts(ok ? "match ok" : "match WRONG");
  return ok ? 0 : 1;
}
CPP

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs --static wgcap)
echo "pkg-config: $flags"
# Every -I and -L must lead into the prefix (pkg-config drops the system
# ones), never back into the build or source tree.
for word in $flags; do
  case $word in
  -I* | -L*)
    case ${word:2} in
    "$prefix"/*) ;;
    *) echo "pkg-config flag outside the prefix: $word" >&2; exit 1 ;;
    esac
    ;;
  esac
done
# shellcheck disable=SC2086 # the flags are words
"$cxx" -std=c++20 -Wall -Werror -o "$tmp/consumer" "$tmp/consumer.cpp" $flags
"$tmp/consumer"

# The example, from the installed package only: with pkg-config, and with
# find_package(wgcap) in a CMake project of its own. A missing interface is a
# clean error (kind not_found, exit 1), which shows the whole chain linked.
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2086 # the flags are words
"$cxx" -std=c++20 -Wall -Wextra -Werror -o "$tmp/example-pc" \
  "$source_dir/examples/capture_pcapng.cpp" $flags
cmake -S "$source_dir/examples" -B "$tmp/example-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >"$tmp/example.log"
cmake --build "$tmp/example-build" >>"$tmp/example.log" || { cat "$tmp/example.log" >&2; exit 1; }
for example in "$tmp/example-pc" "$tmp/example-build/capture_pcapng"; do
  status=0
  out=$("$example" wgcap-nosuch0 "$tmp/x.pcapng" 0 2>&1) || status=$?
  if [ "$status" != 1 ] || [[ $out != "not_found: wgcap-nosuch0: no such interface" ]]; then
    echo "$example: exit $status, said: $out" >&2
    exit 1
  fi
done
"$prefix/bin/wgcap" --version
