# node:<version>-bookworm-slim made here, for machines that cannot pull it:
# a debootstrap'd Debian bookworm plus the Node binary and npm from the npm
# registry (k8s/offline/prepare.sh), laid out as the official image is.
ARG DEBIAN=shop-local/debian:bookworm
FROM ${DEBIAN}
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
