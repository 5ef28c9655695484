# local-path's setup/teardown scripts need sh, mkdir and rm (upstream: those three from Debian on
# distroless/static); here Debian's busybox-static with its applet links.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY files/bin/ /bin/
