# kube-proxy needs iptables: the small Debian netbase image (upstream: distroless-iptables).
FROM @NETBASE@
COPY files/ /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/kube-proxy"]
