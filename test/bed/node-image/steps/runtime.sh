# shellcheck shell=bash
# Step runtime: containerd, runc, crictl and the CNI plugins, each from its own module.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

# Each binary from its own module at the version the kind release uses (or the nearest the
# proxy serves; see the versions table in node-image.sh), built as the projects' Makefiles do.

step_runtime() {
  local out=$NI_OUT/runtime
  if ni_done runtime; then bed_log "containerd/runc/crictl/CNI: cached"; return; fi
  # containerd (Makefile: CGO on as kind sets it, BUILDTAGS from kind's Dockerfile, shim static)
  local pkg=github.com/containerd/containerd/v2
  local vflags="-X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Package=github.com/containerd/containerd/v2 -s -w"
  bed_go_build "$out" 1 "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs" "$vflags" \
    "$pkg@$CONTAINERD_VERSION" "$pkg/cmd/containerd" "$pkg/cmd/ctr"
  bed_go_build "$out" 0 "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs no_grpc" "$vflags -extldflags -static" \
    "$pkg@$CONTAINERD_VERSION" "$pkg/cmd/containerd-shim-runc-v2"
  # runc (Makefile `make runc`: cgo + libseccomp, PIE; needs libseccomp-dev here, libseccomp2 in the node)
  if ! bed_deb_installed libseccomp-dev; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev >/dev/null
  fi
  BED_GO_FLAGS=-buildmode=pie bed_go_build "$out" 1 "seccomp urfave_cli_no_docs" "-s -w" \
    "github.com/opencontainers/runc@$RUNC_VERSION" github.com/opencontainers/runc
  # crictl: kind v0.30.0 pins v1.33.0, which the proxy refuses (403); v1.34.0 is served, but
  # the checksum database has no entry for it here, hence GONOSUMDB for that module only
  # (its dependencies are checked against its go.sum).
  GONOSUMDB=sigs.k8s.io/cri-tools bed_go_build "$out" 0 "" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_BUILD_VERSION#v} -s -w" \
    "sigs.k8s.io/cri-tools@$CRICTL_BUILD_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  # CNI plugins: the four kind installs, CGO off
  local p=github.com/containernetworking/plugins
  bed_go_build "$out/cni" 0 "" "-s -w -X $p/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" \
    "$p@$CNI_PLUGINS_VERSION" "$p/plugins/ipam/host-local" "$p/plugins/main/loopback" "$p/plugins/main/ptp" "$p/plugins/meta/portmap"
  "$out/containerd" --version && "$out/runc" --version | sed -n 1p && "$out/crictl" --version
  ni_mark runtime
}
