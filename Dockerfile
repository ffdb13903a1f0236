# syntax=docker/dockerfile:1
# The helper as an image to copy from: FROM scratch, holding only
#   /usr/local/bin/git-credential-gitlab-ci                (static, stripped, musl)
#   /usr/local/bin/docker-credential-gitlab-ci -> git-credential-gitlab-ci
# so that any image gets it with
#   COPY --from=<this image> /usr/local/bin/git-credential-gitlab-ci /usr/local/bin/
# (docs/docker.md). Built for linux/amd64 and linux/arm64 without emulation: the build stage runs
# on the build machine's platform and cross-compiles (rust-lld links both), e.g.
#   docker buildx build --platform linux/amd64,linux/arm64 -t "$CI_REGISTRY_IMAGE:0.1.0" --push .
# The binaries are built by dist/release-binary.sh, like the release archives' — same bytes for
# the same source and toolchain.
ARG RUST_VERSION=1.95.0
FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-slim-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl
WORKDIR /build/git-credential-gitlab-ci
COPY . .
ARG TARGETARCH
RUN dist/image-root.sh "$TARGETARCH" /out

FROM scratch
COPY --from=build /out/ /
