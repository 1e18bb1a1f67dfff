# The pods' sandbox ("pause") image, made here: it only has to sleep until stopped.
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
CMD ["/bin/bash", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
