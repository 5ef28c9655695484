# Debian with iptables, iproute2 and conntrack, its iptables commands pointed at the
# iptables-wrapper (legacy or nft, whichever the host uses; upstream: iptables-wrappers).
FROM @ROOTFS@
COPY iptables-wrapper /usr/sbin/iptables-wrapper
RUN for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
      ln -sfn /usr/sbin/iptables-wrapper /etc/alternatives/$c; done
