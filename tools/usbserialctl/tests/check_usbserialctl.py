#!/usr/bin/python3
"""Runs usbserialctl and checks its exit status and JSON.

Usage: check_usbserialctl.py <path to usbserialctl> <case>

Expected requests come from docs/usb-serial-reference.md (FTDI §2.2/§2.4: 9600 Bd on a
3 MHz part is divisor 312.5 -> 0x4138; 12 MBd on an H part is the divisor-1 special with the
12 MHz bit 17, i.e. wValue 0, wIndex bit 9; CDC §1.2: SET_LINE_CODING 0x21/0x20 with the
7-byte little-endian line coding; CP210x §3.2/§3.5: SET_BAUDRATE 0x41/0x1E with the rate as a
4-byte little-endian value, SET_LINE_CTL 0x41/0x03 with 0x0800 for 8N1, wIndex = interface;
the CP2102N divider 48 MHz / (2 x 26) = 923076.9 Bd for 921600; CP2105's second port starts at
2400 Bd); CH34x §4.2/§4.4: WRITE_REG 0x9A of the register pairs 0x1312
(rate: (256 - div) << 8 | fact << 2 | ps, BIT(7) on a current part) and 0x2518 (LCR, 0xC3 = 8N1).
"""
import json
import re
import subprocess
import sys

FTDI_OUT = 0x40
SIO_SET_BAUD_RATE = 0x03
SIO_SET_DATA = 0x04
DATA_8N1 = 0x0008


def run(binary, *args):
    proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout, proc.stderr


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def encode(binary, *args, want_exit):
    code, out, err = run(binary, "encode", *args)
    check(code == want_exit, f"exit {code}, wanted {want_exit}; stderr: {err!r}")
    report = json.loads(out)
    check(report["command"] == "encode", report)
    return report


def check_request(req, bm, b_request, w_value, w_index, w_length=0, data=""):
    want = {
        "bmRequestType": bm,
        "bRequest": b_request,
        "wValue": w_value,
        "wIndex": w_index,
        "wLength": w_length,
        "data": data,
        "bmRequestType_hex": f"0x{bm:02X}",
        "bRequest_hex": f"0x{b_request:02X}",
        "wValue_hex": f"0x{w_value:04X}",
        "wIndex_hex": f"0x{w_index:04X}",
    }
    for key, value in want.items():
        check(req[key] == value, f"{key}: got {req[key]!r}, wanted {value!r} in {req}")


def check_ftdi_rate(report, chip, baud, actual, w_value, w_index, channel):
    check(report["chip"] == chip, report)
    check(report["family"] == "ftdi", report)
    check(report["requested_baud"] == baud, report)
    check(report["status"] == "ok", report)
    check(report["actual_baud"] == actual, report)
    check(abs(report["error_percent"] - (actual - baud) * 100.0 / baud) < 1e-3, report)
    reqs = report["requests"]
    check(len(reqs) == 2, reqs)
    check_request(reqs[0], FTDI_OUT, SIO_SET_BAUD_RATE, w_value, w_index)
    check_request(reqs[1], FTDI_OUT, SIO_SET_DATA, DATA_8N1, channel)


def case_ft232r_9600(binary):
    report = encode(binary, "--chip", "ft232r", "--baud", "9600", want_exit=0)
    # FT232R: channel 0, so wIndex holds only the divisor's bit 16 (0 here).
    check_ftdi_rate(report, "ft232r", 9600, 9600, 0x4138, 0x0000, 0)
    check(report["divisor"]["value"] == 312.5, report)
    check(report["divisor"]["reference_hz"] == 3_000_000, report)


def case_ft232h_12000000(binary):
    report = encode(binary, "--chip", "ft232h", "--baud", "12000000", want_exit=0)
    # Divisor 1 -> encoded 0, plus bit 17 (12 MHz): wIndex = (0b10 << 8) | channel 1.
    check_ftdi_rate(report, "ft232h", 12_000_000, 12_000_000, 0x0000, 0x0201, 1)
    check(report["error_percent"] == 0, report)


def case_ft232r_2500000_unreachable(binary):
    report = encode(binary, "--chip", "ft232r", "--baud", "2500000", want_exit=1)
    # Between 2 MBd (divisor 1.5) and 3 MBd (divisor 1): 20 % either way; nothing is sent.
    check(report["status"] == "baud_unreachable", report)
    check(report["requests"] == [], report)
    check(report["actual_baud"] is None, report)
    check(report["reason"], report)
    closest = report["divisor"]["rate_baud"]
    check(closest in (2_000_000, 3_000_000), report)
    check(abs(report["divisor"]["error_percent"]) == 20, report)


def case_cdc_acm_250000(binary):
    report = encode(binary, "--chip", "cdc-acm", "--baud", "250000", want_exit=0)
    check(report["chip"] == "cdc-acm", report)
    check(report["status"] == "ok", report)
    check(report["actual_baud"] == 250000, report)
    check(report["error_percent"] == 0, report)
    # SET_LINE_CODING: dwDTERate 250000 = 0x0003D090 LE, 1 stop (0), no parity (0), 8 bits.
    sets = [r for r in report["requests"] if r["bmRequestType"] == 0x21 and r["bRequest"] == 0x20]
    check(len(sets) == 1, report["requests"])
    check_request(sets[0], 0x21, 0x20, 0, 0, 7, "90d00300000008")
    check(report["requests"][0] == sets[0], report["requests"])
    # Anything else may only be a read-back (GET_LINE_CODING, class IN).
    for req in report["requests"][1:]:
        check(req["bmRequestType"] == 0xA1 and req["bRequest"] == 0x21, req)


CH34X_WRITE_REG = 0x9A


def check_ch34x_rate(report, chip, baud, actual, rate_registers):
    check(report["chip"] == chip, report)
    check(report["family"] == "ch34x", report)
    check(report["status"] == "ok", report)
    check(report["actual_baud"] == actual, report)
    check(report["chip_version_assumed"] == "0x31", report)
    reqs = report["requests"]
    check(len(reqs) == 2, reqs)
    check_request(reqs[0], FTDI_OUT, CH34X_WRITE_REG, 0x1312, rate_registers)
    check_request(reqs[1], FTDI_OUT, CH34X_WRITE_REG, 0x2518, 0x00C3)


def case_ch340_921600(binary):
    report = encode(binary, "--chip", "ch340", "--baud", "921600", want_exit=0)
    # ps 3, fact 1, div 13: 48 MHz / 52 = 923 077 Bd; 0xF3 07 | BIT(7) (reference §4.4).
    check_ch34x_rate(report, "ch340", 921600, 923077, 0xF387)
    setting = report["setting"]
    check((setting["prescaler"], setting["fact"], setting["divisor"]) == (3, 1, 13), setting)
    check(abs(report["error_percent"] - 0.1603) < 1e-3, report)


def case_ch341a_9600(binary):
    report = encode(binary, "--chip", "ch341a", "--baud", "9600", want_exit=0)
    # ps 2, fact 0, div 78: 48 MHz / 4992 = 9615 Bd (Linux's table: 0xB202, plus BIT(7)).
    check_ch34x_rate(report, "ch341a", 9600, 9615, 0xB282)


def case_ch340_1800000_unreachable(binary):
    report = encode(binary, "--chip", "ch340", "--baud", "1800000", want_exit=1)
    # Between 1.5 MBd (div 4) and 2 MBd (div 3), both more than 3 % off: nothing is sent.
    check(report["status"] == "baud_unreachable", report)
    check(report["requests"] == [], report)
    check(report["actual_baud"] is None, report)
    check(report["setting"]["rate_baud"] == 2_000_000, report)
    check("46 Bd to 2 MBd" in report["reason"], report)


def case_ch340_3000000_above_the_data_sheet(binary):
    # 3 MBd is a setting of the generator (div 2) but above the data sheets' 2 MBd.
    report = encode(binary, "--chip", "ch340", "--baud", "3000000", want_exit=1)
    check(report["status"] == "baud_unreachable", report)
    check(report["setting"]["error_percent"] == 0, report)
    check(report["requests"] == [], report)


def case_ft4232h_port_c(binary):
    report = encode(binary, "--chip", "ft4232h", "--baud", "9600", "--port", "C", want_exit=0)
    check(report["port"] == "C", report)
    # 12 MHz / 9600 = 1250 = 0x4E2, bit 17 -> wIndex bit 9; channel 3.
    check_ftdi_rate(report, "ft4232h", 9600, 9600, 0x04E2, 0x0203, 3)


def case_ft2232h_port_b(binary):
    report = encode(binary, "--chip", "ft2232h", "--baud", "3000000", "--port", "1", want_exit=0)
    check(report["port"] == "B", report)
    # 12 MHz / 3 MBd = 4: encoded 0x20004; channel 2.
    check_ftdi_rate(report, "ft2232h", 3_000_000, 3_000_000, 0x0004, 0x0202, 2)


CP210X_OUT = 0x41
CP210X_SET_BAUDRATE = 0x1E
CP210X_SET_LINE_CTL = 0x03


def check_cp210x_rate(report, chip, baud, actual, sent, interface):
    check(report["chip"] == chip, report)
    check(report["family"] == "cp210x", report)
    check(report["status"] == "ok", report)
    check(report["actual_baud"] == actual, report)
    check(report["cp210x"]["set_baudrate"] == sent, report)
    reqs = report["requests"]
    check(len(reqs) == 2, reqs)
    check_request(reqs[0], CP210X_OUT, CP210X_SET_BAUDRATE, 0, interface, 4,
                  sent.to_bytes(4, "little").hex())
    check_request(reqs[1], CP210X_OUT, CP210X_SET_LINE_CTL, 0x0800, interface)


def case_cp2102_9600(binary):
    report = encode(binary, "--chip", "cp2102", "--baud", "9600", want_exit=0)
    check_cp210x_rate(report, "cp2102", 9600, 9600, 9600, 0)
    check(report["cp210x"]["rule"] == "an205_table", report)


def case_cp2102_4804_nearest_table_rate(binary):
    # AN205's ranges would run 4804 at 7200; 4800, sent as itself, is 0.08 % off.
    report = encode(binary, "--chip", "cp2102", "--baud", "4804", want_exit=0)
    check_cp210x_rate(report, "cp2102", 4804, 4800, 4800, 0)


def case_cp2102n_921600(binary):
    report = encode(binary, "--chip", "cp2102n", "--baud", "921600", want_exit=0)
    check_cp210x_rate(report, "cp2102n", 921600, 923077, 921600, 0)
    check(report["cp210x"]["divider"] == 26 and report["cp210x"]["prescale"] == 1, report)
    check(abs(report["actual_baud_exact"] - 48e6 / 52) < 1e-3, report)


def case_cp2105_sci_1200_unreachable(binary):
    report = encode(binary, "--chip", "cp2105", "--port", "1", "--baud", "1200", want_exit=1)
    check(report["port"] == "B", report)
    check(report["status"] == "baud_unreachable", report)
    check(report["requests"] == [], report)
    check(report["reason"], report)
    check(report["cp210x"]["set_baudrate"] == 2400, report)  # the closest the SCI port makes


def case_cp2108_port_3(binary):
    report = encode(binary, "--chip", "cp2108", "--port", "3", "--baud", "1500000", want_exit=0)
    check(report["port"] == "D", report)
    check_cp210x_rate(report, "cp2108", 1_500_000, 1_500_000, 1_500_000, 3)
# PL2303 (Linux pl2303.c): SET_LINE is 0x21/0x20, wIndex 0, with the rate field in bytes 0-3
# (a direct rate LE; or a divisor: 384 MHz / (m * 4^e) on H/HX/HXD, / (m * 2^e) on TA/TB, with
# bit 7 of byte 3 set), then stop bits 0, parity 0, 8 data bits.
def check_pl2303(report, chip, baud, actual, mode, field):
    check(report["chip"] == chip, report)
    check(report["family"] == "pl2303", report)
    check(report["status"] == "ok", report)
    check(report["actual_baud"] == actual, report)
    check(report["rate_field"]["mode"] == mode, report)
    check(report["rate_field"]["bytes"] == field, report)
    reqs = report["requests"]
    check(len(reqs) == 1, reqs)
    check_request(reqs[0], 0x21, 0x20, 0, 0, 7, field + "000008")


def case_pl2303_hx_9600(binary):
    report = encode(binary, "--chip", "pl2303-hx", "--baud", "9600", want_exit=0)
    check_pl2303(report, "pl2303-hx", 9600, 9600, "direct", "80250000")  # 0x2580 LE
    check(report["error_percent"] == 0, report)


def case_pl2303_ta_110(binary):
    report = encode(binary, "--chip", "pl2303-ta", "--baud", "110", want_exit=0)
    # 110 is not a rate the chip knows directly: 384e6/110 = 3490909 = m * 2^e with e = 11,
    # m = 1704.5 -> 1705 (109.97 Bd): A9, (10 << 4) | 6 = A6, e & 1 = 01, 80.
    check_pl2303(report, "pl2303-ta", 110, 110, "alt_divisor", "a9a60180")
    check(report["rate_field"]["mantissa"] == 1705, report)
    check(report["rate_field"]["exponent"] == 11, report)
    check(abs(report["actual_baud_exact"] - 384e6 / (1705 * 2048)) < 1e-3, report)


def case_pl2303_h_56000(binary):
    report = encode(binary, "--chip", "pl2303-h", "--baud", "56000", want_exit=0)
    # 384e6/56000 = 6857 = m * 4^e with e = 2, m = 428.6 -> 429 (55944 Bd): AD, 2 << 1 | 1.
    check_pl2303(report, "pl2303-h", 56000, 55944, "divisor", "ad050080")


def case_pl2303_hxn_250000(binary):
    report = encode(binary, "--chip", "pl2303-hxn", "--baud", "250000", want_exit=0)
    check_pl2303(report, "pl2303-hxn", 250000, 250000, "direct", "90d00300")


def case_pl2303_hx_6000001_unreachable(binary):
    report = encode(binary, "--chip", "pl2303-hx", "--baud", "6000001", want_exit=1)
    # Above the HX's 6 MBd: refused, never clamped to 6 MBd; nothing is sent.
    check(report["status"] == "baud_unreachable", report)
    check(report["requests"] == [], report)
    check(report["actual_baud"] is None, report)
    check("range" in report["reason"], report)
    expect_usage_error(binary, "encode", "--chip", "pl2303-tb", "--baud", "9600", "--port", "B")


def expect_usage_error(binary, *args):
    code, out, err = run(binary, *args)
    check(code == 2, f"{args}: exit {code}, wanted 2")
    check(out == "", f"{args}: stdout should be empty, got {out!r}")
    check(err.strip() != "", f"{args}: no message on stderr")


def case_unknown_chip(binary):
    expect_usage_error(binary, "encode", "--chip", "pl2303", "--baud", "9600")


def case_bad_usage(binary):
    expect_usage_error(binary)
    expect_usage_error(binary, "frobnicate")
    expect_usage_error(binary, "--bogus")
    expect_usage_error(binary, "encode", "--baud", "9600")
    expect_usage_error(binary, "encode", "--chip", "ft232r")
    expect_usage_error(binary, "encode", "--chip", "ft232r", "--baud", "fast")
    expect_usage_error(binary, "encode", "--chip", "ft232r", "--baud", "-9600")
    expect_usage_error(binary, "encode", "--chip", "ft232r", "--baud", "99999999999")
    expect_usage_error(binary, "encode", "--chip", "ft232r", "--baud", "9600", "--port", "B")
    expect_usage_error(binary, "encode", "--chip", "ft4232h", "--baud", "9600", "--port", "E")
    expect_usage_error(binary, "encode", "--chip", "ft232r", "--baud", "9600", "--speed", "1")
    expect_usage_error(binary, "encode", "--chip", "cp2102", "--baud", "9600", "--port", "1")
    expect_usage_error(binary, "encode", "--chip", "cp2105", "--baud", "9600", "--port", "2")
    expect_usage_error(binary, "encode", "--chip", "cp2108", "--baud", "9600", "--port", "4")
    expect_usage_error(binary, "encode", "--chip", "ch340", "--baud", "9600", "--port", "B")


def case_version(binary):
    code, out, _ = run(binary, "--version")
    check(code == 0, code)
    check(re.fullmatch(r"usbserialctl \d+\.\d+\.\d+\n", out), repr(out))


def case_help(binary):
    for args in (["--help"], ["encode", "--help"]):
        code, out, _ = run(binary, *args)
        check(code == 0, (args, code))
        check("encode" in out and "--chip" in out and "--baud" in out, out)


def main():
    binary, case = sys.argv[1], sys.argv[2]
    globals()["case_" + case](binary)
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
