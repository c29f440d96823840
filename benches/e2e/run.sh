#!/usr/bin/env bash
# The end-to-end benchmark: unmodified iperf3 against the Linux kernel, in one run, through
#
#   (a) our stack: iperf3 -c in a namespace with nothing but `lo`, its sockets taken over by
#       libfdio.so (LD_PRELOAD), served by the netstack daemon on a TAP whose other end is the
#       kernel's (192.0.2.2) in a peer namespace, where `iperf3 -s` runs: TCP both ways (-R)
#       and UDP (unlimited rate; the receiver's count);
#   (b) the kernel alone: iperf3 between two namespaces over a veth pair (198.51.100.0/24),
#       with the offloads on and with them off (ethtool -K: tso gso gro tx rx sg off);
#   (c) smoltcp: benches/e2e/smoltcp_endpoint.rs (an example: smoltcp on a TAP serving the
#       TCP subset of iperf3's protocol) against the kernel's iperf3 -c, both ways.
#
# Each run also measures CPU: the CPU seconds of the processes involved (iperf3 client and
# server from wait4's rusage, the daemon or the smoltcp endpoint from /proc/PID/stat), and the
# busy CPU seconds of the whole machine (/proc/stat: noisy on a shared machine). It writes
# results.jsonl, results.md (Markdown table with ratios vs smoltcp and vs veth with offloads
# off) and throughput.svg (throughput and CPU per GB) to the output directory.
#
# Usage: sudo benches/e2e/run.sh [--smoke] [--time SECONDS] [--out DIR]
#   --time   seconds per iperf3 run (default 10)
#   --out    output directory (default $CARGO_TARGET_DIR/e2e, or target/e2e)
#   --smoke  1-second runs on the debug build (what CI runs from tests/run.sh): checks every
#            component works and moves data; judges no number.
#
# Needs root, iproute2, iperf3, python3 and ethtool (installed with apt-get if missing).
# Creates its own namespaces (e2e<PID>-*) and deletes them when it exits, however it exits;
# kills only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=benches/e2e

smoke=0
duration=10
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; duration=1 ;;
    --time) duration="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "usage: $0 [--smoke] [--time SECONDS] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  echo "$0: needs root (network namespaces, TAP devices)" >&2
  exit 1
fi
for entry in ip:iproute2 iperf3:iperf3 /usr/bin/python3:python3 ethtool:ethtool; do
  if ! command -v "${entry%%:*}" >/dev/null 2>&1; then
    echo "$0: installing ${entry#*:}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${entry#*:}" >/dev/null
  fi
done

target=${CARGO_TARGET_DIR:-target}
profile=(--release)
bin="$target/release"
if [ "$smoke" -eq 1 ]; then
  profile=()
  bin="$target/debug"
fi
# Selecting the example selects only it: the daemon and the shim are a build of their own.
cargo build -q "${profile[@]}" -p netstack -p netstack-fdio
cargo build -q "${profile[@]}" -p netstack --example smoltcp_endpoint
test -e "$bin/libfdio.so" || { echo "$0: no $bin/libfdio.so after the build" >&2; exit 1; }
out=${out:-$target/e2e}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$(cd "$bin" && pwd)
work=$(mktemp -d /tmp/netstack-e2e.XXXXXX)
results="$out/results.jsonl"
: >"$results"

tag="e2e$$"
namespaces=()
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

netns() {
  ip netns add "$tag-$1"
  namespaces+=("$tag-$1")
  ip -n "$tag-$1" link set lo up
}

# Waits (at most 10 s) until `cmd...` succeeds.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$0: timed out waiting for $what" >&2
  return 1
}

tck=$(getconf CLK_TCK)
# CPU seconds (user + system) of process $1 so far.
proc_cpu() { awk -v t="$tck" '{ printf "%.3f\n", ($14 + $15) / t }' "/proc/$1/stat"; }
# Busy CPU seconds of the whole machine so far (every CPU, everything but idle and iowait).
machine_cpu() { awk -v t="$tck" '/^cpu / { printf "%.3f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t }' /proc/stat; }

port=5300
# run_iperf KEY LABEL STACK PROTO DIR SERVER_NS CLIENT_NS CLIENT_PRELOAD DAEMON_PID ADDR [IPERF3 ARGS...]
# SERVER_NS "-" means the server is the smoltcp endpoint (always running, port 5201).
run_iperf() {
  local key=$1 label=$2 stack=$3 proto=$4 dir=$5 server_ns=$6 client_ns=$7 preload=$8 daemon=$9 addr=${10}
  shift 10
  local p=5201
  local server_pid=""
  if [ "$server_ns" != "-" ]; then
    port=$((port + 1))
    p=$port
    ip netns exec "$server_ns" /usr/bin/python3 "$here/cputime.py" "$work/$key.server.cpu" \
      iperf3 -s -1 -p "$p" -J >"$work/$key.server.json" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    wait_for "iperf3 -s in $server_ns" sh -c "ip netns exec $server_ns ss -ltn | grep -q ':$p '"
  fi
  local client=(iperf3 -c "$addr" -p "$p" -t "$duration" -J "$@")
  if [ "$preload" = 1 ]; then
    client=(env "LD_PRELOAD=$bin/libfdio.so" "NETSTACK_SVC_DIR=$work/svc" "${client[@]}")
  fi
  local daemon_before=0 daemon_after=0 machine_before machine_after
  [ "$daemon" != "-" ] && daemon_before=$(proc_cpu "$daemon")
  machine_before=$(machine_cpu)
  local status=0
  ip netns exec "$client_ns" /usr/bin/python3 "$here/cputime.py" "$work/$key.client.cpu" "${client[@]}" \
    >"$work/$key.client.json" 2>&1 || status=$?
  if [ -n "$server_pid" ]; then
    # A server whose client failed waits forever; one whose client finished exits (-1).
    [ "$status" -ne 0 ] && kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" || true
  fi
  machine_after=$(machine_cpu)
  [ "$daemon" != "-" ] && daemon_after=$(proc_cpu "$daemon")
  if [ "$status" -ne 0 ]; then
    echo "$0: $label: iperf3 -c failed ($status):" >&2
    tail -20 "$work/$key.client.json" >&2
    return 1
  fi
  /usr/bin/python3 - "$work" "$key" "$label" "$stack" "$proto" "$dir" "$daemon_before" "$daemon_after" \
    "$machine_before" "$machine_after" >>"$results" <<'EOF'
import json, os, sys
work, key, label, stack, proto, direction = sys.argv[1:7]
daemon_before, daemon_after, machine_before, machine_after = map(float, sys.argv[7:11])
report = json.load(open(f"{work}/{key}.client.json"))
if "error" in report:
    sys.exit(f"{label}: iperf3: {report['error']}")
end = report["end"]
if proto == "UDP":
    # The receiver's count: what was sent less what was lost.
    s = end["sum"]
    received = s["bytes"] * (1 - s.get("lost_percent", 0) / 100)
    seconds = s["seconds"]
else:
    received = end["sum_received"]["bytes"]
    seconds = end["sum_received"]["seconds"]
cpu = daemon_after - daemon_before
for side in ("client", "server"):
    path = f"{work}/{key}.{side}.cpu"
    if os.path.exists(path):
        cpu += sum(map(float, open(path).read().split()))
if received <= 0:
    sys.exit(f"{label}: no data moved")
print(json.dumps({"key": key, "label": label, "stack": stack, "proto": proto, "dir": direction,
                  "bytes": received, "seconds": seconds, "cpu_proc": cpu,
                  "cpu_machine": machine_after - machine_before}))
EOF
  echo "  $label: done"
}

echo "== (a) iperf3 through libfdio.so and the netstack daemon, over a TAP to the kernel"
netns peer
netns app
mkdir -p "$work/svc"
ip netns exec "$tag-peer" env NO_COLOR=1 "$bin/netstack" run --tap tap0 --addr 192.0.2.1/24 \
  --svc-dir "$work/svc" >"$work/daemon.log" 2>&1 &
daemon=$!
pids+=("$daemon")
wait_for "the daemon's svc dir" test -e "$work/svc/fuchsia.posix.socket.Provider"
ip -n "$tag-peer" addr add 192.0.2.2/24 dev tap0
ip -n "$tag-peer" link set tap0 up
wait_for "the daemon to answer ping" ip netns exec "$tag-peer" ping -c1 -W1 192.0.2.1
run_iperf fdio-tcp-send "netstack (libfdio.so): TCP, app sends" netstack TCP send \
  "$tag-peer" "$tag-app" 1 "$daemon" 192.0.2.2
run_iperf fdio-tcp-recv "netstack (libfdio.so): TCP, app receives (-R)" netstack TCP recv \
  "$tag-peer" "$tag-app" 1 "$daemon" 192.0.2.2 -R
run_iperf fdio-udp-send "netstack (libfdio.so): UDP, app sends" netstack UDP send \
  "$tag-peer" "$tag-app" 1 "$daemon" 192.0.2.2 -u -b 0
kill -TERM "$daemon" 2>/dev/null || true

echo "== (b) kernel to kernel over a veth pair"
netns v1
netns v2
ip -n "$tag-v1" link add ve1 type veth peer name ve2 netns "$tag-v2"
ip -n "$tag-v1" addr add 198.51.100.1/24 dev ve1
ip -n "$tag-v2" addr add 198.51.100.2/24 dev ve2
ip -n "$tag-v1" link set ve1 up
ip -n "$tag-v2" link set ve2 up
wait_for "the veth pair" ip netns exec "$tag-v1" ping -c1 -W1 198.51.100.2
for offloads in on off; do
  if [ "$offloads" = off ]; then
    ip netns exec "$tag-v1" ethtool -K ve1 tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 || true
    ip netns exec "$tag-v2" ethtool -K ve2 tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 || true
    if ip netns exec "$tag-v1" ethtool -k ve1 | grep -q "^tcp-segmentation-offload: on"; then
      echo "$0: could not turn the veth offloads off" >&2
      exit 1
    fi
  fi
  run_iperf "veth-$offloads-tcp-send" "kernel, veth offloads $offloads: TCP" "veth-$offloads" TCP send \
    "$tag-v2" "$tag-v1" 0 - 198.51.100.2
  run_iperf "veth-$offloads-tcp-recv" "kernel, veth offloads $offloads: TCP (-R)" "veth-$offloads" TCP recv \
    "$tag-v2" "$tag-v1" 0 - 198.51.100.2 -R
  run_iperf "veth-$offloads-udp-send" "kernel, veth offloads $offloads: UDP" "veth-$offloads" UDP send \
    "$tag-v2" "$tag-v1" 0 - 198.51.100.2 -u -b 0
done

echo "== (c) the smoltcp TAP endpoint"
netns smol
ip netns exec "$tag-smol" "$bin/examples/smoltcp_endpoint" tap0 192.0.2.1/24 5201 >"$work/smoltcp.log" 2>&1 &
endpoint=$!
pids+=("$endpoint")
wait_for "smoltcp's TAP" ip -n "$tag-smol" link show tap0
ip -n "$tag-smol" addr add 192.0.2.2/24 dev tap0
ip -n "$tag-smol" link set tap0 up
# The kernel's iperf3 -c is the client; smoltcp receives in the normal direction.
run_iperf smol-tcp-recv "smoltcp (TAP): TCP, smoltcp receives" smoltcp TCP recv \
  - "$tag-smol" 0 "$endpoint" 192.0.2.1
run_iperf smol-tcp-send "smoltcp (TAP): TCP, smoltcp sends (-R)" smoltcp TCP send \
  - "$tag-smol" 0 "$endpoint" 192.0.2.1 -R

echo
echo "== results ($duration s per run; $out)"
/usr/bin/python3 "$here/report.py" "$results" "$out"
