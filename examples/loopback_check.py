#!/usr/bin/env python3
"""Check a port with a loopback plug (TX wired to RX): send random bytes, read them back,
compare.

    python3 loopback_check.py PORT [--baud 115200] [--bytes 4096]

Exit status 0 when every byte came back in order, 1 otherwise.
"""
import argparse
import os
import sys

import serial


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--bytes", type=int, default=4096)
    args = parser.parse_args()
    sent = os.urandom(args.bytes)
    # Enough time for the whole block at 10 bits per byte, plus a margin.
    timeout = 2 + args.bytes * 10 / args.baud
    with serial.Serial(args.port, args.baud, timeout=timeout) as port:
        port.reset_input_buffer()
        port.write(sent)
        received = port.read(len(sent))
    if received == sent:
        print(f"ok: {len(sent)} bytes came back at {args.baud} baud")
        return 0
    if len(received) < len(sent):
        print(f"FAIL: {len(received)} of {len(sent)} bytes came back within {timeout:.1f} s "
              f"(is the loopback plug on?)")
    else:
        first = next(i for i, (a, b) in enumerate(zip(sent, received)) if a != b)
        print(f"FAIL: byte {first} differs (sent 0x{sent[first]:02x}, "
              f"received 0x{received[first]:02x})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
