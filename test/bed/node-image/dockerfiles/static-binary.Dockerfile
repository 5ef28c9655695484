# A static Go binary FROM scratch (upstream: distroless/static): kube-apiserver,
# kube-controller-manager, kube-scheduler, local-path-provisioner.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY files/ /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/@BINARY@"]
