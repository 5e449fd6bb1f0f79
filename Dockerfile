# file-import-bridge container image.
#   docker build -t file-import-bridge:0.1.0 .
# Runs the compiled JavaScript (dist/, from `npm run build`) rather than the TypeScript sources through
# Node's type stripping: the image then needs no TypeScript-aware loader, starts without stripping,
# and a type error fails the build instead of a pod. Source maps come along for readable stack traces.
# Pin the base image by tag (Node.js 24 LTS, Debian trixie slim); pin a digest too in your registry.
ARG NODE_IMAGE=node:24.22.3-trixie-slim

# Stage 1: production dependencies only (no dev tools in the final image), no install scripts.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# Stage 2: compile src/ to dist/ with the full dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Stage 3: the runtime. Non-root (the image's `node` user, uid 1000), nothing written to the root
# filesystem (logs go to stdout; mount an emptyDir on /tmp when the root filesystem is read-only).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# V8 heap flags for a run without the chart (`docker run`): what the Helm chart derives for its default
# memory limit of 512Mi (old space at half the limit, semi-spaces at 1/32 of it, at most 16 MB). With
# the --heap-growing-percent=100 of the CMD below the bench's 1M backlog peaked at 256 MB RSS, 436 MB
# with V8's default sizing and neither flag (docs/benchmark.md). The chart sets NODE_OPTIONS from the
# pod's memory limit, which replaces these; set NODE_OPTIONS yourself for another limit.
ENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=16"
WORKDIR /app
COPY --chown=root:root package.json ./
COPY --chown=root:root schemas ./schemas
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
USER 1000:1000
# 8080: the webhook (HTTP_PORT); 9464: /metrics, /healthz, /readyz (METRICS_PORT).
EXPOSE 8080 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 (no npm, no shell): SIGTERM reaches src/main.ts, which drains and exits. The bridge
# starts no child processes, so no init is needed to reap zombies.
STOPSIGNAL SIGTERM
# --heap-growing-percent=100: after a full GC V8 lets the old generation grow to twice what survived
# (like Go's GOGC=100). Under a heap cap such as the chart's --max-old-space-size=256, V8's own
# factor for small heaps is about 1.4: a full GC every ~100 ms and 1.4-1.8x the CPU per event in the
# benchmark. A V8 flag, so not allowed in NODE_OPTIONS; test/unit/bench/image.test.ts checks that this
# Node.js accepts it (docs/benchmark.md).
CMD ["node", "--heap-growing-percent=100", "--enable-source-maps", "--disable-warning=TimeoutNegativeWarning", "dist/main.js"]
