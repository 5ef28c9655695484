# shellcheck shell=bash
# Step node: the node image, as kind's `build node-image` makes it.
# Sourced by test/bed/node-image.sh, never run; see there for the variables it uses.

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
