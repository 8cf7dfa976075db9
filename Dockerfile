# Latchkey container image. The build stage installs production dependencies (compiling
# better-sqlite3's native module when no prebuilt one can be fetched) and bundles the server
# into dist/server.js with esbuild; the image runs that with plain node. The CLI runs the
# TypeScript sources through tsx (a runtime dependency).
#
# scripts/docker-replay.sh replays these steps without a Docker engine: when a COPY or RUN
# below changes, change it there too.

FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# npm ci runs the postinstall script (scripts/copy-assets.mjs), which copies htmx into public/.
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY public ./public
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && test -s public/htmx.min.js
# tsconfig.json is read by tsx (the CLI) at run time: it sets the JSX runtime (hono/jsx).
COPY tsconfig.json ./
COPY db ./db
COPY views ./views
COPY src ./src
RUN node scripts/build.mjs && test -s dist/server.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000
WORKDIR /app
# The app files stay owned by root (read-only for the app); only /data is the node user's.
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME /data
EXPOSE 3000
# No curl in the slim image: node's fetch does the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no npm or shell in between), so `docker stop`'s SIGTERM reaches the
# server's handler, which finishes requests in flight and closes the database.
# --max-semi-space-size=8 and --max-old-space-size=128: V8 grows its heap under load because it
# may, not because Latchkey needs it (its live set is a few tens of MB); with these the resident
# size stays under 150 MB at 50 concurrent executes for the same throughput (bench/analysis.md).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=8", "--max-old-space-size=128", "dist/server.js"]
