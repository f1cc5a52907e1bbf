# The raftkit key-value server. Build: docker build -t raftkit-kv .
# Run one server: docker run -e RAFTKIT_ID=n1 -e RAFTKIT_MEMBERS=n1 -e RAFTKIT_INSECURE=true raftkit-kv
# Every flag of `raftkit-kv --help` is also an environment variable (RAFTKIT_...). See docs/deploy.md.

FROM node:20-alpine AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts stay off: the native SQLite build is a development dependency the image does not need.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.apps.json ./
COPY src src
COPY apps apps
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp && mv /tmp/raftkit-*.tgz /tmp/raftkit.tgz

FROM node:20-alpine
ENV NODE_ENV=production \
    RAFTKIT_DIR=/data \
    RAFTKIT_RAFT_PORT=7000 \
    RAFTKIT_CLIENT_PORT=6379 \
    RAFTKIT_HTTP_PORT=8080 \
    RAFTKIT_LOG_FORMAT=json
COPY --from=build /tmp/raftkit.tgz /tmp/raftkit.tgz
# Only the runtime dependencies; peers (type declarations, SQLite, vitest) are left out.
RUN npm install --global --omit=dev --omit=peer --no-audit --no-fund /tmp/raftkit.tgz \
    && rm /tmp/raftkit.tgz && npm cache clean --force \
    && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 7000 6379 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.RAFTKIT_HTTP_PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["raftkit-kv"]
