# syntax=docker/dockerfile:1
# The action's image: the static action binary (stack program and Lambda
# zips compiled in), the pinned Pulumi CLI, and the pinned AWS provider
# plugin pre-installed in PULUMI_HOME, so a run downloads nothing.
# The versions must equal go.mod (a test checks): CLI = pulumi/sdk/v3,
# plugin = pulumi-aws/sdk/v6.

ARG GO_VERSION=1.26.8
ARG PULUMI_VERSION=v3.274.1
ARG PULUMI_AWS_VERSION=v6.83.4

FROM golang:${GO_VERSION}-bookworm AS build
ARG PULUMI_VERSION
ARG PULUMI_AWS_VERSION
ARG VERSION=dev
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
COPY tools/go.mod tools/go.sum tools/
RUN go mod download && cd tools && go mod download
COPY . .
RUN cd tools && go build -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}" \
      -o /out/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
RUN go run ./lambda/build/cmd -out lambda/artifacts/zips
RUN go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/tap-deploy .
# The real provider plugin, installed where the engine looks for it.
RUN PULUMI_HOME=/out/pulumi-home /out/pulumi plugin install resource aws "${PULUMI_AWS_VERSION#v}" \
 && test -x "/out/pulumi-home/plugins/resource-aws-${PULUMI_AWS_VERSION}/pulumi-resource-aws"

# distroless/static: CA certificates, tzdata, /tmp, and nothing else.
# No USER: GitHub runs container actions as root to write the workspace.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/pulumi /usr/local/bin/pulumi
COPY --from=build /out/tap-deploy /usr/local/bin/tap-deploy
COPY --from=build /out/pulumi-home/plugins /pulumi/plugins
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    PULUMI_HOME=/pulumi \
    PULUMI_SKIP_UPDATE_CHECK=true \
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
ENTRYPOINT ["/usr/local/bin/tap-deploy"]
