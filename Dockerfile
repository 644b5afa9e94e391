# recrypt container image. Two stages:
#   build   - node:20-bookworm with librdkafka's build dependencies; the same steps as
#             scripts/bootstrap.sh and the README: `CKJS_LINKING=dynamic npm ci`, `npm run build`,
#             then `npm prune --omit=dev` (the compiled librdkafka bindings stay in node_modules).
#   runtime - node:20-bookworm-slim with only the shared libraries the bindings link against, tini as
#             PID 1 (signals reach node, zombies are reaped), a non-root user (uid 10001).
#
#   docker build -t recrypt:0.1.0 .
#   docker run --rm recrypt:0.1.0 validate /etc/recrypt/jobs/my-job.yaml
#
# The default command is `serve /etc/recrypt/jobs` (the Helm chart mounts the jobs ConfigMap there).

ARG NODE_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build

# librdkafka's build dependencies (scripts/lib.sh APT_PACKAGES, minus the local stack's services), and
# the toolchain node-gyp needs. Versions float with the bookworm suite on purpose: security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      zlib1g-dev libssl-dev libsasl2-dev libzstd-dev liblz4-dev pkg-config python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so the slow librdkafka build is cached until package-lock.json changes.
# CKJS_LINKING=dynamic: link librdkafka against Debian's zlib/OpenSSL/SASL/zstd/lz4 (bootstrap.sh does
# the same). npm_config_build_from_source: compile @confluentinc/kafka-javascript from its bundled
# sources even where its prebuilt binary could be downloaded, so the image runs what the tests ran.
COPY package.json package-lock.json ./
RUN CKJS_LINKING=dynamic npm_config_build_from_source=@confluentinc/kafka-javascript \
      npm ci --no-audit --no-fund --loglevel=error

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY jobs/schema.json ./jobs/schema.json
# After the prune, drop librdkafka's sources, static archives and object files (about 260 MB): the
# binding needs only build/Release/*.node and build/deps/librdkafka*.so.1.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error \
 && ckjs=node_modules/@confluentinc/kafka-javascript \
 && rm -rf "$ckjs/deps/librdkafka" "$ckjs/build/Release/obj.target" "$ckjs/build/deps/include" "$ckjs"/build/deps/*.a \
 && node -e "const k = require('@confluentinc/kafka-javascript'); new k.Producer({}); console.log('librdkafka', k.librdkafkaVersion)"


FROM ${NODE_RUNTIME_IMAGE} AS runtime

# Runtime libraries of the dynamically linked librdkafka, and tini for signal handling.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 libsasl2-2 libsasl2-modules libzstd1 liblz4-1 zlib1g ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 recrypt \
 && useradd --system --uid 10001 --gid recrypt --home-dir /app --no-create-home --shell /usr/sbin/nologin recrypt \
 && mkdir -p /etc/recrypt/jobs \
 && chown recrypt:recrypt /etc/recrypt/jobs

WORKDIR /app
ENV NODE_ENV=production \
    RECRYPT_HTTP_PORT=8080

COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/jobs/schema.json ./jobs/schema.json

USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.RECRYPT_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["tini", "--", "node", "bin/recrypt.js"]
CMD ["serve", "/etc/recrypt/jobs"]
