#!/usr/bin/env bash
# Builds Krill's container image without any registry: a root filesystem holding the Node runtime
# this project runs on (.tools/node, see scripts/ensure-node.sh), the shared libraries it and the
# native addons load (found with ldd), the app compiled from a git revision and its production
# node_modules, plus the few /etc files a process expects. The tarball is imported with
# `podman import`, so nothing is pulled (the Dockerfile is the path for users with a registry).
#
#   container/build-image.sh [--tag NAME:TAG] [--rev REV] [--rootfs-only]
#
#   --tag          image name (default krill:dev, or $KRILL_IMAGE)
#   --rev          git revision whose sources are built (default HEAD): the image holds committed
#                  code only, never a half-edited working tree, and is labelled with that revision
#   --rootfs-only  stop after writing container/.build/rootfs.tar (no podman needed)
#
# Output: container/.build/rootfs.tar and, unless --rootfs-only, the image in podman's store.
# Needs podman and runc (Debian: apt-get install podman runc). When /etc/containers/containers.conf
# is absent it is written with the settings this machine's containers need (no default ulimits,
# the runc runtime).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"

tag=${KRILL_IMAGE:-krill:dev}
rootfs_only=0
rev=HEAD
while [ $# -gt 0 ]; do
  case "$1" in
  --tag) tag=${2:?--tag needs a value} && shift 2 ;;
  --rev) rev=${2:?--rev needs a value} && shift 2 ;;
  --rootfs-only) rootfs_only=1 && shift ;;
  -h | --help) sed -n '2,18p' "$0" && exit 0 ;;
  *) echo "build-image: unknown argument $1" >&2 && exit 2 ;;
  esac
done

# The uid the broker runs as inside the image; /var/lib/krill belongs to it.
krill_uid=1000
build="$here/.build"
stage="$build/rootfs"
app="$stage/opt/krill"
started_s=$(date +%s)

log() { echo "build-image: $*" >&2; }

rm -rf "$build"
mkdir -p "$build/src" "$app" "$stage/usr/local/bin" "$stage/etc/krill" "$stage/var/lib/krill" "$stage/tmp"

# The app: the revision's sources type-checked (type errors fail the build) and bundled into one
# file, dist/krill.mjs plus its source map (tools/build/bundle.ts, what bin/krill runs: it starts in
# about half the CPU time and idles in ~25 MiB less than the module-per-file build, docs/startup.md).
# The shared dist/ is left alone. The compiler and esbuild are the working tree's (node_modules
# linked in).
revision=$(git -C "$root" rev-parse --short "$rev^{commit}")
log "type-checking and bundling the app at $revision"
git -C "$root" archive "$revision" package.json package-lock.json tsconfig.json tsconfig.build.json src \
  tools/build/bundle.ts | tar -x -C "$build/src"
ln -s "$root/node_modules" "$build/src/node_modules"
tsc -p "$build/src/tsconfig.build.json" --noEmit
KRILL_COMMIT=$(git -C "$root" rev-parse --short=12 "$revision^{commit}") \
  node --import tsx "$build/src/tools/build/bundle.ts" --out "$app/dist/krill.mjs" >/dev/null

# Production dependencies from the lockfile (exact versions). The native ones (@node-rs/crc32,
# snappy, lz4-napi) come as prebuilt .node files in platform packages, so no install script runs.
log "installing production dependencies"
cp "$build/src/package.json" "$build/src/package-lock.json" "$app/"
(cd "$app" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
rm -f "$app/package-lock.json"
version=$(node -p "require('$app/package.json').version")
# The source copy has served; left here it would be linted and type-checked with the repository.
rm -rf "$build/src"

# The runtime: the very Node binary the project runs on.
cp "$node_bin/node" "$stage/usr/local/bin/node"

# Shared libraries: whatever the dynamic loader resolves for node and every native addon, copied
# to the same paths (the loader's default search folders), plus the loader itself.
copy_libs() {
  ldd "$1" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }' | while read -r lib; do
    [ -e "$stage$lib" ] || cp -L --parents "$lib" "$stage"
  done
}
copy_libs "$stage/usr/local/bin/node"
while IFS= read -r -d '' addon; do
  copy_libs "$addon"
done < <(find "$app/node_modules" -name '*.node' -print0)

# The /etc a process expects: users (the broker runs as krill, not root), name service order
# (hosts from /etc/hosts first: the runtime writes it), and the default broker configuration.
cat >"$stage/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
krill:x:$krill_uid:$krill_uid:krill:/var/lib/krill:/sbin/nologin
PASSWD
cat >"$stage/etc/group" <<GROUP
root:x:0:
krill:x:$krill_uid:
GROUP
cat >"$stage/etc/nsswitch.conf" <<NSS
passwd: files
group: files
hosts: files dns
NSS
cp "$here/server.properties" "$stage/etc/krill/server.properties"
chmod 1777 "$stage/tmp"

# Reproducible tarball: sorted names, one timestamp (the revision's commit time), numeric owners.
# Everything belongs to root except the data folder, which is appended owned by the broker's uid.
mtime=$(git -C "$root" log -1 --format=%ct "$revision")
tar_common=(--sort=name --mtime="@$mtime" --numeric-owner --format=gnu -C "$stage")
tar -cf "$build/rootfs.tar" "${tar_common[@]}" --owner=0 --group=0 --exclude=./var/lib/krill .
tar -rf "$build/rootfs.tar" "${tar_common[@]}" --owner="$krill_uid" --group="$krill_uid" ./var/lib/krill
rm -rf "$stage"
log "rootfs.tar: $(du -m "$build/rootfs.tar" | cut -f1) MB"
[ "$rootfs_only" -eq 1 ] && exit 0

command -v podman >/dev/null || { log "podman is not installed (Debian: apt-get install podman runc)" && exit 1; }
if [ ! -f /etc/containers/containers.conf ] && [ "$(id -u)" -eq 0 ]; then
  log "writing /etc/containers/containers.conf (no default ulimits, runc runtime)"
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' >/etc/containers/containers.conf
fi

# The entrypoint starts the broker on the image's default config, with KAFKA_* variables read as
# Apache Kafka's image reads them (--env-config); arguments given to `run` are appended, so
# `--override key=value` replaces any key.
podman import \
  --change 'ENTRYPOINT ["/usr/local/bin/node", "/opt/krill/dist/krill.mjs", "start", "--config", "/etc/krill/server.properties", "--env-config"]' \
  --change 'CMD []' \
  --change "USER $krill_uid:$krill_uid" \
  --change 'WORKDIR /var/lib/krill' \
  --change 'ENV NODE_ENV=production' \
  --change 'EXPOSE 9092' \
  --change 'STOPSIGNAL SIGTERM' \
  --change 'LABEL org.opencontainers.image.title=krill' \
  --change "LABEL org.opencontainers.image.version=$version" \
  --change "LABEL org.opencontainers.image.revision=$revision" \
  --message "krill $version ($revision), rootfs built by container/build-image.sh" \
  "$build/rootfs.tar" "$tag" >/dev/null 2>"$build/import.log" || { cat "$build/import.log" >&2 && exit 1; }
# A smoke check that the rootfs is complete (loader, libraries, addons): load the native modules.
podman run --rm --network none --entrypoint /usr/local/bin/node "$tag" -e \
  'process.chdir("/opt/krill"); for (const m of ["@node-rs/crc32", "snappy", "lz4-napi"]) require(require.resolve(m, { paths: ["/opt/krill"] }))' ||
  { log "the image's node cannot load its native modules" && exit 1; }
log "image $tag: $(podman image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }') (built in $(($(date +%s) - started_s)) s)"
