# CoreDNS for the local cluster, from the binary built from Go modules.
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
COPY coredns /coredns
USER 65532:65532
ENTRYPOINT ["/coredns"]
