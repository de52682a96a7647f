# tari-payment-server image: a static binary on an empty base, run as a
# non-root user, its data (SQLite database, development keys, plugins) in the
# /data volume. Build from the repository root:
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t tari-payment-server .
# examples/deploy/compose.yaml runs it beside PostgreSQL.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
# .git is not in the build context (.dockerignore): the version comes from the
# build arguments, as `make release` passes them.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/tari-payment/tps/internal/version.version=${VERSION} -X github.com/tari-payment/tps/internal/version.commit=${COMMIT}" \
      -o /out/ ./cmd/tari-payment-server ./cmd/taritools \
 && mkdir -p /out/data && mkdir -m 1777 /out/tmp

FROM scratch
# CA roots for HTTPS to Shopify and webhook receivers.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/tari-payment-server /out/taritools /usr/local/bin/
# The data directory belongs to the unprivileged user the server runs as.
COPY --from=build --chown=65532:65532 /out/data /data
# A world-writable /tmp, as on any system (scratch has none).
COPY --from=build /out/tmp /tmp
USER 65532:65532
WORKDIR /data
ENV HOME=/data \
    TPG_HOST=0.0.0.0 \
    TPG_PORT=8360 \
    TPG_DATABASE_URL=sqlite:///data/tari_store.db
VOLUME /data
EXPOSE 8360
# No shell or curl in the image: the server probes its own /health.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/tari-payment-server", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tari-payment-server"]
