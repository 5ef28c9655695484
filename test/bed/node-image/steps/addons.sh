# shellcheck shell=bash
# Step addons: etcd, CoreDNS, local-path-provisioner, pause and the kindnetd stand-in.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

step_addons() {
  local out=$NI_OUT/addons
  if ni_done addons; then bed_log "etcd/coredns/local-path/pause/kindnetd: cached"; return; fi
  mkdir -p "$out"
  # etcd: server/etcdctl/etcdutl go.mods replace their siblings with ../, so a wrapper
  # module requires all of them at one version (as kubeadm expects: 3.6.4 for 1.34).
  local dir=$NI_SRC/etcd
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<EOM
module bed.local/etcdbuild

go 1.23.0

require (
	go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdutl/v3 $ETCD_VERSION
)
EOM
  local m
  for m in server etcdctl etcdutl; do
    (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" \
      -o "$out/${m/server/etcd}" "go.etcd.io/etcd/$m/v3")
  done
  # CoreDNS (Makefile: CGO off)
  bed_go_build "$out" 0 "" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
    "github.com/coredns/coredns@$COREDNS_VERSION" github.com/coredns/coredns
  # local-path-provisioner (scripts/build: CGO off, static, main.VERSION)
  bed_go_build "$out" 0 "" "-s -w -X main.VERSION=$LOCAL_PATH_VERSION" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION" github.com/rancher/local-path-provisioner
  # pause: build/pause/linux/pause.c from the kubernetes module, as its Makefile compiles it
  local kdir
  kdir=$(ni_moddir "k8s.io/kubernetes@$K8S_VERSION")
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-bed" -o "$out/pause" "$kdir/build/pause/linux/pause.c"
  # kindnetd: our stand-in (node-image/kindnetd/main.go), see there for why
  (cd "$NI_FILES/kindnetd" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out/kindnetd" .)
  "$out/etcd" --version | sed -n 1p && "$out/coredns" -version | sed -n 1p && "$out/pause" -v
  ni_mark addons
}
