# k6 for the spike Job, from the binary built from Go modules (same version as the local one).
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
COPY k6 /usr/bin/k6
USER 12345:12345
WORKDIR /tmp
ENTRYPOINT ["k6"]
