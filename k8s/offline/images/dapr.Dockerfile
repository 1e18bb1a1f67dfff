# Dapr's control plane and sidecar for the local cluster: the binaries built
# from Go modules (operator, injector, sentry, placement, scheduler, daprd; the
# same wrapper module as the local platform's daprd) at the paths Dapr's chart
# runs them from, as a numeric non-root user with a passwd entry (Dapr checks it).
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
RUN groupadd --gid 65532 nonroot && useradd --uid 65532 --gid 65532 --no-create-home nonroot
COPY operator injector sentry placement scheduler daprd /
USER 65532:65532
