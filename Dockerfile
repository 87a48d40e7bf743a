# syntax=docker/dockerfile:1
# pinroute: built with the dev toolchain into one bundled file (dist/cli.js),
# which needs nothing from node_modules at run time.

FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare script (the build) runs below, once sources are in.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run typecheck && npm run build

FROM node:26-slim AS runtime
# NODE_COMPILE_CACHE (Node 22+): compiled code is cached on disk, so restarts reach /readyz sooner.
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/home/node/.cache/node-compile-cache \
    PORT=8080 \
    PINROUTE_CONFIG=/app/routes.config.yaml
WORKDIR /app
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY routes.config.yaml ./
# Mount your own routes.config.yaml over /app/routes.config.yaml (it hot-reloads);
# secrets come from the environment (OPENAI_API_KEY, PINROUTE_API_KEY, ...).
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, so pinroute drains in-flight streams.
ENTRYPOINT ["node", "bin/pinroute.js"]
CMD ["serve"]
