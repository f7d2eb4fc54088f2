# blindspot's container image: a static binary on an empty base, run as a non-root user.
#
#   docker build -t blindspot --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) .
#   docker run --rm blindspot version
#
# GOPROXY, GOFLAGS, GONOSUMDB, GOPRIVATE and GOSUMDB pass the builder's module settings
# through (a private proxy, a mirror). GO_IMAGE names the Go toolchain image the binary is
# built in.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG GOPROXY=https://proxy.golang.org,direct
ARG GOFLAGS=
ARG GONOSUMDB=
ARG GOPRIVATE=
ARG GOSUMDB=sum.golang.org
ARG VERSION=
ARG COMMIT=
ENV CGO_ENABLED=0 \
    GOPROXY="${GOPROXY}" \
    GOFLAGS="${GOFLAGS}" \
    GONOSUMDB="${GONOSUMDB}" \
    GOPRIVATE="${GOPRIVATE}" \
    GOSUMDB="${GOSUMDB}" \
    GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/blindspot ./cmd/blindspot

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/blindspot /usr/local/bin/blindspot
COPY LICENSE NOTICE /usr/share/doc/blindspot/
ENV PATH=/usr/local/bin
WORKDIR /config
USER 65532:65532
EXPOSE 9797
ENTRYPOINT ["blindspot"]
CMD ["--help"]
