#!/usr/bin/env python3
"""Open a serial port, configure it, and check what the driver really put in force.

    python3 open_and_configure.py PORT [--baud 115200] [--bytesize 8] [--parity N]
                                       [--stopbits 1] [--rtscts]

A driver may refuse a setting, such as a rate the chip cannot make within 3 %. Under
usbserial-run pyserial raises an error at once; on a bare harness port (and with some real
drivers) the call succeeds and the old setting is back a moment later. So the script reads
the settings back from the tty after a short wait and says when they differ.
Parity other than N and byte sizes other than 8 need usbserial-run on a harness port.
Exit status: 0 in force, 1 cannot open or configure, 2 the driver refused a setting.
"""
import argparse
import fcntl
import struct
import sys
import termios
import time

import serial

SIZES = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}


def rate_in_force(fd):
    """The output rate the tty holds, as an integer."""
    if sys.platform.startswith("linux"):
        tcgets2 = 0x802C542A  # _IOR('T', 0x2A, struct termios2) on x86 and arm
        raw = fcntl.ioctl(fd, tcgets2, bytes(44))
        return struct.unpack_from("I", raw, 40)[0]  # c_ospeed
    return termios.tcgetattr(fd)[5]  # macOS: speed_t is the rate itself


def line_in_force(fd):
    cflag = termios.tcgetattr(fd)[2]
    parity = "N"
    if cflag & termios.PARENB:
        parity = "O" if cflag & termios.PARODD else "E"
    return {"baudrate": rate_in_force(fd), "bytesize": SIZES[cflag & termios.CSIZE],
            "parity": parity, "stopbits": 2 if cflag & termios.CSTOPB else 1,
            "rtscts": bool(cflag & termios.CRTSCTS)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--bytesize", type=int, choices=[5, 6, 7, 8], default=8)
    parser.add_argument("--parity", choices=["N", "E", "O"], default="N")
    parser.add_argument("--stopbits", type=int, choices=[1, 2], default=1)
    parser.add_argument("--rtscts", action="store_true", help="RTS/CTS flow control")
    args = parser.parse_args()
    wanted = {"baudrate": args.baud, "bytesize": args.bytesize, "parity": args.parity,
              "stopbits": args.stopbits, "rtscts": args.rtscts}
    try:
        port = serial.Serial(args.port, timeout=1, **wanted)
    except (serial.SerialException, ValueError) as error:
        print(f"cannot open {args.port} with {wanted}: {error}", file=sys.stderr)
        return 1
    with port:
        time.sleep(0.5)  # a refusal that is not an error shows up within this
        held = line_in_force(port.fileno())
        print(f"{args.port}: {held['baudrate']} baud, {held['bytesize']}{held['parity']}"
              f"{held['stopbits']}, RTS/CTS {'on' if held['rtscts'] else 'off'}")
        refused = {key: held[key] for key in wanted if held[key] != wanted[key]}
        if refused:
            print(f"the driver refused {', '.join(f'{k}={wanted[k]}' for k in refused)}; "
                  f"in force: {', '.join(f'{k}={v}' for k, v in refused.items())}",
                  file=sys.stderr)
            return 2
        print("settings in force")
    return 0


if __name__ == "__main__":
    sys.exit(main())
