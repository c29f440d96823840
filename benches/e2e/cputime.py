#!/usr/bin/python3
"""Runs a command and writes the CPU seconds it used (user and system, from wait4's rusage:
the command and every child it waited for) to a file: `cputime.py OUT CMD [ARG...]`.

Part of the end-to-end benchmark (benches/e2e/run.sh). Exits with the command's status, so
the caller sees a failure; SIGTERM is passed on to the command.
"""

import os
import signal
import sys


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    with open(out, "w") as f:
        f.write(f"{usage.ru_utime} {usage.ru_stime}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
