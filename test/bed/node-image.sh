#!/usr/bin/env bash
# Builds a kind node image on this machine, where no container image can be pulled:
# every binary comes from Go modules (the Go module proxy) or Debian packages, and the
# recipe follows kind v0.30.0 (images/base/Dockerfile and pkg/build/nodeimage).
#
#   bash test/bed/node-image.sh            # build everything that is missing, print the image name
#   bash test/bed/node-image.sh STEP...    # only some steps (see the list at the bottom)
#   bash test/bed/node-image.sh prove      # kind create cluster with it (1 node, then 1+1), delete
#
# Results are cached under $BED_CACHE/node-image/<key>/ (binaries, image archives,
# stamps); docker images are tagged with the key, so a second run only checks stamps.
# See test/bed/node-image/README.md for where this deviates from kind's own images.
# shellcheck disable=SC2317 # steps are called by name (step_$name)
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NI_FILES=$BED_DIR/node-image
# Versions. Kubernetes 1.34 because this machine's cgroups are v1 (1.35 refuses them).
K8S_VERSION=${KIND_DEV_BED_K8S_VERSION:-v1.34.0}
# The published staging modules (k8s.io/api, ...) that match: v1.34.N -> v0.34.N.
K8S_STAGING_VERSION=v0.${K8S_VERSION#v1.}
KIND_VERSION=v0.30.0
# From kind v0.30.0 images/base/Dockerfile (ARG ..._VERSION).
CONTAINERD_VERSION=v2.1.4
RUNC_VERSION=v1.3.0
CNI_PLUGINS_VERSION=v1.7.1
CRICTL_BUILD_VERSION=v1.34.0 # kind pins crictl v1.33.0, which the module proxy here refuses
# What kubeadm v1.34 deploys (cmd/kubeadm/app/constants): etcd 3.6.4-0, CoreDNS v1.12.1,
# pause 3.10.1 (kind's containerd config pins pause 3.10 as the sandbox image: both tags).
ETCD_VERSION=v3.6.4
COREDNS_VERSION=v1.12.1
PAUSE_VERSION=3.10.1
# From kind v0.30.0 images/local-path-provisioner/Makefile
LOCAL_PATH_VERSION=v0.0.30

NI_KEY=$K8S_VERSION-kind-$KIND_VERSION
NI_DIR=$BED_CACHE/node-image/$NI_KEY
NI_OUT=$NI_DIR/bin      # built binaries
NI_IMAGES=$NI_DIR/images # image archives (docker save) to import into the node's containerd
NI_SRC=$NI_DIR/src      # wrapper Go modules
NODE_IMAGE=${KIND_DEV_BED_NODE_IMAGE:-kind-dev-bed/node:$K8S_VERSION}
BASE_IMAGE=kind-dev-bed/node-base:$NI_KEY
mkdir -p "$NI_OUT" "$NI_IMAGES" "$NI_SRC"

export GOFLAGS=${GOFLAGS:-} GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export DOCKER_BUILDKIT=0

# A step's result is kept while its stamp holds the step's current recipe: the versions
# it builds and a hash of the functions (and files) that build it, plus the stamps of the
# steps it uses. So editing a step redoes it and what depends on it, nothing else.
ni_sha() { sha256sum | cut -c1-16; }
ni_recipe() {
  case $1 in
  k8s) echo "$K8S_VERSION $K8S_STAGING_VERSION $(declare -f step_k8s | ni_sha)" ;;
  runtime) echo "$CONTAINERD_VERSION $RUNC_VERSION $CRICTL_BUILD_VERSION $CNI_PLUGINS_VERSION $(declare -f step_runtime ni_go_build | ni_sha)" ;;
  addons) echo "$ETCD_VERSION $COREDNS_VERSION $LOCAL_PATH_VERSION $PAUSE_VERSION $(
    { declare -f step_addons ni_go_build; cat "$NI_FILES"/kindnetd/*; } | ni_sha)" ;;
  images) { declare -f step_images ni_build_image ni_static_rootfs ni_netbase; echo "$NETBASE_PACKAGES"
    cat "$NI_FILES/iptables-wrapper"; ni_stamp k8s; ni_stamp addons; } | ni_sha ;;
  base) { declare -f step_base; echo "$BASE_PACKAGES"; ni_stamp runtime; } | ni_sha ;;
  node) { declare -f step_node; echo "$NODE_IMAGE"; ni_stamp base; ni_stamp images; } | ni_sha ;;
  esac
}
ni_stamp() { cat "$NI_DIR/stamps/$1" 2>/dev/null || true; }
ni_done() { [[ -f $NI_DIR/stamps/$1 && $(ni_stamp "$1") == "$(ni_recipe "$1")" ]]; }
ni_mark() { mkdir -p "$NI_DIR/stamps" && ni_recipe "$1" >"$NI_DIR/stamps/$1"; }

# Directory of a module version in the module cache (downloads it if needed).
ni_moddir() {
  (cd "$NI_SRC" && GOFLAGS=-mod=mod go mod download -json "$1" | jq -r .Dir)
}

ni_kind_dir() { ni_moddir "sigs.k8s.io/kind@$KIND_VERSION"; }

########################################################################################
# Step 1: Kubernetes binaries from k8s.io/kubernetes as a module.
# Its go.mod replaces every k8s.io/* staging module with ./staging/src/..., which a
# module zip does not contain, so a wrapper module repeats those replaces pointing at
# the published v0.34.x modules. Flags follow hack/lib/golang.sh + version.sh:
# -trimpath, -s -w, tags selinux,notest,grpcnotrace, version vars in both
# k8s.io/component-base/version and k8s.io/client-go/pkg/version, CGO off for all
# but kubelet (upstream builds kubelet with cgo).
K8S_BINARIES=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

step_k8s() {
  local dir=$NI_SRC/kubernetes out=$NI_OUT/kubernetes
  local b missing=0
  for b in "${K8S_BINARIES[@]}"; do [[ -x $out/$b ]] || missing=1; done
  if ni_done k8s && [[ $missing == 0 ]]; then
    bed_log "kubernetes $K8S_VERSION binaries: cached"
    ni_link_kubectl
    return
  fi
  mkdir -p "$dir" "$out"
  local kdir
  kdir=$(ni_moddir "k8s.io/kubernetes@$K8S_VERSION")
  {
    echo "module bed.local/k8sbuild"
    echo
    echo "go 1.24.0"
    echo
    echo "godebug default=go1.24"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n '/^replace (/,/^)/p' "$kdir/go.mod" | awk '$2 == "=>" && $3 ~ /^\.\/staging/ {print "\t" $1 " => " $1 " '"$K8S_STAGING_VERSION"'"}'
    echo ")"
  } >"$dir/go.mod"
  # sample-cli-plugin has no published version the proxy serves; nothing needs it.
  sed -i '/sample-cli-plugin/d' "$dir/go.mod"
  (cd "$dir" && GOFLAGS=-mod=mod go mod download k8s.io/kubernetes)
  local v=${K8S_VERSION#v} major minor date ldflags=() key
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  # the proxy's .info has the tag's commit time; the commit hash is not known here (left empty)
  date=$(jq -r .Time "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.info" | sed 's/\..*Z$/Z/')
  for key in gitVersion=$K8S_VERSION gitMajor=$major gitMinor=$minor gitTreeState=clean buildDate=$date; do
    ldflags+=("-X 'k8s.io/client-go/pkg/version.$key'" "-X 'k8s.io/component-base/version.$key'")
  done
  # binaries of an interrupted run are kept only if they were built by this recipe
  if [[ $(cat "$out/.recipe" 2>/dev/null) != "$(ni_recipe k8s)" ]]; then
    rm -f "$out"/*
    ni_recipe k8s >"$out/.recipe"
  fi
  local cgo
  for b in "${K8S_BINARIES[@]}"; do
    [[ -x $out/$b ]] && continue
    cgo=0; [[ $b == kubelet ]] && cgo=1
    local start=$SECONDS
    bed_log "building $b (CGO_ENABLED=$cgo) ..."
    (cd "$dir" && CGO_ENABLED=$cgo GOFLAGS=-mod=mod go build -trimpath -tags selinux,notest,grpcnotrace \
      -ldflags "all=${ldflags[*]} -s -w" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$out/$b.tmp" "$out/$b"
    bed_log "built $b in $((SECONDS - start))s"
  done
  "$out/kubelet" --version && "$out/kubeadm" version -o short
  ni_mark k8s
  ni_link_kubectl
}

# kubectl of this version in $BED_BIN for the tests, unless something else put one there
ni_link_kubectl() {
  if [[ ! -e $BED_BIN/kubectl || $(readlink "$BED_BIN/kubectl") == "$BED_CACHE"/node-image/* ]]; then
    ln -sfn "$NI_OUT/kubernetes/kubectl" "$BED_BIN/kubectl"
  fi
}

########################################################################################
# Step 2: the other binaries, each from its own module at the version kind v0.30.0 uses
# (or the nearest the proxy serves), built as the projects' Makefiles do.

# ni_go_build OUT CGO TAGS LDFLAGS MOD@VERSION PKG...
# Builds packages of one module version into OUT, from a wrapper module that requires it
# (a plain `go install PKG@VERSION` refuses modules whose go.mod has exclude/replace
# directives). The module's excludes are repeated so versions resolve as in its own
# build; replaces can only be repeated when they point at other modules (not ../dirs).
ni_go_build() {
  local out=$1 cgo=$2 tags=$3 ldf=$4 modver=$5
  shift 5
  local mod=${modver%@*} ver=${modver#*@} dir gomod
  dir=$NI_SRC/wrap-$(echo "$modver" | tr '/@' '__')
  mkdir -p "$dir" "$out"
  local info godir
  info=$(cd "$NI_SRC" && GOFLAGS=-mod=mod go mod download -json "$modver")
  gomod=$(jq -r .GoMod <<<"$info")
  godir=$(go mod edit -json "$gomod" | jq -r '.Go // "1.21"')
  printf 'module bed.local/wrap\n\ngo %s\n\nrequire %s %s\n' "$godir" "$mod" "$ver" >"$dir/go.mod"
  # the module's own go.sum: its dependencies are checked against the hashes it shipped
  # with (the checksum database here lacks some versions, e.g. k8s.io/cri-api v0.34.0-rc.2)
  cp "$(jq -r .Dir <<<"$info")/go.sum" "$dir/go.sum" 2>/dev/null || true
  chmod u+w "$dir/go.sum" 2>/dev/null || true
  local e
  for e in $(go mod edit -json "$gomod" | jq -r '(.Exclude // [])[] | .Path + "@" + .Version'); do
    go mod edit -exclude="$e" "$dir/go.mod"
  done
  for e in $(go mod edit -json "$gomod" | jq -r '(.Replace // [])[] | select(.New.Version != null) |
      (.Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)) + "=" + .New.Path + "@" + .New.Version'); do
    go mod edit -replace="$e" "$dir/go.mod"
  done
  local pkg
  for pkg in "$@"; do
    (cd "$dir" && CGO_ENABLED=$cgo GOFLAGS="-mod=mod ${NI_EXTRA_GOFLAGS:-}" go build -trimpath -tags "$tags" \
      -ldflags "$ldf" -o "$out/$(basename "$pkg")" "$pkg")
  done
}

step_runtime() {
  local out=$NI_OUT/runtime
  if ni_done runtime; then bed_log "containerd/runc/crictl/CNI: cached"; return; fi
  # containerd (Makefile: CGO on as kind sets it, BUILDTAGS from kind's Dockerfile, shim static)
  local pkg=github.com/containerd/containerd/v2
  local vflags="-X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Package=github.com/containerd/containerd/v2 -s -w"
  ni_go_build "$out" 1 "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs" "$vflags" \
    "$pkg@$CONTAINERD_VERSION" "$pkg/cmd/containerd" "$pkg/cmd/ctr"
  ni_go_build "$out" 0 "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs no_grpc" "$vflags -extldflags -static" \
    "$pkg@$CONTAINERD_VERSION" "$pkg/cmd/containerd-shim-runc-v2"
  # runc (Makefile `make runc`: cgo + libseccomp, PIE; needs libseccomp-dev here, libseccomp2 in the node)
  if ! bed_deb_installed libseccomp-dev; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev >/dev/null
  fi
  NI_EXTRA_GOFLAGS=-buildmode=pie ni_go_build "$out" 1 "seccomp urfave_cli_no_docs" "-s -w" \
    "github.com/opencontainers/runc@$RUNC_VERSION" github.com/opencontainers/runc
  # crictl: kind pins v1.33.0, which the proxy refuses (403); v1.34.0 is served, but the
  # checksum database has no entry for it here, hence GONOSUMDB for that module only
  # (its dependencies are checked against its go.sum).
  GONOSUMDB=sigs.k8s.io/cri-tools ni_go_build "$out" 0 "" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_BUILD_VERSION#v} -s -w" \
    "sigs.k8s.io/cri-tools@$CRICTL_BUILD_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  # CNI plugins: the four kind installs, CGO off
  local p=github.com/containernetworking/plugins
  ni_go_build "$out/cni" 0 "" "-s -w -X $p/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" \
    "$p@$CNI_PLUGINS_VERSION" "$p/plugins/ipam/host-local" "$p/plugins/main/loopback" "$p/plugins/main/ptp" "$p/plugins/meta/portmap"
  "$out/containerd" --version && "$out/runc" --version | sed -n 1p && "$out/crictl" --version
  ni_mark runtime
}

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
  ni_go_build "$out" 0 "" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
    "github.com/coredns/coredns@$COREDNS_VERSION" github.com/coredns/coredns
  # local-path-provisioner (scripts/build: CGO off, static, main.VERSION)
  ni_go_build "$out" 0 "" "-s -w -X main.VERSION=$LOCAL_PATH_VERSION" \
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

########################################################################################
# Debian root filesystems (debootstrap, cached as tarballs keyed by their package list).
ni_mirror() {
  local uri=""
  [[ -f /etc/apt/sources.list.d/debian.sources ]] &&
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  echo "${BED_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# ni_rootfs NAME PKG,PKG,...  -> prints the path of a tarball of a minbase bookworm rootfs
ni_rootfs() {
  local name=$1 pkgs=$2 key tarball root
  key=$(echo "$pkgs $(ni_mirror)" | sha256sum | cut -c1-12)
  tarball=$NI_DIR/rootfs-$name-$key.tar
  if [[ ! -s $tarball ]]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    root=$NI_DIR/work/debootstrap-$name
    rm -rf "$root" && mkdir -p "$root"
    bed_log "debootstrap $name: $pkgs"
    if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$(ni_mirror)" >"$NI_DIR/debootstrap-$name.log" 2>&1; then
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
  ni_rootfs base "$BASE_PACKAGES" >/dev/null
  ni_rootfs netbase "$NETBASE_PACKAGES" >/dev/null
}

# docker build, quiet unless it fails
ni_docker_build() {
  if ! docker build -q "$@" >"$NI_DIR/docker-build.log" 2>&1; then
    cat "$NI_DIR/docker-build.log" >&2
    return 1
  fi
}

ni_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
ni_image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
# removes the image a rebuild replaced (OLD-ID NAME), if nothing else refers to it
ni_rmi_replaced() {
  [[ -n $1 && $1 != "$(ni_image_id "$2")" ]] || return 0
  [[ $(docker image inspect -f '{{len .RepoTags}}' "$1" 2>/dev/null) == 0 ]] && docker rmi "$1" >/dev/null 2>&1 || true
}

########################################################################################
# Step 3: the container images kubeadm v1.34 and kind's manifests name, built here and
# saved as docker archives for `ctr images import`. Static Go binaries go FROM scratch
# (upstream: distroless); kube-proxy and kindnetd need iptables, so they get a small
# Debian with iptables/iproute2/conntrack and our iptables-wrapper (upstream:
# distroless-iptables with kubernetes-sigs/iptables-wrappers).
NETBASE_PACKAGES=iptables,iproute2,conntrack,kmod,ca-certificates

ni_netbase() {
  local tag=kind-dev-bed/netbase:$NI_KEY tarball
  ni_image_exists "$tag" && return 0
  tarball=$(ni_rootfs netbase "$NETBASE_PACKAGES")
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$tarball" "$tag.tmp" >/dev/null
  local ctx=$NI_DIR/work/ctx-netbase
  rm -rf "$ctx" && mkdir -p "$ctx"
  install -m 0755 "$NI_FILES/iptables-wrapper" "$ctx/"
  cat >"$ctx/Dockerfile" <<EOM
FROM $tag.tmp
COPY iptables-wrapper /usr/sbin/iptables-wrapper
RUN for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \\
      ln -sfn /usr/sbin/iptables-wrapper /etc/alternatives/\$c; done
EOM
  ni_docker_build -t "$tag" "$ctx"
  docker rmi "$tag.tmp" >/dev/null
}

# A tiny root for FROM scratch images: users, nsswitch, CA bundle, /tmp.
ni_static_rootfs() {
  local r=$1
  mkdir -p "$r/etc/ssl/certs" "$r/tmp" "$r/usr/local/bin" "$r/var/run"
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$r/etc/group"
  printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
}

# ni_build_image ARCHIVE-NAME TAGS DOCKERFILE-BODY FILES...  (FILES copied into the context)
ni_build_image() {
  local name=$1 tags=$2 body=$3 ctx=$NI_DIR/work/ctx-$1 f t
  shift 3
  if [[ -s $NI_IMAGES/$name.tar ]]; then return 0; fi
  rm -rf "$ctx" && mkdir -p "$ctx/files"
  ni_static_rootfs "$ctx/rootfs"
  for f in "$@"; do cp -a "$f" "$ctx/files/"; done
  printf '%s\n' "$body" >"$ctx/Dockerfile"
  local first=${tags%% *}
  ni_docker_build -t "$first" "$ctx"
  for t in $tags; do docker tag "$first" "$t"; done
  # shellcheck disable=SC2086
  docker save -o "$NI_IMAGES/$name.tar.tmp" $tags
  mv "$NI_IMAGES/$name.tar.tmp" "$NI_IMAGES/$name.tar"
  bed_log "image $tags -> $name.tar ($(du -h "$NI_IMAGES/$name.tar" | cut -f1))"
}

step_images() {
  if ni_done images && [[ -s $NI_DIR/image-list.txt ]]; then
    bed_log "images: cached ($(ls "$NI_IMAGES" | tr '\n' ' '))"
    return
  fi
  rm -f "$NI_IMAGES"/*.tar
  local k=$NI_OUT/kubernetes a=$NI_OUT/addons kinddir
  kinddir=$(ni_kind_dir)
  # image names: kubeadm's list for this version, kind's sandbox (pause) image and the
  # add-on images named in kind's manifests
  local required img sandbox kindnetd lpp lph
  required=$("$k/kubeadm" config images list --kubernetes-version "$K8S_VERSION")
  sandbox=$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$kinddir/images/base/files/etc/containerd/config.toml")
  kindnetd=$(ni_kindconst kindnetdImage)
  lpp=$(ni_kindconst storageProvisionerImage)
  lph=$(ni_kindconst storageHelperImage)
  # shellcheck disable=SC2086 # one image per word
  printf '%s\n' $required "$sandbox" "$kindnetd" "$lpp" "$lph" >"$NI_DIR/image-list.txt"
  ni_netbase
  local scratch='FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  for img in $required; do
    local repo=${img%:*}
    case ${repo##*/} in
    kube-apiserver | kube-controller-manager | kube-scheduler)
      ni_build_image "${repo##*/}" "$img" "$scratch
COPY files/ /usr/local/bin/
ENTRYPOINT [\"/usr/local/bin/${repo##*/}\"]" "$k/${repo##*/}" ;;
    kube-proxy)
      ni_build_image kube-proxy "$img" "FROM kind-dev-bed/netbase:$NI_KEY
COPY files/ /usr/local/bin/
ENTRYPOINT [\"/usr/local/bin/kube-proxy\"]" "$k/kube-proxy" ;;
    etcd)
      ni_build_image etcd "$img" "$scratch
COPY files/ /usr/local/bin/
CMD [\"/usr/local/bin/etcd\"]" "$a/etcd" "$a/etcdctl" "$a/etcdutl" ;;
    coredns)
      # upstream runs as nonroot with a file capability for port 53; we run as root (the
      # pod adds NET_BIND_SERVICE) to avoid setcap in a scratch image
      ni_build_image coredns "$img" "$scratch
COPY files/coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT [\"/coredns\"]" "$a/coredns" ;;
    pause)
      ni_build_image pause "$img $sandbox" "FROM scratch
COPY files/pause /pause
USER 65535:65535
ENTRYPOINT [\"/pause\"]" "$a/pause" ;;
    *) bed_log "no recipe for image $img"; return 1 ;;
    esac
  done
  ni_build_image kindnetd "$kindnetd" "FROM kind-dev-bed/netbase:$NI_KEY
COPY files/kindnetd /bin/kindnetd
ENTRYPOINT [\"/bin/kindnetd\"]" "$a/kindnetd"
  ni_build_image local-path-provisioner "$lpp" "$scratch
COPY files/ /usr/local/bin/
ENTRYPOINT [\"/usr/local/bin/local-path-provisioner\"]" "$a/local-path-provisioner"
  # helper: the setup/teardown scripts need sh, mkdir, rm (upstream: those three from
  # Debian on distroless/static); here Debian's busybox-static with its applet links
  local bb=$NI_DIR/work/busybox
  if [[ ! -x $bb/bin/busybox ]]; then
    rm -rf "$bb" && mkdir -p "$bb/deb"
    (cd "$bb/deb" && apt-get download busybox-static >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get download busybox-static >/dev/null; })
    dpkg -x "$bb"/deb/busybox-static_*.deb "$bb/x"
    mkdir -p "$bb/bin" && cp "$bb/x/bin/busybox" "$bb/bin/busybox"
    local applet
    for applet in sh mkdir rm ls cat chmod; do ln -sfn busybox "$bb/bin/$applet"; done
  fi
  ni_build_image local-path-helper "$lph" "$scratch
COPY files/bin/ /bin/" "$bb/bin"
  ni_mark images
}

ni_kindconst() {
  (cd "$NI_FILES/kindconsts" && go run . "$(ni_kind_dir)/pkg/build/nodeimage" "$1")
}

########################################################################################
# Step 4: the base image, as kind v0.30.0's images/base/Dockerfile builds it: Debian
# bookworm with the same packages, kind's own files (entrypoint, containerd config,
# systemd units, scripts; taken from the kind module in the Go module cache, not copied
# into this repository), containerd/runc/crictl/CNI plugins from step 2, the same
# cleanup of systemd units, then squashed into one layer (docker import).
BASE_PACKAGES=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,nfs-common,open-iscsi,bash,ca-certificates,curl,jq,procps

step_base() {
  if ni_done base && ni_image_exists "$BASE_IMAGE"; then bed_log "base image $BASE_IMAGE: cached"; return; fi
  local tarball kinddir files root=$NI_DIR/work/base-root r=$NI_OUT/runtime
  tarball=$(ni_rootfs base "$BASE_PACKAGES")
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
  cat >"$ctx/Dockerfile" <<EOM
FROM $BASE_IMAGE-rootfs
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
EOM
  local old
  old=$(ni_image_id "$BASE_IMAGE")
  ni_docker_build -t "$BASE_IMAGE" "$ctx"
  docker rmi "$BASE_IMAGE-rootfs" >/dev/null
  ni_rmi_replaced "$old" "$BASE_IMAGE"
  docker run --rm --entrypoint /bin/sh "$BASE_IMAGE" -c 'containerd --version && runc --version | sed -n 1p && crictl --version'
  ni_mark base
}

########################################################################################
# Step 5: the node image, as kind's `build node-image` does it (pkg/build/nodeimage):
# a container of the base image running `sleep`, Kubernetes binaries copied to /usr/bin,
# /kind/version, the default CNI and storage manifests, images imported into its
# containerd (--no-unpack, pinned), then `docker commit`.
step_node() {
  if ni_done node && ni_image_exists "$NODE_IMAGE"; then bed_log "node image $NODE_IMAGE: cached"; return; fi
  # one fixed name: a container left by a failed run is replaced by the next
  local id=kind-dev-bed-node-build b archive
  docker rm -f -v "$id" >/dev/null 2>&1 || true
  docker run -d --entrypoint=sleep --name "$id" --security-opt seccomp=unconfined "$BASE_IMAGE" infinity >/dev/null
  for b in kubeadm kubelet kubectl; do
    docker cp "$NI_OUT/kubernetes/$b" "$id:/usr/bin/$b"
    docker exec "$id" chmod +x "/usr/bin/$b"
    docker exec "$id" chown root:root "/usr/bin/$b"
  done
  printf '%s' "$K8S_VERSION" | docker exec -i "$id" sh -c 'cat > /kind/version'
  docker exec "$id" mkdir -p /kind/manifests
  ni_kindconst defaultCNIManifest | docker exec -i "$id" sh -c 'cat > /kind/manifests/default-cni.yaml'
  ni_kindconst defaultStorageManifest | docker exec -i "$id" sh -c 'cat > /kind/manifests/default-storage.yaml'
  docker exec "$id" bash -c 'nohup containerd > /dev/null 2>&1 &'
  docker exec "$id" bash -c 'for i in $(seq 1 50); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done; ctr info >/dev/null'
  for archive in "$NI_IMAGES"/*.tar; do
    docker exec -i "$id" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
      --all-platforms --no-unpack --digests - <"$archive" >/dev/null
  done
  # The list is read once, whole, into a variable: a reader that stops early (grep -q) behind
  # `docker exec` under pipefail kills the producer with SIGPIPE and fails the check at random.
  local listed
  listed=$(docker exec "$id" ctr --namespace=k8s.io images list -q)
  printf '%s\n' "$listed" | sed 's/^/[testbed]   /' >&2
  # every image the node needs must be there (kubeadm's list, sandbox, kind's manifests)
  local missing=0 img
  while read -r img; do
    bed_has_line "$listed" "$(ni_normalize "$img")" || { bed_log "missing in node image: $img"; missing=1; }
  done <"$NI_DIR/image-list.txt"
  [[ $missing == 0 ]]
  docker exec "$id" pkill containerd || true
  sleep 1
  local old
  old=$(ni_image_id "$NODE_IMAGE")
  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    "$id" "$NODE_IMAGE" >/dev/null
  docker rm -f -v "$id" >/dev/null
  ni_rmi_replaced "$old" "$NODE_IMAGE"
  ni_mark node
}

# docker.io/library normalisation, as containerd stores names
ni_normalize() {
  local n=$1
  case ${n%%/*} in
  *.* | *:* | localhost) echo "$n" ;;
  *) [[ $n == */* ]] && echo "docker.io/$n" || echo "docker.io/library/$n" ;;
  esac
}

########################################################################################
# Proof (not part of the default steps): kind create cluster with the image through the
# docker wrapper, all nodes Ready and kube-system pods Running; then 1 control plane +
# 1 worker; then kind delete cluster. Uses $BED_BIN/kind when there, else builds
# sigs.k8s.io/kind@v0.30.0 into the cache; kubectl is ours.
ni_kind() {
  if [[ -x $BED_BIN/kind ]]; then echo "$BED_BIN/kind"; return; fi
  if [[ ! -x $NI_OUT/tools/kind ]]; then
    ni_go_build "$NI_OUT/tools" 0 "" "-s -w" "sigs.k8s.io/kind@$KIND_VERSION" sigs.k8s.io/kind >&2
  fi
  echo "$NI_OUT/tools/kind"
}

ni_prove_cluster() {
  local name=$1 config=$2 kind kubeconfig=$NI_DIR/work/kubeconfig-$1 start=$SECONDS
  kind=$(ni_kind)
  local kubectl=("$NI_OUT/kubernetes/kubectl" --kubeconfig "$kubeconfig")
  PATH="$BED_DIR/docker-wrapper:$PATH" "$kind" delete cluster --name "$name" >/dev/null 2>&1 || true
  bed_log "kind create cluster --name $name --image $NODE_IMAGE ${config:+(config: $config)}"
  PATH="$BED_DIR/docker-wrapper:$PATH" "$kind" create cluster --name "$name" --image "$NODE_IMAGE" \
    --kubeconfig "$kubeconfig" --wait 5m ${config:+--config "$config"}
  bed_log "cluster $name created in $((SECONDS - start))s"
  "${kubectl[@]}" wait --for=condition=Ready nodes --all --timeout=300s
  # every pod (kube-system, local-path-storage) Running with all containers ready
  local _
  for _ in $(seq 1 60); do
    ni_pods_ok "${kubectl[@]}" && break
    sleep 5
  done
  "${kubectl[@]}" get nodes -o wide
  "${kubectl[@]}" get pods -A -o wide
  ni_pods_ok "${kubectl[@]}"
  bed_log "cluster $name: all nodes Ready, all pods Running ($((SECONDS - start))s)"
}

# the cluster's own pods (kube-system, local-path-storage; not local-path's short-lived
# helper pods) all Running with every container ready
ni_pods_ok() {
  "$@" get pods -A --no-headers 2>/dev/null |
    awk '($1 == "kube-system" || $1 == "local-path-storage") && $2 !~ /^helper-pod-/ {
      n++; split($3, r, "/"); if ($4 != "Running" || r[1] != r[2]) bad=1 } END {exit (bad || n == 0)}'
}

# Workloads on the worker, with only the images the node image carries (the local-path
# helper is busybox): DNS through CoreDNS on the control plane (service VIP via kube-proxy,
# cross-node route via kindnetd), and a PVC through local-path-provisioner and its helper.
ni_prove_workloads() {
  local kubectl=("$@") helper
  helper=$(ni_kindconst storageHelperImage)
  "${kubectl[@]}" apply -f - <<EOM
apiVersion: v1
kind: Pod
metadata: {name: bed-dns}
spec:
  nodeName: bedtest-worker
  restartPolicy: Never
  containers:
  - name: c
    image: $helper
    imagePullPolicy: Never
    command: [/bin/busybox, nslookup, kubernetes.default.svc.cluster.local]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bed-pvc}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: bed-pv}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $helper
    imagePullPolicy: Never
    command: [/bin/sh, -c, 'echo written-to-pv > /data/f && cat /data/f']
    volumeMounts: [{name: d, mountPath: /data}]
  volumes:
  - name: d
    persistentVolumeClaim: {claimName: bed-pvc}
EOM
  local p ok=0
  for p in bed-dns bed-pv; do
    if "${kubectl[@]}" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$p" --timeout=180s; then
      "${kubectl[@]}" logs "$p" | sed "s/^/[testbed]   $p: /" >&2
    else
      ok=1
      "${kubectl[@]}" describe pod "$p" >&2 || true
      "${kubectl[@]}" logs "$p" >&2 || true
    fi
  done
  "${kubectl[@]}" get pvc bed-pvc
  "${kubectl[@]}" delete pod bed-dns bed-pv --wait=false >/dev/null
  return "$ok"
}

step_prove() {
  local kind config=$NI_DIR/work/kind-2nodes.yaml
  kind=$(ni_kind)
  ni_prove_cluster bedtest ""
  PATH="$BED_DIR/docker-wrapper:$PATH" "$kind" delete cluster --name bedtest
  printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n' >"$config"
  ni_prove_cluster bedtest "$config"
  ni_prove_workloads "$NI_OUT/kubernetes/kubectl" --kubeconfig "$NI_DIR/work/kubeconfig-bedtest"
  # still healthy a little later (restarts shown)
  sleep 20
  "$NI_OUT/kubernetes/kubectl" --kubeconfig "$NI_DIR/work/kubeconfig-bedtest" get pods -A
  ni_pods_ok "$NI_OUT/kubernetes/kubectl" --kubeconfig "$NI_DIR/work/kubeconfig-bedtest"
  PATH="$BED_DIR/docker-wrapper:$PATH" "$kind" delete cluster --name bedtest
}

########################################################################################
STEPS=(rootfs k8s runtime addons images base node)
main() {
  local steps=("$@") s start=$SECONDS
  [[ ${#steps[@]} -gt 0 ]] || steps=("${STEPS[@]}")
  for s in "${steps[@]}"; do
    if [[ $(type -t "step_${s//-/_}") != function ]]; then
      bed_log "unknown step $s (steps: ${STEPS[*]} prove)"
      return 2
    fi
    case $s in
    images | base | node | prove) docker info >/dev/null 2>&1 || { bed_log "step $s needs a docker daemon (test/bed/docker.sh)"; return 1; } ;;
    esac
  done
  for s in "${steps[@]}"; do bed_step "$s" "step_${s//-/_}"; done
  bed_log "node image: $NODE_IMAGE (total $((SECONDS - start))s)"
  echo "$NODE_IMAGE"
}
main "$@"; exit $?  # (one line: edits to this file during a run cannot derail it)
