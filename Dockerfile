# The py-aws-oidc container action.
#
# The base is pinned by digest (debian:bookworm-slim, the multi-arch index). Tests and local builds
# without a registry pass --build-arg BASE=docker.io/library/debian:bookworm-slim (a local stand-in
# that scripts/podman-env.sh makes with debootstrap). The GitHub runner builds with no build-args.
#
# Stage `build`: Debian's python3.11, a venv at /opt/venv with hash-pinned wheels and the project,
# stripped (scripts/image_build.py prune) and byte-compiled; then the runtime tree is assembled in
# /rootfs (scripts/image_build.py rootfs: python, the libraries it links, the venv, /bin/sh, an
# accurate dpkg status) and smoke-tested in a chroot. The final image is that tree as one layer.
# refresh-credentials: the sources its credential process needs (run by the runner's host
# python3, not the image's) are packed to /opt/venv/share/py-aws-oidc/refresh-lib.zip first.
# The image carries what the action runs: not the trust doctor's Terraform parser (the `trust`
# extra, python-hcl2 + lark + regex; docs/container.md), hence check-imports --optional hcl2.
# No USER (the runner needs root); the entrypoints are absolute paths, nothing relies on WORKDIR.
ARG BASE=debian:bookworm-slim@sha256:88200866dfff7ea7f5cbcb6ec7c8a701889efe6fe859fe64d6990e4b07ea4171

FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
# Debian packages are not version-pinned: the base is pinned by digest and bookworm takes security
# fixes only, while an exact version leaves the mirror with the next fix and would break the
# per-job build on every runner.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3.11-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3.11 -m compileall -q -j 0 /usr/lib/python3.11 \
 && python3.11 -m venv /opt/venv
COPY requirements/build.txt requirements/image.txt /tmp/req/
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: --no-deps \
        -r /tmp/req/build.txt -r /tmp/req/image.txt
COPY scripts/image_build.py /usr/local/bin/image_build.py
COPY pyproject.toml README.m[d] /src/
COPY src /src/src
# README.md is the package's long description; an empty one will do if the context lacks it.
RUN touch /src/README.md \
 && /opt/venv/bin/pip install --no-deps --no-build-isolation --no-index /src \
 && /opt/venv/bin/python /usr/local/bin/image_build.py check-imports /src/src --optional hcl2 \
 && /opt/venv/bin/python -m py_aws_oidc.refresh.bundle /opt/venv/share/py-aws-oidc/refresh-lib.zip \
 && /opt/venv/bin/python /usr/local/bin/image_build.py prune /opt/venv \
 && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        /opt/venv/lib/python3.11/site-packages \
 && /opt/venv/bin/python /usr/local/bin/image_build.py rootfs /rootfs /opt/venv

FROM scratch
ARG BASE
LABEL org.opencontainers.image.title="py-aws-oidc" \
      org.opencontainers.image.description="GitHub Actions OIDC to AWS STS credentials (container action)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE}"
COPY --from=build /rootfs/ /
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["/opt/venv/bin/py-aws-oidc"]
