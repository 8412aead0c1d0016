# Tollgate on Node 24 LTS.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY packages ./packages
COPY src ./src
COPY migrations ./migrations
COPY bin ./bin
COPY patches ./patches
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production HOST=0.0.0.0 ADMIN_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
COPY views ./views
# Without DATABASE_URL the embedded database lives in ./data and its generated key-encryption key
# in ./keys: both owned by the user Tollgate runs as, and owner-only, or the start refuses them.
RUN install -d -m 0700 -o node -g node /app/data /app/keys
USER node
EXPOSE 3000 3001
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# A young generation of up to 32 MB was set against GC pauses before oidc-provider was patched
# (patches/); 8 to 32 MB now measure the same, so it stays. Liftoff-only WebAssembly:
# the embedded database's code is not recompiled by the optimising tier, which saved ~60 MiB RSS.
CMD ["node", "--max-semi-space-size=32", "--liftoff-only", "dist/src/main.js"]
