# shellcheck shell=bash
# Step k8s: the Kubernetes binaries, built from k8s.io/kubernetes as a module.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

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

# The Kubernetes binaries do not depend on the kind release (their recipe names only the
# Kubernetes version and step_k8s), so a build made for another release is reused: hard links
# from a sibling cache directory whose k8s stamp equals this recipe. Saves ~18 min cold.
ni_reuse_k8s() {
  ni_done k8s && return 0
  local recipe other b
  recipe=$(ni_recipe k8s)
  for other in "$BED_CACHE"/node-image/"$K8S_VERSION"-kind-*/; do
    other=${other%/}
    [[ $other != "$NI_DIR" && $(cat "$other/stamps/k8s" 2>/dev/null) == "$recipe" ]] || continue
    for b in "${K8S_BINARIES[@]}"; do [[ -x $other/bin/kubernetes/$b ]] || continue 2; done
    mkdir -p "$NI_OUT/kubernetes" "$NI_DIR/stamps"
    for b in "${K8S_BINARIES[@]}"; do ln -f "$other/bin/kubernetes/$b" "$NI_OUT/kubernetes/$b"; done
    cp "$other/bin/kubernetes/.recipe" "$NI_OUT/kubernetes/.recipe" 2>/dev/null || true
    cp "$other/stamps/k8s" "$NI_DIR/stamps/k8s"
    bed_log "kubernetes $K8S_VERSION binaries: reused from $other"
    return 0
  done
}

# kubectl of this version in $BED_BIN for the tests, unless something else put one there
ni_link_kubectl() {
  if [[ ! -e $BED_BIN/kubectl || $(readlink "$BED_BIN/kubectl") == "$BED_CACHE"/node-image/* ]]; then
    ln -sfn "$NI_OUT/kubernetes/kubectl" "$BED_BIN/kubectl"
  fi
}
