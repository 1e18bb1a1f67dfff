# Stands in for registry.k8s.io/metrics-server/metrics-server on machines that
# cannot pull it: the binary built from its Go module, at the path its image
# runs (its chart passes only arguments), as a non-root user.
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
COPY metrics-server /metrics-server
USER 65534:65534
ENTRYPOINT ["/metrics-server"]
