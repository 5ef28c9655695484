# The kindnetd stand-in (../kindnetd) needs iptables and ip: the Debian netbase image.
FROM @NETBASE@
COPY files/kindnetd /bin/kindnetd
ENTRYPOINT ["/bin/kindnetd"]
