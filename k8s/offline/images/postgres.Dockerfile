# Stands in for the official postgres:15-bookworm on machines that cannot pull
# it: Debian's PostgreSQL 15 with the official image's postgres user (999) and
# the part of its entrypoint charts/shop uses (POSTGRES_PASSWORD, POSTGRES_DB, PGDATA).
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
RUN groupadd --gid 999 postgres && useradd --uid 999 --gid 999 --home-dir /var/lib/postgresql postgres \
 && apt-get update -q && apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER 999:999
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
