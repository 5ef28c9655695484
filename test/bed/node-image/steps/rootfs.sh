# shellcheck shell=bash
# Step rootfs: the Debian root filesystems (debootstrap only; no docker, no Go).
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

# Debian root filesystems (debootstrap, cached as tarballs keyed by their package list).
ni_mirror() {
  local uri=""
  [[ -f /etc/apt/sources.list.d/debian.sources ]] &&
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  echo "${BED_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# ni_rootfs NAME PKG,PKG,... [SUITE] -> prints the path of a tarball of a minbase Debian
# rootfs (bookworm unless SUITE says otherwise)
ni_rootfs() {
  local name=$1 pkgs=$2 suite=${3:-bookworm} key tarball root
  key=$(echo "$pkgs $(ni_mirror)" | sha256sum | cut -c1-12)
  [[ $suite == bookworm ]] || key=$suite-$key
  tarball=$NI_DIR/rootfs-$name-$key.tar
  if [[ ! -s $tarball ]]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    root=$NI_DIR/work/debootstrap-$name
    rm -rf "$root" && mkdir -p "$root"
    bed_log "debootstrap $name: $pkgs"
    if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$(ni_mirror)" >"$NI_DIR/debootstrap-$name.log" 2>&1; then
      tail -n 30 "$NI_DIR/debootstrap-$name.log" >&2
      return 1
    fi
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  echo "$tarball"
}

# Step 0: both root filesystems (debootstrap only; no docker, no Go)
step_rootfs() {
  ni_rootfs base "$BASE_PACKAGES" "$BASE_SUITE" >/dev/null
  ni_rootfs netbase "$NETBASE_PACKAGES" >/dev/null
}
