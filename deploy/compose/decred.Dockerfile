# dcrd and dcrwallet for deploy/docker-compose.yml, built from source through
# the Go module proxy (no prebuilt images needed):
#   docker compose build dcrd        (the dcrwallet service shares the image)
# Offline or registry-less: pass GO_IMAGE / RUNTIME_IMAGE pointing at local
# images (any image with Go >= 1.23 to build; any glibc or static base with
# /bin/sh to run, e.g. the dcrvoted-base image scripts/build-image.sh makes).
ARG GO_IMAGE=golang:1.24-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
# dcrd's root module carries v1.x tags: v1.10.8 builds dcrd 2.1.6.
# decred.org/dcrwallet/v5 v5.1.0 builds dcrwallet 2.1.5.
ARG DCRD_VERSION=v1.10.8
ARG DCRWALLET_VERSION=v5.1.0
ENV CGO_ENABLED=0 GOBIN=/out GOFLAGS=-trimpath
RUN go install "github.com/decred/dcrd@${DCRD_VERSION}" \
 && go install "decred.org/dcrwallet/v5@${DCRWALLET_VERSION}"

FROM ${RUNTIME_IMAGE}
ARG DECRED_UID=10002
RUN echo "decred:x:${DECRED_UID}:${DECRED_UID}:decred:/data:/usr/sbin/nologin" >> /etc/passwd \
 && echo "decred:x:${DECRED_UID}:" >> /etc/group \
 && mkdir -p /data /certs \
 && chown "${DECRED_UID}:${DECRED_UID}" /data /certs
COPY --from=build /out/dcrd /out/dcrwallet /usr/local/bin/
COPY decred-entrypoint.sh /usr/local/bin/decred-entrypoint.sh
USER ${DECRED_UID}:${DECRED_UID}
VOLUME ["/data"]
ENTRYPOINT ["/bin/sh", "/usr/local/bin/decred-entrypoint.sh"]
CMD ["dcrd"]
