# Krill's container image for machines with Docker and a registry (node:24-slim base).
#
#   docker build --build-arg KRILL_COMMIT=$(git rev-parse --short=12 HEAD) -t krill .
#   docker run --rm -p 9092:9092 krill                 # localhost:9092 from the host, data in the container
#   docker run --rm -p 19092:9092 -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:19092 \
#     -e KAFKA_LISTENERS=PLAINTEXT://:9092 -v krill-data:/var/lib/krill krill
#
# The broker listens on every interface and advertises localhost:9092 (container/server.properties);
# KAFKA_* variables set any broker key as in Apache Kafka's image (docs/container.md), and arguments
# after the image name are appended to `krill start`, so `--override key=value` wins over both.
#
# Without a registry, container/build-image.sh builds the same layout from scratch and imports it
# with podman (docs/container.md). NODE_IMAGE names another Node >= 22 Debian-based image (a mirror).
# The lockfile lists only linux-x64 (glibc) native packages, so the image is built for linux/amd64.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The native dependencies (@node-rs/crc32, snappy, lz4-napi) ship prebuilt binaries: no scripts run.
RUN npm install --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY tools/build/bundle.ts ./tools/build/bundle.ts
# What `krill --version` reports (the build context has no .git): docker build --build-arg
# KRILL_COMMIT=$(git rev-parse --short=12 HEAD) .
ARG KRILL_COMMIT=unknown
# Type errors fail the build; the broker is the one-file bundle bin/krill runs (docs/startup.md:
# about half the start-up CPU and ~25 MiB less resident memory than the module-per-file build).
RUN npx tsc -p tsconfig.build.json --noEmit \
  && KRILL_COMMIT=${KRILL_COMMIT} node --import tsx tools/build/bundle.ts --out dist/krill.mjs \
  && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
COPY --from=build /src/package.json /opt/krill/package.json
COPY --from=build /src/node_modules /opt/krill/node_modules
COPY --from=build /src/dist /opt/krill/dist
COPY container/server.properties /etc/krill/server.properties
# The broker runs as the base image's unprivileged `node` user and owns only its data folder.
RUN mkdir -p /var/lib/krill && chown node:node /var/lib/krill
USER node
WORKDIR /var/lib/krill
EXPOSE 9092
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/krill/dist/krill.mjs", "start", "--config", "/etc/krill/server.properties", "--env-config"]
