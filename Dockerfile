# dcrvoted container image.
#
#   docker build -t dcrvoted .                       # official node:24 base
#   scripts/build-image.sh                           # same, or a locally made
#                                                    # base when no registry is reachable
#
# Runtime contract (docs/container.md):
#   /etc/dcrvoted/dcrvoted.yaml  config (mount read-only)
#   /run/secrets/<name>          secrets; bare file names in the config resolve
#                                here (CREDENTIALS_DIRECTORY=/run/secrets)
#   /var/lib/dcrvoted            the vote ledger (a volume: keep it)
#   :9198                        /metrics /healthz /readyz /status
#   logs                         JSON lines on stdout
#
# Written for the classic builder as well as BuildKit (no RUN --mount, no
# heredocs), because the offline build path may have no buildx.

ARG BASE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ -------------------
FROM ${BASE_IMAGE} AS build
# Build-stage images carry this label; scripts/build-image.sh tags the current
# ones and removes superseded ones, so repeated CI builds do not fill the disk.
LABEL dcrvoted.image.stage=build
# Empty: npm's own default registry; scripts/build-image.sh passes the host's.
ARG NPM_CONFIG_REGISTRY=
WORKDIR /src
# npm-ca.pem is optional (the [m] glob may match nothing): scripts/build-image.sh
# adds it when the registry is reached through a TLS-inspecting proxy.
COPY package.json package-lock.json npm-ca.pe[m] ./
# --ignore-scripts: nothing we depend on needs an install script to work.
RUN if [ -f npm-ca.pem ]; then export NODE_EXTRA_CA_CERTS="$PWD/npm-ca.pem"; fi \
 && if [ -z "$NPM_CONFIG_REGISTRY" ]; then unset NPM_CONFIG_REGISTRY; fi \
 && npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.json \
 && test -f dist/src/cli.js

# ---- deps: production dependencies only ------------------------------------
FROM ${BASE_IMAGE} AS deps
LABEL dcrvoted.image.stage=deps
ARG NPM_CONFIG_REGISTRY=
WORKDIR /app
COPY package.json package-lock.json npm-ca.pe[m] ./
RUN if [ -f npm-ca.pem ]; then export NODE_EXTRA_CA_CERTS="$PWD/npm-ca.pem"; fi \
 && if [ -z "$NPM_CONFIG_REGISTRY" ]; then unset NPM_CONFIG_REGISTRY; fi \
 && npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && rm -rf /root/.npm npm-ca.pem

# ---- runtime ---------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
ARG DCRVOTED_UID=10001
# A fixed numeric user, created without useradd so any glibc base works.
RUN echo "dcrvoted:x:${DCRVOTED_UID}:${DCRVOTED_UID}:dcrvoted:/var/lib/dcrvoted:/usr/sbin/nologin" >> /etc/passwd \
 && echo "dcrvoted:x:${DCRVOTED_UID}:" >> /etc/group \
 && mkdir -p /var/lib/dcrvoted /etc/dcrvoted /run/secrets \
 && chown "${DCRVOTED_UID}:${DCRVOTED_UID}" /var/lib/dcrvoted \
 && chmod 0700 /var/lib/dcrvoted
# Metadata first and the compiled code last: a source change rebuilds only
# the final COPY (each step is a full copy of the file system with Docker's
# vfs storage driver, so this keeps CI rebuilds short).
ENV NODE_ENV=production \
    CREDENTIALS_DIRECTORY=/run/secrets \
    DCRVOTED_HEALTHCHECK_URL=http://127.0.0.1:9198/healthz

VOLUME ["/var/lib/dcrvoted"]
EXPOSE 9198
STOPSIGNAL SIGTERM

# Liveness only (the process answers HTTP). Readiness (wallets unlocked and
# voting) is /readyz and belongs in alerts, not in restarts.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.DCRVOTED_HEALTHCHECK_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["run", "--config", "/etc/dcrvoted/dcrvoted.yaml"]

LABEL org.opencontainers.image.title="dcrvoted" \
      org.opencontainers.image.description="Always-online solo voting daemon for Decred proof-of-stake" \
      org.opencontainers.image.licenses="ISC"

# COPY ignores USER: the application files stay root-owned and read-only to
# the daemon.
USER ${DCRVOTED_UID}:${DCRVOTED_UID}
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY proto ./proto
COPY --from=build /src/dist/src ./dist/src
