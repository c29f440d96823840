#!/usr/bin/env bash
# Reproduce the packet-capture test vectors in this directory.
#
# Usage:  sudo ./capture.sh
#
# Builds two private network namespaces joined by a veth pair, generates
# ARP / ICMPv4 / ICMPv6+NDP+MLD / UDP (fragmented) / TCP (SACK, timestamps,
# window scaling) traffic between them with the Linux kernel's own stack and
# records it with tcpdump in classic pcap format (linktype EN10MB, snaplen 0).
#
# Only the documentation addresses 192.0.2.1/24, 192.0.2.2/24,
# 2001:db8::1/64, 2001:db8::2/64 and the automatic fe80:: link-local
# addresses are used; nothing leaves the two namespaces.
#
# Everything the script creates (namespaces, veth pair, nftables table inside
# its own namespace, background processes) is removed on exit, including on
# failure or Ctrl-C.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "capture.sh: must run as root (sudo ./capture.sh)" >&2
    exit 1
fi

OUT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

NS_A="nsvec-a-$$"
NS_B="nsvec-b-$$"
IF_A="nsva$$"          # veth end inside NS_A (capture side)
IF_B="nsvb$$"          # veth end inside NS_B
IF_A="${IF_A:0:15}"
IF_B="${IF_B:0:15}"
MAC_A="02:00:00:00:00:01"
MAC_B="02:00:00:00:00:02"
V4_A="192.0.2.1"
V4_B="192.0.2.2"
V6_A="2001:db8::1"
V6_B="2001:db8::2"

TCP_PORT=5001
UDP_PORT=5002
UDP_CLOSED_PORT=5009
TCP_BYTES=$((1000 * 1000))   # ~1 MB of payload keeps the pcap well under 2 MB

PIDS=()          # background PIDs started by this script
TMP_DIR=""
NS_CREATED=()

log() { echo "[capture] $*" >&2; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    for ns in "${NS_CREATED[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    [[ -n "$TMP_DIR" && -d "$TMP_DIR" ]] && rm -rf "$TMP_DIR"
    if [[ $rc -ne 0 ]]; then
        log "FAILED (exit $rc); namespaces removed"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------
need_pkgs=()
command -v tcpdump >/dev/null || need_pkgs+=(tcpdump)
command -v ethtool >/dev/null || need_pkgs+=(ethtool)
command -v nft     >/dev/null || need_pkgs+=(nftables)
command -v ping    >/dev/null || need_pkgs+=(iputils-ping)
command -v ip      >/dev/null || need_pkgs+=(iproute2)
[[ -x /usr/bin/python3 ]] || command -v python3 >/dev/null || need_pkgs+=(python3)
if ((${#need_pkgs[@]})); then
    log "installing: ${need_pkgs[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}"
fi
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY="$(command -v python3)"; fi

TMP_DIR="$(mktemp -d /tmp/nsvec.XXXXXX)"

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# --------------------------------------------------------------------------
# Topology
# --------------------------------------------------------------------------
log "creating namespaces $NS_A / $NS_B"
ip netns add "$NS_A"; NS_CREATED+=("$NS_A")
ip netns add "$NS_B"; NS_CREATED+=("$NS_B")

# Create the pair directly inside the namespaces so nothing touches the host.
ip link add "$IF_A" netns "$NS_A" address "$MAC_A" mtu 1500 type veth \
    peer name "$IF_B" netns "$NS_B" address "$MAC_B" mtu 1500

for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_sack=1 \
        net.ipv4.tcp_timestamps=1 net.ipv4.tcp_window_scaling=1 \
        net.ipv4.tcp_ecn=0 net.ipv4.ip_no_pmtu_disc=0 \
        net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.forwarding=0
done

# Offloads off on both ends: every frame gets a complete software checksum
# and no GSO/TSO/GRO super-frames (> MTU) can show up in the capture.
OFFLOADS=(rx off tx off sg off tso off gso off gro off)
in_a ethtool -K "$IF_A" "${OFFLOADS[@]}" 2>/dev/null || in_a ethtool -K "$IF_A" rx off tx off gso off gro off
in_b ethtool -K "$IF_B" "${OFFLOADS[@]}" 2>/dev/null || in_b ethtool -K "$IF_B" rx off tx off gso off gro off
in_a ethtool -K "$IF_A" lro off 2>/dev/null || true
in_b ethtool -K "$IF_B" lro off 2>/dev/null || true
log "offloads on $IF_A:"; in_a ethtool -k "$IF_A" | grep -E '^(rx-checksumming|tx-checksumming|scatter-gather|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' >&2

in_a ip addr add "$V4_A/24" dev "$IF_A"
in_b ip addr add "$V4_B/24" dev "$IF_B"
in_a ip -6 addr add "$V6_A/64" dev "$IF_A"
in_b ip -6 addr add "$V6_B/64" dev "$IF_B"

# --------------------------------------------------------------------------
# tcpdump helpers (capture always on IF_A inside NS_A)
# --------------------------------------------------------------------------
TCPDUMP_PID=""
TCPDUMP_ERR=""
start_capture() {   # $1 = output file name, rest = optional BPF filter
    local file="$1"; shift
    local err="$TMP_DIR/tcpdump-$file.err"
    TCPDUMP_ERR="$err"
    rm -f "$OUT_DIR/$file"
    ip netns exec "$NS_A" tcpdump -i "$IF_A" -s 0 -U -n -Z root \
        -w "$OUT_DIR/$file" "$@" 2>"$err" &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 1 100); do
        grep -q "listening on" "$err" 2>/dev/null && break
        if ! kill -0 "$TCPDUMP_PID" 2>/dev/null; then
            cat "$err" >&2; return 1
        fi
        sleep 0.1
    done
    grep -q "listening on" "$err" || { cat "$err" >&2; return 1; }
    sleep 0.3
    log "capturing -> $file"
}
stop_capture() {
    sleep 0.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    log "$(grep -E 'packets captured' "$TCPDUMP_ERR" || true)"
    TCPDUMP_PID=""
}

# --------------------------------------------------------------------------
# 1) icmpv6_ping_ndp.pcap -- link comes up while tcpdump is running
# --------------------------------------------------------------------------
# IF_A is up (so tcpdump can bind) but has no carrier until IF_B comes up,
# so IPv6 autoconf (DAD NS, MLDv2 reports, RS) only starts after capture begins.
in_a ip link set "$IF_A" up
start_capture icmpv6_ping_ndp.pcap
in_b ip link set "$IF_B" up
log "waiting for DAD / MLD / router solicitations"
sleep 11
# Wait until both global addresses have finished DAD.
for i in $(seq 1 50); do
    if ! in_a ip -6 addr show dev "$IF_A" | grep -q tentative &&
       ! in_b ip -6 addr show dev "$IF_B" | grep -q tentative; then break; fi
    sleep 0.2
done
LL_B="$(in_b ip -6 -o addr show dev "$IF_B" scope link | awk '{print $4}' | cut -d/ -f1)"
log "link-local of B: $LL_B"
in_a ping -6 -n -c 3 -i 0.3 "$V6_B" >&2
in_a ping -6 -n -c 3 -i 0.3 "${LL_B}%${IF_A}" >&2
in_a ping -6 -n -c 1 -s 3000 "$V6_B" >&2      # IPv6 fragment header
stop_capture

# --------------------------------------------------------------------------
# 2) icmpv4_ping.pcap -- ARP + pings (incl. one fragmented)
# --------------------------------------------------------------------------
in_a ip -4 neigh flush dev "$IF_A" || true
in_b ip -4 neigh flush dev "$IF_B" || true
start_capture icmpv4_ping.pcap "arp or ip"
in_a ping -4 -n -c 3 -i 0.3 -s 56 "$V4_B" >&2
in_a ping -4 -n -c 3 -i 0.3 -s 0 "$V4_B" >&2
in_a ping -4 -n -c 1 -s 3000 "$V4_B" >&2      # 3028-byte datagram -> 3 fragments
in_b ping -4 -n -c 1 -s 200 "$V4_A" >&2       # one in the other direction
stop_capture

# --------------------------------------------------------------------------
# 3) udp_fragmented.pcap
# --------------------------------------------------------------------------
cat >"$TMP_DIR/udp_server.py" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind((sys.argv[2], int(sys.argv[3])))
s.settimeout(30)
open(sys.argv[4], "w").close()          # ready marker
for _ in range(int(sys.argv[5])):
    data, peer = s.recvfrom(65535)
    s.sendto(b"ack:%d" % len(data), peer)   # small unfragmented reply
EOF
cat >"$TMP_DIR/udp_client.py" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
dst, port, closed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((dst, port))
# small datagram, answered by a small datagram
s.send(b"hello over udp")
print(s.recv(100))
# ~4000-byte datagram, fragmented by the kernel (MTU 1500)
s.send(bytes((i * 7 + 3) & 0xff for i in range(4000)))
print(s.recv(100))
# closed port -> ICMP / ICMPv6 port unreachable
c = socket.socket(fam, socket.SOCK_DGRAM)
c.connect((dst, closed))
c.send(b"nobody listens here")
c.settimeout(2)
try:
    c.recv(100)
except OSError as e:
    print("closed port:", e)
EOF

start_capture udp_fragmented.pcap
for v in 4 6; do
    if [[ $v == 4 ]]; then dst="$V4_B"; else dst="$V6_B"; fi
    ready="$TMP_DIR/udp$v.ready"
    in_b "$PY" "$TMP_DIR/udp_server.py" "$v" "$dst" "$UDP_PORT" "$ready" 2 >&2 &
    srv=$!; PIDS+=("$srv")
    for i in $(seq 1 50); do [[ -e $ready ]] && break; sleep 0.1; done
    in_a "$PY" "$TMP_DIR/udp_client.py" "$v" "$dst" "$UDP_PORT" "$UDP_CLOSED_PORT" >&2
    wait "$srv"
    sleep 0.3
done
stop_capture

# --------------------------------------------------------------------------
# 4) tcp_sack_ts.pcap -- 1 MB transfer A -> B, B drops ~1/40 data segments
# --------------------------------------------------------------------------
in_b nft -f - <<EOF
table inet nsvec_drop {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport $TCP_PORT tcp flags & (syn | fin | rst) == 0 meta length > 200 numgen random mod 40 == 0 counter drop
    }
}
EOF

cat >"$TMP_DIR/tcp_server.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(30)
open(sys.argv[3], "w").close()
c, _ = s.accept()
c.settimeout(30)
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
c.sendall(b"got %d bytes\n" % n)
c.close()
print("server received", n, file=sys.stderr)
EOF
cat >"$TMP_DIR/tcp_client.py" <<'EOF'
import socket, sys
total = int(sys.argv[3])
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
block = bytes((i * 13 + 5) & 0xff for i in range(16384))
sent = 0
while sent < total:
    chunk = block[: min(len(block), total - sent)]
    s.sendall(chunk)
    sent += len(chunk)
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    d = s.recv(100)
    if not d:
        break
    reply += d
s.close()
print("client sent", sent, "reply", reply, file=sys.stderr)
EOF

start_capture tcp_sack_ts.pcap tcp port "$TCP_PORT"
ready="$TMP_DIR/tcp.ready"
in_b "$PY" "$TMP_DIR/tcp_server.py" "$V4_B" "$TCP_PORT" "$ready" &
srv=$!; PIDS+=("$srv")
for i in $(seq 1 50); do [[ -e $ready ]] && break; sleep 0.1; done
in_a "$PY" "$TMP_DIR/tcp_client.py" "$V4_B" "$TCP_PORT" "$TCP_BYTES"
wait "$srv"
sleep 1     # let the final ACK of the FIN exchange be captured
stop_capture
log "nft drop counter: $(in_b nft list table inet nsvec_drop | grep -o 'counter packets [0-9]*')"

ls -l "$OUT_DIR"/*.pcap >&2
log "done"
