#!/usr/bin/env python3
"""Drive the modem lines (DTR, RTS), read the inputs (CTS, DSR, RI, CD), and send a break.

    python3 modem_lines.py PORT [--loopback-plug]

With --loopback-plug the port is expected to have a plug that wires RTS to CTS and DTR to
DSR and CD (as usbserial-bridge's simulated plug does), and the script checks that each
input follows its output. A pty carries no modem lines: run the script under usbserial-run
on a harness port (usbserial-run python3 modem_lines.py PORT).
Exit status: 0 ok, 1 an input did not follow, 3 the port carries no modem lines.
"""
import argparse
import errno
import sys
import time

import serial

SETTLE = 0.1  # the change travels to the chip and the new inputs back


def inputs(port):
    return {"CTS": port.cts, "DSR": port.dsr, "RI": port.ri, "CD": port.cd}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port")
    parser.add_argument("--loopback-plug", action="store_true")
    args = parser.parse_args()
    wrong = []
    with serial.Serial(args.port, 115200, timeout=1) as port:
        try:
            for dtr, rts in [(False, False), (False, True), (True, False), (True, True)]:
                port.dtr = dtr
                port.rts = rts
                time.sleep(SETTLE)
                seen = inputs(port)
                print(f"DTR {int(dtr)} RTS {int(rts)} -> " +
                      " ".join(f"{name} {int(level)}" for name, level in seen.items()))
                if args.loopback_plug and (seen["CTS"] != rts or seen["DSR"] != dtr
                                           or seen["CD"] != dtr):
                    wrong.append((dtr, rts, seen))
            port.send_break(duration=0.25)  # tcsendbreak: the line held low, then released
            port.break_condition = True  # or held low until told otherwise
            time.sleep(0.1)
            port.break_condition = False
            print("break sent")
        except OSError as error:
            if error.errno in (errno.ENOTTY, errno.EINVAL):
                print(f"{args.port} carries no modem lines ({error.strerror}); on a harness "
                      f"port, run this under usbserial-run", file=sys.stderr)
                return 3
            raise
    if wrong:
        print(f"FAIL: inputs did not follow the plug's wiring: {wrong}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
