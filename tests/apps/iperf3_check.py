#!/usr/bin/python3
"""Checks the JSON report (`iperf3 -J`) of one iperf3 run, for tests/fdio_iperf3.rs.

Usage: iperf3_check.py REPORT.json

Passes (exit 0, one summary line on stdout) when the report holds no error and data moved:
for the end that sent, `end.sum_sent.bytes` > 0; for the end that received,
`end.sum_received.bytes` > 0 (a client's report carries both, the receiver's half as the
server reported it). Otherwise prints why on stderr and exits 1.
"""

import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: no JSON report: {e}")
    if "error" in report:
        sys.exit(f"{path}: iperf3 reported an error: {report['error']}")
    end = report.get("end", {})
    sent = end.get("sum_sent", {}).get("bytes", 0)
    received = end.get("sum_received", {}).get("bytes", 0)
    if max(sent, received) == 0:
        sys.exit(f"{path}: no bytes moved: sum_sent {sent}, sum_received {received}")
    test = report.get("start", {}).get("test_start", {})
    is_client = "connecting_to" in report.get("start", {})
    if is_client and (sent == 0 or received == 0):
        sys.exit(f"{path}: the client saw only one half: sum_sent {sent}, sum_received {received}")
    lost = end.get("sum", {}).get("lost_percent")
    loss = f", {lost:.1f}% lost" if isinstance(lost, (int, float)) else ""
    print(
        f"{'client' if is_client else 'server'} {test.get('protocol', '?')}"
        f"{' reverse' if test.get('reverse') else ''}: sent {sent} B, received {received} B{loss}"
    )


if __name__ == "__main__":
    main()
