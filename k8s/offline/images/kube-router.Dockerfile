# Stands in for docker.io/cloudnativelabs/kube-router on machines that cannot
# pull it: the binary built from its Go module on Debian with iptables and
# ipset (its firewall runs both; Debian's iptables is the nft one, as the node's).
ARG DEBIAN=shop-local/debian-netfilter:bookworm
FROM ${DEBIAN}
COPY kube-router /usr/local/bin/kube-router
ENTRYPOINT ["/usr/local/bin/kube-router"]
