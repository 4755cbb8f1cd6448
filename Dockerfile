# syntax=docker/dockerfile:1
# The action's image: prebuilt static binaries on a minimal runtime base, so
# a run downloads and compiles nothing. `make image-context` builds them into
# dist/image, the only part of the repository the build context holds (see
# .dockerignore):
#   dist/image/bin/tap-deploy  the action, with the stack program and the
#                              Lambda zips compiled in
#   dist/image/bin/pulumi      the Pulumi CLI pinned to go.mod's SDK
#   dist/image/plugins/resource-aws-v<version>/pulumi-resource-aws
#                              the aws provider plugin pinned to go.mod
# The release builds it on distroless/static (CA certificates, tzdata, /tmp,
# an /etc/passwd with root: the CLI's user lookup needs one) resolved to a
# digest; the test suite builds it on a stand-in base made from local files.
ARG BASE_IMAGE=gcr.io/distroless/static-debian12
FROM ${BASE_IMAGE}
COPY dist/image/bin/ /usr/local/bin/
COPY dist/image/plugins/ /pulumi/plugins/
# No USER and no WORKDIR: GitHub runs container actions as root in
# /github/workspace.
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    PULUMI_HOME=/pulumi \
    PULUMI_SKIP_UPDATE_CHECK=true \
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
ENTRYPOINT ["/usr/local/bin/tap-deploy"]
