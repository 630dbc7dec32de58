# Build the ospf-operator binaries
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev

WORKDIR /workspace
# Copy the Go module manifests first so that the dependency download is cached
# across source changes.
COPY go.mod go.mod
COPY go.sum go.sum
RUN go mod download

COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/

# out/ holds what the image adds to its base: the binary; the agent's
# binary beside it, which `ospf-operator agent` runs (a program of its own,
# so that the other commands do not load Kubernetes' client libraries); and
# ospf-stream-client, the Python client's name, a link to ospf-operator
# under which it runs as `ospf-operator stream` (as `make install` links it).
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-X main.version=${VERSION}" -o out/ospf-operator ./cmd && \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-X main.version=${VERSION}" -o out/ospf-operator-agent ./cmd/ospf-operator-agent && \
    ln -s ospf-operator out/ospf-stream-client

# Use distroless as minimal base image to package the binaries.
# Refer to https://github.com/GoogleContainerTools/distroless for more details
FROM gcr.io/distroless/static:nonroot
WORKDIR /
# A directory's contents are copied as they are: the link stays a link.
COPY --from=builder /workspace/out/ /
USER 65532:65532

ENTRYPOINT ["/ospf-operator"]
