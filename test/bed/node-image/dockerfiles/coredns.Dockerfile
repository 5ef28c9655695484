# Upstream runs as nonroot with a file capability for port 53; this one runs as root (the pod
# adds NET_BIND_SERVICE) to avoid setcap in a scratch image.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY files/coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
