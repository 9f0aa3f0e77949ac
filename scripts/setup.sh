#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package that wgcap's build, tests, demo and benchmarks
# need. Idempotent: packages already present are skipped without touching apt.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  # libclang-rt-14-dev: clang's libFuzzer and sanitizer runtimes (scripts/fuzz.sh);
  # clang-14 only recommends it, and recommends are not installed here.
  clang llvm clang-format libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpcap-dev tcpdump tshark
  wireguard-go wireguard-tools iproute2 iputils-ping
  libcap2-bin procps
  # groff: the install test renders docs/wgcap.8 and fails on a warning.
  groff-base
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
