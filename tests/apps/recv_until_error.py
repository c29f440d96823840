#!/usr/bin/python3
"""A client blocked in recv() when its netstack goes away, for tests/fdio_errno.rs.

Usage: recv_until_error.py PEER PORT

Connects to PEER PORT (errno_check.py's helper), asks it to HOLD (send nothing), prints
"blocked" and blocks in recv(). The test then kills the daemon under the shim. Prints how
recv ended, "error ERRNO-NAME", "eof" or "data", then whether a new socket can still be
made ("socket error ERRNO-NAME" or "socket made"), and exits 0 only when recv failed with
an error.
"""

import errno
import socket
import sys


def outcome(call):
    try:
        got = call()
    except OSError as e:
        return f"error {errno.errorcode.get(e.errno, e.errno)}"
    return got


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    sock.settimeout(None)
    sock.sendall(b"HOLD\n")
    print("blocked", flush=True)
    ended = outcome(lambda: "data" if sock.recv(100) else "eof")
    print(ended, flush=True)
    made = outcome(lambda: socket.socket().close() or "made")
    print(f"socket {made}", flush=True)
    sys.exit(0 if ended.startswith("error") else 1)


if __name__ == "__main__":
    main()
