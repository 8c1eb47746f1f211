#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a local Node 20 base image for the Dockerfile where no image registry is reachable, only
# Debian's mirror: `debootstrap --variant=minbase trixie` (Debian 13 ships Node 20.19), then nodejs,
# npm, tini and ca-certificates, and a `node` user with uid 1000 as in the official node images.
# The image is committed squashed (one layer: vfs storage keeps a full copy per layer).
#
#   scripts/container-base.sh [IMAGE]        # default localhost/ign-node20-base:trixie
#
# Does nothing when IMAGE already exists. Needs root, buildah and debootstrap; buildah's storage is
# whatever CONTAINERS_STORAGE_CONF / STORAGE_DRIVER say (scripts/container-smoke.sh sets both).
set -euo pipefail

image=${1:-localhost/ign-node20-base:trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "base image $image: cached"
  exit 0
fi

rootfs=$(mktemp -d /var/tmp/ign-base-rootfs.XXXXXX)
ctr=
cleanup() {
  if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$rootfs"
}
trap cleanup EXIT

echo "base image $image: debootstrap trixie from $mirror"
debootstrap --variant=minbase trixie "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

ctr=$(buildah from scratch)
mnt=$(buildah mount "$ctr")
tar -C "$rootfs" -cf - . | tar -C "$mnt" -xf -
buildah umount "$ctr" >/dev/null
rm -rf "$rootfs"

# Recommends stay out: they would pull a compiler toolchain in behind npm's node-gyp.
buildah run --isolation=chroot "$ctr" -- sh -ec '
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o APT::Sandbox::User=root update -qq
  apt-get -o APT::Sandbox::User=root install -y -qq --no-install-recommends nodejs npm tini ca-certificates >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /usr/share/doc /usr/share/man
  useradd --uid 1000 --user-group --create-home --shell /bin/sh node
  node --version
'
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --workingdir / --cmd node "$ctr"
buildah commit --quiet --squash --rm "$ctr" "$image" >/dev/null
ctr=
echo "base image $image: built"
