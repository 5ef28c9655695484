FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY files/ /usr/local/bin/
CMD ["/usr/local/bin/etcd"]
