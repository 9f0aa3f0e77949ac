# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced by scripts/vmtest.sh: finds the kernel to boot. Debian's packaged
# kernels of three suites are fetched through a private apt tree under the
# cache, so the system's apt configuration, lists and package cache stay as
# they are (FACTS.md "Older kernels and least privilege"):
#
#   5.10  bullseye + bullseye-security   linux-image-5.10.0-N-amd64
#   6.1   bookworm + bookworm-security   linux-image-6.1.0-N-amd64
#   6.12  trixie + trixie-security       linux-image-6.12.N+deb13-amd64
#
# The image package is the one the suite's linux-image-amd64 depends on that
# day. The Release files are checked against debian-archive-keyring (which
# holds the bullseye, bookworm and trixie keys): nothing is fetched unsigned.
# Sets KERNEL, KVER, MODULES and LABEL. Needs log, die and CACHE.

readonly DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

suite_of() { # LABEL: the Debian suite that ships that kernel series
  case $1 in
    5.10) echo bullseye ;;
    6.1 | debian) echo bookworm ;;
    6.12) echo trixie ;;
    *) return 1 ;;
  esac
}

# The mirrors this system's own sources name (deb822 "URIs:" or one-line
# "deb" entries), so the private tree asks the same servers; WGCAP_VM_MIRROR
# and WGCAP_VM_SECURITY_MIRROR override them.
system_mirror() { # debian|debian-security
  local kind=$1 uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | grep -Eo '(URIs:|^deb( \[[^]]*\])?) +https?://[^ ]+' | grep -Eo 'https?://[^ ]+' |
    grep -E "/$kind/?\$" | head -1) || true
  printf '%s\n' "${uri:-http://deb.debian.org/$kind}"
}

# apt-get/apt-cache options for the private tree of SUITE: its own sources,
# lists, cache, preferences and configuration directory; the system's dpkg
# status only so that apt starts (nothing is installed through it).
apt_tree_opts() { # SUITE
  local tree=$CACHE/apt/$1
  APT_OPTS=(-o "Dir::Etc=$tree/etc" -o "Dir::Etc::sourcelist=$tree/etc/sources.list"
    -o "Dir::Etc::sourceparts=$tree/etc/sources.list.d"
    -o "Dir::Etc::preferencesparts=$tree/etc/preferences.d"
    -o "Dir::Etc::trustedparts=$tree/etc/trusted.gpg.d"
    -o "Dir::State=$tree/state" -o "Dir::State::status=/var/lib/dpkg/status"
    -o "Dir::Cache=$tree/cache" -o "APT::Architecture=amd64" -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root")
}

# Writes the tree and fetches its lists. Fails (with apt's words) when the
# mirror cannot be reached or a Release file's signature does not verify.
update_apt_tree() { # SUITE
  local suite=$1 tree=$CACHE/apt/$1 main security
  [[ -f $DEBIAN_KEYRING ]] || die "no $DEBIAN_KEYRING (package debian-archive-keyring)"
  main=${WGCAP_VM_MIRROR:-$(system_mirror debian)}
  security=${WGCAP_VM_SECURITY_MIRROR:-$(system_mirror debian-security)}
  mkdir -p "$tree"/etc/{sources.list.d,preferences.d,trusted.gpg.d} \
    "$tree"/state/lists/partial "$tree"/cache/archives/partial
  {
    printf 'deb [signed-by=%s] %s %s main\n' "$DEBIAN_KEYRING" "$main" "$suite"
    printf 'deb [signed-by=%s] %s %s-security main\n' "$DEBIAN_KEYRING" "$security" "$suite"
  } >"$tree/etc/sources.list"
  apt_tree_opts "$suite"
  log "apt-get update for $suite ($main, $security) in $tree"
  # apt-get update exits 0 on some fetch errors and only warns: its "W:"/"E:"
  # lines about this tree's sources count as failures too.
  if ! apt-get "${APT_OPTS[@]}" -q update >"$tree/update.log" 2>&1 ||
    grep -Eq '^(E|W): (Failed|Some index|The repository|GPG error|.*NO_PUBKEY|.*not signed)' \
      "$tree/update.log"; then
    return 1
  fi
}

# Downloads a package of the private tree of SUITE and unpacks it into DIR
# (nothing is installed). An unpacked tree is kept and reused.
unpack_deb() { # SUITE PACKAGE DIR
  local suite=$1 pkg=$2 dir=$3 deb
  [[ -f $dir/.unpacked ]] && return
  rm -rf "$dir"
  mkdir -p "$dir"
  apt_tree_opts "$suite"
  (cd "$CACHE" && apt-get "${APT_OPTS[@]}" download -q "$pkg" >"$CACHE/apt-$pkg.log" 2>&1) ||
    die "apt-get download $pkg ($suite) failed: $(cat "$CACHE/apt-$pkg.log")"
  rm -f "$CACHE/apt-$pkg.log"
  deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
  [[ -n $deb ]] || die "apt-get download $pkg left no .deb in $CACHE"
  dpkg-deb -x "$deb" "$dir"
  rm -f "$deb" # the unpacked tree is what is kept
  touch "$dir/.unpacked"
}

# debian_kernel LABEL: fetch (or reuse) the suite's kernel.
debian_kernel() {
  local label=$1 suite image_pkg dir
  suite=$(suite_of "$label") || die "no Debian suite for kernel '$label' (5.10, 6.1, 6.12)"
  if ! update_apt_tree "$suite"; then
    # A kernel unpacked by an earlier run is still a real kernel to test;
    # without one the run cannot go on.
    image_pkg=$(cat "$CACHE/$suite.current" 2>/dev/null) || true
    [[ -n $image_pkg && -f $CACHE/$image_pkg/.unpacked ]] ||
      die "cannot fetch the $label kernel: apt-get update of $suite failed:
$(grep -E '^(E|W|Err):' "$CACHE/apt/$suite/update.log" || cat "$CACHE/apt/$suite/update.log")"
    log "warning: apt-get update of $suite failed; booting the cached $image_pkg"
  else
    apt_tree_opts "$suite"
    image_pkg=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 |
      awk '/Depends: linux-image-/ {print $2; exit}')
    [[ -n $image_pkg ]] || die "$suite's lists name no linux-image-amd64 dependency"
  fi
  dir=$CACHE/$image_pkg
  unpack_deb "$suite" "$image_pkg" "$dir"
  echo "$image_pkg" >"$CACHE/$suite.current"
  KVER=${image_pkg#linux-image-}
  KERNEL=$dir/boot/vmlinuz-$KVER
  [[ -f $KERNEL ]] || die "$image_pkg has no boot/vmlinuz-$KVER"
  # trixie's packages keep modules in usr/lib/modules (merged /usr).
  if [[ -d $dir/lib/modules/$KVER ]]; then
    MODULES=$dir/lib/modules/$KVER
  elif [[ -d $dir/usr/lib/modules/$KVER ]]; then
    MODULES=$dir/usr/lib/modules/$KVER
  else
    die "$image_pkg has no modules directory for $KVER"
  fi
  # shellcheck disable=SC2034 # read by vmtest.sh
  LABEL=$label-$KVER
}

# MODULES=... for a given image: the package layout beside it, else /lib/modules.
image_modules() {
  local dir
  dir=$(cd "$(dirname "$KERNEL")/.." && pwd)
  if [[ -d $dir/lib/modules/$KVER ]]; then
    MODULES=$dir/lib/modules/$KVER
  elif [[ -d $dir/usr/lib/modules/$KVER ]]; then
    MODULES=$dir/usr/lib/modules/$KVER
  elif [[ -d /lib/modules/$KVER ]]; then
    MODULES=/lib/modules/$KVER
  else
    MODULES= # a kernel with everything built in
  fi
}

# modules.dep for MODULES (package trees ship none: dpkg's postinst makes it).
ensure_depmod() {
  [[ -z $MODULES || -f $MODULES/modules.dep ]] && return
  # depmod -b BASE looks in BASE/lib/modules/KVER; MODULES is .../lib/modules/KVER.
  depmod -b "$(dirname "$(dirname "$(dirname "$MODULES")")")" "$KVER" ||
    die "depmod for $MODULES failed"
}

# Module file paths (relative to MODULES) for NAMEs, dependencies first;
# names built into the kernel are skipped.
module_closure() { # NAME...
  local name rel
  declare -A seen=()
  local -a order=()
  add() { # REL
    local dep
    [[ -n ${seen[$1]:-} ]] && return
    seen[$1]=1
    while read -r dep; do
      add "$dep"
    done < <(awk -v m="$1:" '$1 == m {for (i = 2; i <= NF; i++) print $i}' "$MODULES/modules.dep")
    order+=("$1")
  }
  for name in "$@"; do
    rel=$(awk -v n="$name" -F: '{f = $1; sub(/.*\//, "", f); sub(/\.ko(\.[a-z]+)?$/, "", f);
      gsub(/-/, "_", f); if (f == n) {print $1; exit}}' "$MODULES/modules.dep")
    if [[ -n $rel ]]; then
      add "$rel"
    elif ! grep -Eq "/${name//_/[-_]}\.ko" "$MODULES/modules.builtin" 2>/dev/null; then
      die "module $name is neither in $MODULES/modules.dep nor built in"
    fi
  done
  printf '%s\n' "${order[@]}"
}

# Copies a module into DIR as a plain .ko (busybox's insmod may not unpack
# xz/zstd) and prints its new name.
copy_module() { # REL DIR
  local src=$MODULES/$1 base
  base=$(basename "$1")
  case $base in
    *.ko.xz) xz -dc "$src" >"$2/${base%.xz}" && echo "${base%.xz}" ;;
    *.ko.zst) zstd -qdc "$src" >"$2/${base%.zst}" && echo "${base%.zst}" ;;
    *.ko.gz) gzip -dc "$src" >"$2/${base%.gz}" && echo "${base%.gz}" ;;
    *) cp "$src" "$2/" && echo "$base" ;;
  esac
}
