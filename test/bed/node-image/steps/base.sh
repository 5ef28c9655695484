# shellcheck shell=bash
# Step base: the base image, as kind's images/base/Dockerfile builds it.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

# Step 4: the base image, as the kind release's images/base/Dockerfile builds it: Debian
# (the release's suite) with the same packages, kind's own files (entrypoint, containerd config,
# systemd units, scripts; taken from the kind module in the Go module cache, not copied
# into this repository), containerd/runc/crictl/CNI plugins from step 2, the same
# cleanup of systemd units, then squashed into one layer (docker import).
BASE_PACKAGES=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,nfs-common,open-iscsi,bash,ca-certificates,curl,jq,procps$BASE_EXTRA_PACKAGES

step_base() {
  if ni_done base && ni_image_exists "$BASE_IMAGE"; then bed_log "base image $BASE_IMAGE: cached"; return; fi
  local tarball kinddir files root=$NI_DIR/work/base-root r=$NI_OUT/runtime
  tarball=$(ni_rootfs base "$BASE_PACKAGES" "$BASE_SUITE")
  kinddir=$(ni_kind_dir)
  files=$kinddir/images/base/files
  rm -rf "$root" && mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  # COPY --chmod=0755 files/usr/local/bin/*, 0644 for the rest (Dockerfile)
  install -m 0755 "$files"/usr/local/bin/* "$root/usr/local/bin/"
  mkdir -p "$root/kind/bin" "$root/LICENSES" "$root/etc/containerd" "$root/etc/default" "$root/etc/sysctl.d" \
    "$root/etc/systemd/system/kubelet.service.d"
  install -m 0644 "$files"/kind/README.txt "$root/kind/"
  install -m 0755 "$files"/kind/bin/* "$root/kind/bin/"
  install -m 0644 "$files"/LICENSES/* "$root/LICENSES/"
  install -m 0644 "$files"/etc/crictl.yaml "$root/etc/"
  install -m 0644 "$files"/etc/containerd/* "$root/etc/containerd/"
  install -m 0644 "$files"/etc/default/* "$root/etc/default/"
  install -m 0644 "$files"/etc/sysctl.d/* "$root/etc/sysctl.d/"
  find "$files/etc/systemd/system" -maxdepth 1 -type f -exec install -m 0644 {} "$root/etc/systemd/system/" \;
  install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
  # the RUN steps of the Dockerfile's base stage
  find "$root/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
    "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
    "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
  ln -sfn /lib/systemd/systemd "$root/sbin/init"
  systemctl --root="$root" enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  systemctl --root="$root" mask systemd-binfmt.service >/dev/null 2>&1
  mkdir -p "$root/etc/kubernetes/manifests"
  # the build stage: containerd, ctr, shim in /usr/local/bin, runc in /usr/local/sbin,
  # crictl, CNI plugins in /opt/cni/bin, and cri-base.json from `ctr oci spec`
  install -m 0755 "$r/containerd" "$r/ctr" "$r/containerd-shim-runc-v2" "$r/crictl" "$root/usr/local/bin/"
  install -m 0755 "$r/runc" "$root/usr/local/sbin/runc"
  mkdir -p "$root/opt/cni/bin"
  install -m 0755 "$r"/cni/* "$root/opt/cni/bin/"
  "$r/ctr" oci spec |
    jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
  rm -f "$root/etc/machine-id" && touch "$root/etc/machine-id"
  # one layer (the Dockerfile's final FROM scratch + COPY --from=build / /), then its
  # metadata (docker import cannot set STOPSIGNAL; a metadata-only build adds no layer)
  tar -C "$root" -c . | docker import - "$BASE_IMAGE-rootfs" >/dev/null
  rm -rf "$root"
  local ctx=$NI_DIR/work/ctx-base
  rm -rf "$ctx" && mkdir -p "$ctx"
  ni_dockerfile base "ROOTFS=$BASE_IMAGE-rootfs" >"$ctx/Dockerfile"
  local old
  old=$(ni_image_id "$BASE_IMAGE")
  ni_docker_build -t "$BASE_IMAGE" "$ctx"
  docker rmi "$BASE_IMAGE-rootfs" >/dev/null
  ni_rmi_replaced "$old" "$BASE_IMAGE"
  docker run --rm --entrypoint /bin/sh "$BASE_IMAGE" -c 'containerd --version && runc --version | sed -n 1p && crictl --version'
  ni_mark base
}
