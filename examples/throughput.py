#!/usr/bin/env python3
"""Measure throughput through a port with a loopback plug: one thread writes, another reads
and checks, for a fixed number of bytes.

    python3 throughput.py PORT [--baud 3000000] [--bytes 4M-in-bytes]

Prints MB/s each way next to the 8N1 line rate (baud / 10 bytes per second). A port that
moves more than its line rate is not paced by a UART (a pty, or an unpaced simulation).
usbserial-loopback does the same with more checks; this is the short version to copy.
"""
import argparse
import os
import sys
import threading
import time

import serial


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port")
    parser.add_argument("--baud", type=int, default=3000000)
    parser.add_argument("--bytes", type=int, default=4 << 20)
    args = parser.parse_args()
    data = os.urandom(args.bytes)
    received = bytearray()
    with serial.Serial(args.port, args.baud, timeout=5, write_timeout=30) as port:
        port.reset_input_buffer()

        def reader():
            while len(received) < len(data):
                chunk = port.read(min(65536, len(data) - len(received)))
                if not chunk:
                    return  # nothing for 5 s
                received.extend(chunk)

        thread = threading.Thread(target=reader)
        start = time.monotonic()
        thread.start()
        for offset in range(0, len(data), 4096):
            port.write(data[offset:offset + 4096])
        thread.join()
        seconds = time.monotonic() - start
    rate = len(received) / seconds / 1e6
    line = args.baud / 10 / 1e6
    print(f"{len(received)} of {len(data)} bytes in {seconds:.3f} s: {rate:.3f} MB/s each way "
          f"(8N1 line rate {line:.3f} MB/s)")
    if rate > line * 1.05:
        print("faster than the line: no UART paces this port")
    if bytes(received) != data:
        print("FAIL: the data did not come back intact")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
