# Stands in for the official redis:7-bookworm on machines that cannot pull it:
# Debian's redis-server (7.0) with the official image's redis user (999) and
# /data; charts/shop runs it with its own command.
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
RUN groupadd --gid 999 redis && useradd --uid 999 --gid 999 --no-create-home redis \
 && apt-get update -q && apt-get install -y -q --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* && mkdir /data && chown redis:redis /data
WORKDIR /data
USER 999:999
CMD ["redis-server"]
