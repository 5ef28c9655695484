# shellcheck shell=bash
# Step images: the container images the node's containerd carries, saved as archives.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

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
  ni_dockerfile netbase "ROOTFS=$tag.tmp" >"$ctx/Dockerfile"
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

# ni_build_image ARCHIVE-NAME TAGS TEMPLATE FILES...: builds node-image/dockerfiles/TEMPLATE
# (placeholders @BINARY@ = the first file's name, @NETBASE@ = the netbase image) with FILES
# copied into the context's files/, and saves it under every tag.
ni_build_image() {
  local name=$1 tags=$2 template=$3 ctx=$NI_DIR/work/ctx-$1 f t
  shift 3
  if [[ -s $NI_IMAGES/$name.tar ]]; then return 0; fi
  rm -rf "$ctx" && mkdir -p "$ctx/files"
  ni_static_rootfs "$ctx/rootfs"
  for f in "$@"; do cp -a "$f" "$ctx/files/"; done
  ni_dockerfile "$template" "BINARY=$(basename "$1")" "NETBASE=kind-dev-bed/netbase:$NI_KEY" >"$ctx/Dockerfile"
  local first=${tags%% *}
  ni_docker_build -t "$first" "$ctx"
  for t in $tags; do docker tag "$first" "$t"; done
  # shellcheck disable=SC2086
  docker save -o "$NI_IMAGES/$name.tar.tmp" $tags
  mv "$NI_IMAGES/$name.tar.tmp" "$NI_IMAGES/$name.tar"
  bed_log "image $tags -> $name.tar ($(du -h "$NI_IMAGES/$name.tar" | cut -f1))"
}

# Debian's busybox-static with the applets local-path's helper scripts run; prints its bin dir.
ni_busybox() {
  local bb=$NI_DIR/work/busybox
  if [[ ! -x $bb/bin/busybox ]]; then
    rm -rf "$bb" && mkdir -p "$bb/deb"
    if ! (cd "$bb/deb" && apt-get download busybox-static >/dev/null 2>&1); then
      apt-get update -qq && (cd "$bb/deb" && apt-get download busybox-static >/dev/null)
    fi
    dpkg -x "$bb"/deb/busybox-static_*.deb "$bb/x"
    mkdir -p "$bb/bin" && cp "$bb/x/bin/busybox" "$bb/bin/busybox"
    local applet
    for applet in sh mkdir rm ls cat chmod; do ln -sfn busybox "$bb/bin/$applet"; done
  fi
  echo "$bb/bin"
}

step_images() {
  if ni_done images && [[ -s $NI_DIR/image-list.txt ]]; then
    local archives=("$NI_IMAGES"/*.tar)
    bed_log "images: cached (${archives[*]##*/})"
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
  for img in $required; do
    local repo=${img%:*}
    case ${repo##*/} in
    kube-apiserver | kube-controller-manager | kube-scheduler)
      ni_build_image "${repo##*/}" "$img" static-binary "$k/${repo##*/}" ;;
    kube-proxy) ni_build_image kube-proxy "$img" kube-proxy "$k/kube-proxy" ;;
    etcd) ni_build_image etcd "$img" etcd "$a/etcd" "$a/etcdctl" "$a/etcdutl" ;;
    coredns) ni_build_image coredns "$img" coredns "$a/coredns" ;;
    pause) ni_build_image pause "$img $sandbox" pause "$a/pause" ;;
    *) bed_log "no recipe for image $img"; return 1 ;;
    esac
  done
  ni_build_image kindnetd "$kindnetd" kindnetd "$a/kindnetd"
  ni_build_image local-path-provisioner "$lpp" static-binary "$a/local-path-provisioner"
  ni_build_image local-path-helper "$lph" local-path-helper "$(ni_busybox)"
  ni_mark images
}

ni_kindconst() {
  (cd "$NI_FILES/kindconsts" && go run . "$(ni_kind_dir)/pkg/build/nodeimage" "$1")
}
