# The base image's metadata on top of its one-layer root filesystem (docker import cannot set
# STOPSIGNAL; a metadata-only build adds no layer).
FROM @ROOTFS@
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
