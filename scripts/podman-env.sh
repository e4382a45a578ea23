#!/usr/bin/env bash
# Prepare rootful podman for building and running the action image on a CI machine or a laptop.
#
#   eval "$(scripts/podman-env.sh)"      # or: source scripts/podman-env.sh
#
# Idempotent. On stdout it prints only `export NAME=value` lines; progress goes to stderr.
#   1. installs podman and runc (and debootstrap, when it is needed) with apt-get when missing
#      (apt-get update once; through `sudo -n` when not root);
#   2. writes a containers.conf into the cache dir (runc, cgroupfs, ulimits no higher than this shell's
#      hard limits, nproc <= 32768, file events logger, exit_command_delay = 5) and exports
#      CONTAINERS_CONF -- /etc is never edited;
#   3. makes the base image $PODMAN_BASE_IMAGE (default docker.io/library/debian:bookworm-slim) when it is
#      not in the image store: debootstrap (minbase) from the Debian mirror the host's apt already uses,
#      plus the host's extra CA certificates (/usr/local/share/ca-certificates/*.crt, for TLS-intercepting
#      egress proxies), then `podman import`; on a non-Debian host it is pulled instead;
#   4. checks that a container actually runs.
# Exits non-zero with a clear message when podman cannot run here.
#
# Environment knobs:
#   PY_AWS_OIDC_PODMAN_DIR  cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/py-aws-oidc/podman)
#   PODMAN_BASE_IMAGE       base image name   (default docker.io/library/debian:bookworm-slim)
#   PODMAN_BASE_SUITE       Debian suite      (default: bookworm, or trixie for a *:trixie* image)
#   DEBIAN_MIRROR           mirror URL        (default: read from /etc/apt/sources.list[.d])

# Sourced: run the real work in a child bash and import its exports, so `set -e` never leaks.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _podman_env_out="$(bash "${BASH_SOURCE[0]}")" || { echo "podman-env: failed (see above)" >&2; return 1; }
  eval "$_podman_env_out"
  unset _podman_env_out
  return 0
fi

set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf 'podman-env: %s\n' "$*" >&2; }
die() { printf 'podman-env: ERROR: %s\n' "$*" >&2; exit 1; }

CACHE_DIR="${PY_AWS_OIDC_PODMAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/py-aws-oidc/podman}"
BASE_IMAGE="${PODMAN_BASE_IMAGE:-docker.io/library/debian:bookworm-slim}"
case "$BASE_IMAGE" in
  *trixie*) DEFAULT_SUITE=trixie ;;
  *) DEFAULT_SUITE=bookworm ;;
esac
SUITE="${PODMAN_BASE_SUITE:-$DEFAULT_SUITE}"
mkdir -p "$CACHE_DIR"

# Serialise concurrent callers (parallel test sessions) on one lock.
exec 9>"$CACHE_DIR/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

# ---------------------------------------------------------------- 1. packages
# Root runs apt-get itself; a user with passwordless sudo (a GitHub-hosted runner) goes through sudo.
as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"
  elif sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}
apt_updated=
apt_install() {  # apt_install PKG... (only the missing ones are passed)
  command -v apt-get >/dev/null 2>&1 || die "missing $* and no apt-get to install them"
  log "installing $* (apt-get)"
  local t0=$SECONDS
  if [[ -z "$apt_updated" ]]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
      || die "missing $*: apt-get update failed (not root and no passwordless sudo?)"
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
  log "installed $* in $((SECONDS - t0)) s"
}
have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]] || [[ -x "/sbin/$1" ]]; }

missing=()
have podman || missing+=(podman)
have runc || missing+=(runc)
if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
export PATH="$PATH:/usr/sbin:/sbin"

# ---------------------------------------------------------------- 2. containers.conf
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
[[ "$nofile" == unlimited ]] && nofile=1048576
if [[ "$nproc" == unlimited ]] || ((nproc > 32768)); then nproc=32768; fi
CONF="$CACHE_DIR/containers.conf"
if [[ "$(id -u)" == 0 ]]; then
  new_conf="$(cat <<CONF
# Written by scripts/podman-env.sh. runc (crun rejects hybrid cgroups), cgroupfs, and ulimits no
# higher than the caller's hard limits (no CAP_SYS_RESOURCE on some CI machines).
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
exit_command_delay = 5
CONF
)"
else
  # Rootless (e.g. a GitHub-hosted runner): podman's own defaults for runtime and cgroups.
  new_conf="$(cat <<CONF
# Written by scripts/podman-env.sh (rootless: podman's defaults, file events, short exit delay).
[engine]
events_logger = "file"
exit_command_delay = 5
CONF
)"
fi
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$new_conf" ]]; then
  printf '%s\n' "$new_conf" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
  log "wrote $CONF"
fi
export CONTAINERS_CONF="$CONF"

podman info >/dev/null 2>"$CACHE_DIR/podman-info.err" \
  || die "podman cannot start here: $(tail -n 3 "$CACHE_DIR/podman-info.err")"

# ---------------------------------------------------------------- 3. base image
debian_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then echo "$DEBIAN_MIRROR"; return; fi
  local f
  # deb822 sources: the first URIs of a "deb" stanza that is not a security archive.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk '
      BEGIN { RS=""; FS="\n" }
      {
        types=""; uris=""; suites=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types=$i
          if ($i ~ /^URIs:/) { uris=$i; sub(/^URIs:[ \t]*/, "", uris); split(uris, u, /[ \t]+/) }
          if ($i ~ /^Suites:/) suites=$i
        }
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && suites !~ /-security/ && u[1] ~ /debian\/?$/) {
          print u[1]; exit
        }
      }' "$f"
  done | head -n 1
  # one-line sources
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($i ~ /debian\/?$/) print $i; break } }' "$f"
  done | head -n 1
}

# What debuerreotype does for the official debian:*-slim images (minimizing-config + slimify), so
# that image sizes measured here are close to the published ones.
slimify() {
  local r="$1"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 0755 "$r/usr/sbin/policy-rc.d"
  echo 'force-unsafe-io' >"$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  echo 'Acquire::GzipIndexes "true";' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
  local excludes=(/usr/share/doc/ /usr/share/groff/ /usr/share/info/ /usr/share/linda/
    /usr/share/lintian/overrides/ /usr/share/locale/ /usr/share/man/)
  {
    local d
    for d in "${excludes[@]}"; do echo "path-exclude ${d}*"; done
    echo 'path-include /usr/share/doc/*/copyright'
    echo 'path-include /usr/share/locale/locale.alias'
  } >"$r/etc/dpkg/dpkg.cfg.d/docker"
  for d in "${excludes[@]}"; do
    [[ -d "$r$d" ]] || continue
    find "$r$d" -mindepth 1 \( -type f -o -type l \) ! -path "$r/usr/share/doc/*/copyright" \
      ! -path "$r/usr/share/locale/locale.alias" -delete
    find "$r$d" -mindepth 1 -depth -type d -empty -delete
  done
}

build_base() {
  local mirror rootfs t0
  mirror="$(debian_mirror | head -n 1)"
  if [[ -z "$mirror" ]]; then
    log "no Debian mirror in the host's apt sources: pulling $BASE_IMAGE"
    podman pull "$BASE_IMAGE" >&2 || die "cannot pull $BASE_IMAGE and no Debian mirror to debootstrap from"
    return
  fi
  [[ "$(id -u)" == 0 ]] || die "building $BASE_IMAGE with debootstrap needs root (or import it yourself)"
  have debootstrap || apt_install debootstrap
  rootfs="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" EXIT
  log "debootstrap --variant=minbase $SUITE from $mirror (about 30 s)"
  t0=$SECONDS
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" \
    >"$CACHE_DIR/debootstrap.log" 2>&1 \
    || die "debootstrap failed (log: $CACHE_DIR/debootstrap.log): $(tail -n 3 "$CACHE_DIR/debootstrap.log")"
  slimify "$rootfs"
  # Extra CA certificates of the host (a TLS-intercepting egress proxy); harmless elsewhere. Like the
  # published slim image, the rootfs has no ca-certificates package: the certificates become active
  # when an image installs it (its update-ca-certificates reads /usr/local/share/ca-certificates).
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  fi
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  log "importing as $BASE_IMAGE"
  tar -C "$rootfs" --numeric-owner -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null \
    || die "podman import failed"
  rm -rf "$rootfs"
  trap - EXIT
  log "base image ready in $((SECONDS - t0)) s"
}

if podman image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE present"
else
  build_base
fi

# ---------------------------------------------------------------- 4. can a container run?
if ! podman run --rm --pull=never --network=none "$BASE_IMAGE" true 2>"$CACHE_DIR/run-check.err"; then
  die "podman cannot run a container here: $(tail -n 3 "$CACHE_DIR/run-check.err")"
fi

printf 'export CONTAINERS_CONF=%q\n' "$CONF"
printf 'export PODMAN_BASE_IMAGE=%q\n' "$BASE_IMAGE"
printf 'export PY_AWS_OIDC_PODMAN_DIR=%q\n' "$CACHE_DIR"
log "ready (CONTAINERS_CONF=$CONF)"
