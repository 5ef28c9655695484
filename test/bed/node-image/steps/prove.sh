# shellcheck shell=bash
# Step prove (not a default step): kind create cluster with the image, workloads, delete.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

# Proof (not part of the default steps): kind create cluster with the image through the
# docker wrapper, all nodes Ready and kube-system pods Running; then 1 control plane +
# 1 worker; then kind delete cluster. Uses $BED_BIN/kind when there, else builds
# sigs.k8s.io/kind@$KIND_VERSION into the cache; kubectl is ours.
ni_kind() {
  if [[ -x $BED_BIN/kind ]]; then echo "$BED_BIN/kind"; return; fi
  if [[ ! -x $NI_OUT/tools/kind ]]; then
    bed_go_build "$NI_OUT/tools" 0 "" "-s -w" "sigs.k8s.io/kind@$KIND_VERSION" sigs.k8s.io/kind >&2
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
  local manifest
  manifest=$(<"$NI_FILES/manifests/prove-workloads.yaml")
  "${kubectl[@]}" apply -f - <<<"${manifest//@HELPER@/$helper}"
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
  local kind config=$NI_FILES/manifests/kind-2nodes.yaml
  kind=$(ni_kind)
  ni_prove_cluster bedtest ""
  PATH="$BED_DIR/docker-wrapper:$PATH" "$kind" delete cluster --name bedtest
  ni_prove_cluster bedtest "$config"
  ni_prove_workloads "$NI_OUT/kubernetes/kubectl" --kubeconfig "$NI_DIR/work/kubeconfig-bedtest"
  # still healthy a little later (restarts shown)
  sleep 20
  "$NI_OUT/kubernetes/kubectl" --kubeconfig "$NI_DIR/work/kubeconfig-bedtest" get pods -A
  ni_pods_ok "$NI_OUT/kubernetes/kubectl" --kubeconfig "$NI_DIR/work/kubeconfig-bedtest"
  PATH="$BED_DIR/docker-wrapper:$PATH" "$kind" delete cluster --name bedtest
}
