# syntax=docker/dockerfile:1
#
# voxflow container images. One binary, two runtime targets:
#
#   static (the default: the last stage)  voxflow engine, voxflow api,
#       voxflow temporal setup and the operator commands (flows, calls,
#       agents, queues, campaigns, ...). A static binary on distroless,
#       running as uid 65532.
#       docker build -t voxflow:local .
#
#   media  voxflow media. The same binary on Debian with espeak-ng (text
#       prompts are spoken by it when no --tts-model is set; without it the
#       worker only has a few shipped English recordings and says "Sorry,
#       there was a problem" for any other text) and pocketsphinx with its
#       en-us model (spoken menu choices; without it menus take keys only).
#       Also uid 65532.
#       docker build --target media -t voxflow-media:local .
#
# deploy/compose/compose.yaml and deploy/kubernetes/ use these two images.
# Neither was built on the machine this was written on (it has no container
# engine): deploy/deploy_test.go parses this file, see deploy/README.md.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# A static binary (no cgo, so no Opus: see deploy/README.md), without
# local paths in it.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
	go build -trimpath -ldflags='-s -w' -o /out/voxflow ./cmd/voxflow && \
	CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
	go build -trimpath -ldflags='-s -w' -o /out/voxflow-healthcheck ./deploy/compose/healthcheck/healthcheck.go

# Bookworm, not trixie: the speech recogniser runs pocketsphinx_batch from
# pocketsphinx 0.8 with its en-us model at /usr/share/pocketsphinx/model,
# which is what bookworm ships and what the tests run here; trixie's
# pocketsphinx 5 has no pocketsphinx_batch.
FROM debian:bookworm-slim AS media
RUN apt-get update && \
	apt-get install -y --no-install-recommends ca-certificates tzdata espeak-ng pocketsphinx pocketsphinx-en-us && \
	rm -rf /var/lib/apt/lists/* && \
	groupadd --system --gid 65532 voxflow && \
	useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/voxflow --create-home --shell /usr/sbin/nologin voxflow && \
	install -d -o 65532 -g 65532 /var/lib/voxflow/recordings
COPY --from=build /out/voxflow /out/voxflow-healthcheck /usr/local/bin/
WORKDIR /var/lib/voxflow
ENV TMPDIR=/tmp
USER 65532:65532
# SIP (UDP and TCP), SIP over TLS, /healthz and /metrics. RTP uses the
# range given by --rtp-ports (e.g. 20000-29999/udp, RTCP on port+1): run the
# worker on the host's network rather than publishing that range.
EXPOSE 5060/udp 5060/tcp 5061/tcp 9464/tcp
ENTRYPOINT ["/usr/local/bin/voxflow"]
CMD ["media", "--help"]

FROM gcr.io/distroless/static-debian12:nonroot AS static
COPY --from=build /out/voxflow /out/voxflow-healthcheck /usr/local/bin/
USER 65532:65532
# voxflow api's HTTP (API, designer, console, /healthz, /metrics); the
# engine's /healthz and /metrics (--admin-addr).
EXPOSE 8080/tcp 9464/tcp
ENTRYPOINT ["/usr/local/bin/voxflow"]
CMD ["--help"]
