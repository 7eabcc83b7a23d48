#!/usr/bin/env python3
"""How pyserial's read timeouts behave, shown on a port with a loopback plug.

    python3 read_timeouts.py PORT

  timeout=None  read(n) waits until n bytes are there (not shown: it would wait forever)
  timeout=0     read(n) returns at once with what is there, maybe nothing
  timeout=T     read(n) returns when n bytes are there, or after T seconds with fewer
  inter_byte_timeout=T  read(n) also returns once the line is quiet for T after a byte
  read_until(b"\\n")    stops at the terminator, or at the timeout
Each case prints what came back and how long it took, and the script checks both.
Exit status 0 when every case behaved as described, 1 otherwise.
"""
import sys
import time

import serial


def timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    failures = []

    def check(name, ok, detail):
        print(f"{name}: {detail}{'' if ok else '   <- unexpected'}")
        if not ok:
            failures.append(name)

    with serial.Serial(sys.argv[1], 115200, timeout=0.5) as port:
        port.reset_input_buffer()
        data, took = timed(lambda: port.read(10))
        check("timeout=0.5, nothing sent", data == b"" and 0.45 < took < 1.5,
              f"{data!r} after {took:.2f} s")

        port.write(b"12345")
        data, took = timed(lambda: port.read(10))
        check("timeout=0.5, 5 of 10 bytes sent", data == b"12345" and 0.45 < took < 1.5,
              f"{data!r} after {took:.2f} s")

        port.write(b"abcdefghij")
        data, took = timed(lambda: port.read(10))
        check("timeout=0.5, all 10 sent", data == b"abcdefghij" and took < 0.45,
              f"{data!r} after {took:.2f} s")

        port.timeout = 0
        data, took = timed(lambda: port.read(10))
        check("timeout=0, nothing there", data == b"" and took < 0.1,
              f"{data!r} after {took:.3f} s")

        def until_quiet(quiet_s=0.2):
            port.timeout = quiet_s
            block = bytearray()
            while chunk := port.read(4096):
                block.extend(chunk)
            return bytes(block)

        port.write(b"xyz")
        data, took = timed(until_quiet)
        check("until quiet for 0.2 s, 3 bytes sent", data == b"xyz" and took < 1,
              f"{data!r} after {took:.2f} s")

        port.timeout = 1
        port.write(b"line one\nline two")
        data, took = timed(lambda: port.read_until(b"\n"))
        check("read_until, terminator there", data == b"line one\n" and took < 0.9,
              f"{data!r} after {took:.2f} s")
        data, took = timed(lambda: port.read_until(b"\n"))
        check("read_until, no terminator", data == b"line two" and 0.9 < took < 2.5,
              f"{data!r} after {took:.2f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
