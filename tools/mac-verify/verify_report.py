#!/usr/bin/env python3
"""verify_report: turns what tools/mac-verify/verify.sh collected on a Mac into one report.

  verify_report.py report --dir REPORT_DIR [--assumptions docs/driverkit-assumptions.md]
                          [--bundle-id ID] [--driver-class CLASS]
      reads the files below from REPORT_DIR, writes REPORT_DIR/summary.json and summary.md,
      prints summary.md
  verify_report.py port --status FILE
      prints the first /dev/cu.* port in the host app's `--status --json` output (for verify.sh)
  verify_report.py answerers --assumptions FILE
      lists which [U]/[P] rows of the assumptions page the kit answers (exit 1 if a core
      answerer finds no row, so a renamed row is noticed)

Only the Python standard library is used, so it runs with the Mac's /usr/bin/python3 and with
Linux CI's. Everything here is parsing and judging; nothing talks to a device.

Files read from REPORT_DIR (each optional: a missing one makes the answers that need it
"no-data"):
  steps.tsv                     name<TAB>status<TAB>detail, one line per verify.sh step
  environment.txt               sw_vers, uname, Xcode
  entitlements-signed.plist     `codesign -d --entitlements` of the built dext
  entitlements-expected.plist   the generated entitlements the build signed with
  codesign-dext.txt             `codesign -dvvv` of the dext
  doctor-check.json             `usbserial-doctor check <dext> --json`
  sdk/IOUserUSBSerial.iig       copied from the DriverKit SDK
  ioreg-attached.xml            `ioreg -a -l -w0 -r -c IOUSBHostDevice` before streaming
  ioreg-streamed.xml            the same after streaming
  loopback-<baud>.json          `usbserial-loopback <port> --baud <baud> --json`
  stty.json                     {"port", "baud", "exit_code"}: a speed-only change with stty
  latency.json                  {"requested_us", "errno"}: ioctl(IOSSDATALAT)
  unreachable-rate.json         {"baud", "errno"}: ioctl(IOSSIOSPEED) with a rate the chip
                                cannot make
  log.json | log.txt            `log show --style json` (or plain text) of the dext's lines
"""

import argparse
import glob
import json
import os
import plistlib
import re
import sys

DEFAULT_BUNDLE_ID = "org.usbserialbridge.driver"
DEFAULT_DRIVER_CLASS = "org_usbserialbridge_SerialDriver"
# Every line the dext logs starts with this, then its version (SerialDext/*.cpp LOG_PREFIX).
LOG_PREFIX = "USBSerialBridge SerialDriver"

VERDICTS = ("as-assumed", "differs", "observed", "inconclusive", "no-data")

# One os_log line of the dext: "<prefix> <version> <Call>[(args)][:] rest".
TRACE_RE = re.compile(
    re.escape(LOG_PREFIX)
    + r" (?P<version>\S+) (?P<call>Start|Stop|Hw\w+|handle\w+|ConnectQueues|DisconnectQueues)"
    r"(?P<args>\([^)]*\))?:?\s*(?P<rest>.*)$"
)
FIRST_NUMBER_RE = re.compile(r"\d+")


class Report:
    """Everything read from a report directory."""

    def __init__(self, directory, bundle_id, driver_class):
        self.dir = directory
        self.bundle_id = bundle_id
        self.driver_class = driver_class
        self.notes = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def exists(self, name):
        return os.path.isfile(self.path(name))

    def text(self, name):
        try:
            with open(self.path(name), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return None

    def json(self, name):
        text = self.text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as e:
            self.notes.append(f"{name} is not valid JSON ({e}); ignored")
            return None

    def plist(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return plistlib.load(f)
        except OSError:
            return None
        except (plistlib.InvalidFileException, ValueError) as e:
            self.notes.append(f"{name} is not a property list ({e}); ignored")
            return None


# ---------------------------------------------------------------------------------------------
# Steps


def read_steps(report):
    text = report.text("steps.tsv")
    steps = []
    for line in (text or "").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0]:
            steps.append({"name": parts[0], "status": parts[1], "detail": "\t".join(parts[2:])})
    return steps


# ---------------------------------------------------------------------------------------------
# The dext's log: its Hw* call trace


def log_messages(report):
    """(timestamp, message) of every log line, from log.json (`log show --style json`) or
    log.txt (plain `log show` / `log stream` output)."""
    entries = report.json("log.json")
    if isinstance(entries, list):
        out = []
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("eventMessage"), str):
                out.append((str(entry.get("timestamp", "")), entry["eventMessage"]))
        return out
    text = report.text("log.txt")
    if text is None:
        return None
    out = []
    for line in text.splitlines():
        at = line.find(LOG_PREFIX)
        if at >= 0:
            stamp = re.match(r"\S+ \S+", line)  # `log show`'s date and time columns
            out.append((stamp.group(0) if stamp and stamp.start() < at else "", line[at:]))
    return out


def parse_trace(messages):
    trace = []
    for timestamp, message in messages:
        m = TRACE_RE.search(message)
        if not m:
            continue
        args = m.group("args") or ""
        rest = m.group("rest")
        trace.append(
            {
                "time": timestamp,
                "call": m.group("call"),
                "args": args[1:-1] if args else "",
                "failed": "failed" in rest,
                "detail": rest.strip(),
                "text": message[m.start() :].strip(),
            }
        )
    return trace


def first_number(text):
    m = FIRST_NUMBER_RE.search(text or "")
    return int(m.group(0)) if m else None


def requested_baud(event):
    """The rate a HwProgramUART/HwProgramBaudRate line is about: in its arguments, or in
    "<n> Bd requested"."""
    if event["args"]:
        return first_number(event["args"])
    m = re.search(r"(\d+) Bd requested", event["text"])
    return int(m.group(1)) if m else None


def is_subsequence(needle, haystack):
    it = iter(haystack)
    return all(any(x == y for y in it) for x in needle)


# ---------------------------------------------------------------------------------------------
# ioreg (`ioreg -a` XML): our service, its port, the driver that won the interface


def walk(nodes, parents=()):
    for node in nodes if isinstance(nodes, list) else [nodes]:
        if not isinstance(node, dict):
            continue
        yield node, parents
        yield from walk(node.get("IORegistryEntryChildren", []), parents + (node,))


def node_class(node):
    return node.get("IOObjectClass", "")


def is_our_service(node, report):
    return (
        node.get("IOUserClass") == report.driver_class
        or node.get("IORegistryEntryName") == report.driver_class
        or (node.get("CFBundleIdentifier") == report.bundle_id and node.get("IOClass") == "IOUserSerial")
    )


def service_property(node, key):
    """(value, where) of a property the dext set: at the top level, or inside
    IOUserServiceProperties, where xnu stores what a kernel object cannot take itself."""
    if key in node:
        return node[key], key
    user = node.get("IOUserServiceProperties")
    if isinstance(user, dict) and key in user:
        return user[key], "IOUserServiceProperties." + key
    return None, None


def read_ioreg(report, name):
    roots = report.plist(name)
    if roots is None:
        return None
    services = []
    for node, parents in walk(roots):
        if not is_our_service(node, report):
            continue
        clients = [c for c, _ in walk(node.get("IORegistryEntryChildren", [])) if node_class(c) == "IOSerialBSDClient"]
        interface = next((p for p in reversed(parents) if node_class(p) == "IOUSBHostInterface"), None)
        device = next((p for p in reversed(parents) if node_class(p) == "IOUSBHostDevice"), None)
        statistics, statistics_at = service_property(node, "Statistics")
        base, base_at = service_property(node, "IOTTYBaseName")
        suffix, _ = service_property(node, "IOTTYSuffix")
        chip, _ = service_property(node, "USBSerialBridgeChip")
        services.append(
            {
                "registry_id": node.get("IORegistryEntryID"),
                "interface_number": (interface or {}).get("bInterfaceNumber"),
                "vid": (device or interface or {}).get("idVendor"),
                "pid": (device or interface or {}).get("idProduct"),
                "chip": chip,
                "requested_base": base,
                "requested_suffix": suffix,
                "name_properties_at": base_at,
                "statistics": statistics if isinstance(statistics, dict) else None,
                "statistics_at": statistics_at,
                "ports": [
                    {
                        "callout": c.get("IOCalloutDevice"),
                        "base": c.get("IOTTYBaseName"),
                        "suffix": c.get("IOTTYSuffix"),
                    }
                    for c in clients
                ],
            }
        )
    # Other drivers on the interfaces: anything else attached to one of our adapters, and any
    # serial driver (one with a tty below it) anywhere in the dump.
    competitors = []
    ours = {(s["vid"], s["pid"]) for s in services}
    for node, _ in walk(roots):
        if node_class(node) != "IOUSBHostInterface":
            continue
        key = (node.get("idVendor"), node.get("idProduct"))
        for child in node.get("IORegistryEntryChildren", []):
            if not isinstance(child, dict) or is_our_service(child, report):
                continue
            if node_class(child).endswith("UserClient"):
                continue  # an app that opened the interface, not a driver
            serial = child.get("IOClass") == "IOUserSerial" or any(
                node_class(c) == "IOSerialBSDClient" for c, _ in walk(child.get("IORegistryEntryChildren", []))
            )
            if key in ours or serial:
                name = child.get("IOUserClass") or child.get("IORegistryEntryName") or node_class(child)
                competitors.append(
                    {"driver": name, "interface_number": node.get("bInterfaceNumber"), "vid": key[0], "pid": key[1]}
                )
    return {"services": services, "competitors": competitors}


# ---------------------------------------------------------------------------------------------
# Signature and SDK headers


def normalise(value):
    """A comparable form of a plist value (arrays of dicts compare as sets)."""
    if isinstance(value, dict):
        return tuple(sorted((k, normalise(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(sorted((normalise(v) for v in value), key=repr))
    return value


def read_signature(report):
    signed = report.plist("entitlements-signed.plist")
    expected = report.plist("entitlements-expected.plist")
    codesign = report.text("codesign-dext.txt") or ""
    doctor = report.json("doctor-check.json")
    result = {
        "signed": None,
        "authority": None,
        "entitlements_match": None,
        "missing": [],
        "different": [],
        "extra": [],
        "doctor_status": doctor.get("status") if isinstance(doctor, dict) else None,
        "doctor_findings": [f.get("id") for f in doctor.get("findings", [])] if isinstance(doctor, dict) else [],
    }
    if codesign:
        if "code object is not signed at all" in codesign:
            result["signed"] = False
        elif "Signature=adhoc" in codesign:
            result["signed"] = "adhoc"
        else:
            authorities = re.findall(r"^Authority=(.*)$", codesign, re.M)
            result["signed"] = bool(authorities)
            result["authority"] = authorities[0] if authorities else None
    if isinstance(signed, dict) and isinstance(expected, dict):
        for key, value in expected.items():
            if key not in signed:
                result["missing"].append(key)
            elif normalise(signed[key]) != normalise(value):
                result["different"].append(key)
        result["extra"] = sorted(k for k in signed if k not in expected)
        result["entitlements_match"] = not result["missing"] and not result["different"]
    return result


def sdk_declaration(text, method):
    """The declaration of `method` in an .iig, up to its ';' (annotations included)."""
    m = re.search(r"[^;{}]*\b" + re.escape(method) + r"\s*\([^;]*;", text or "")
    if not m:
        return None
    declaration = " ".join(m.group(0).split())
    return re.sub(r"^(?:(?:public|protected|private)\s*:\s*)+", "", declaration)


# ---------------------------------------------------------------------------------------------
# Answerers: each looks at the evidence for one assumption and returns its verdict.
# `rows` are matched against docs/driverkit-assumptions.md by the Assumption column, so the
# numbers in the report are always the page's current ones.


def answer(verdict, finding, evidence):
    assert verdict in VERDICTS
    return {"verdict": verdict, "finding": finding, "evidence": evidence}


def services_of(ctx, which):
    ioreg = ctx["ioreg"].get(which)
    return ioreg["services"] if ioreg else None


def answer_naming(ctx):
    services = services_of(ctx, "attached")
    if services is None:
        return answer("no-data", "no ioreg dump after the adapter attached", ["ioreg-attached.xml"])
    if not services:
        return answer("no-data", "our driver is not attached to any device in the dump", ["ioreg-attached.xml"])
    findings = []
    verdict = "as-assumed"
    for s in services:
        requested = None
        if isinstance(s["requested_base"], str) and isinstance(s["requested_suffix"], str):
            requested = s["requested_base"] + s["requested_suffix"]
        for port in s["ports"] or [{"callout": None, "base": None, "suffix": None}]:
            callout = port["callout"]
            if callout is None:
                verdict = "differs"
                findings.append("no IOSerialBSDClient (no /dev node) under the service")
                continue
            if requested is None:
                verdict = "inconclusive" if verdict == "as-assumed" else verdict
                findings.append(f"{callout}: the dext's requested IOTTYBaseName/IOTTYSuffix are not in the registry")
                continue
            if callout == "/dev/cu." + requested:
                findings.append(f"{callout} is the name the dext asked for ({s['name_properties_at']})")
                continue
            verdict = "differs"
            rid = s["registry_id"]
            why = ""
            if isinstance(rid, int) and str(port["suffix"]).lower() == f"{rid:x}":
                why = "; the kernel's suffix is the service's registry ID"
            findings.append(
                f"{callout} (base {port['base']!r}, suffix {port['suffix']!r}), not /dev/cu.{requested} "
                f"as the dext asked{why}"
            )
    return answer(verdict, "; ".join(findings), ["ioreg-attached.xml"])


def answer_properties_location(ctx):
    services = services_of(ctx, "attached")
    if not services:
        return answer("no-data", "our service is not in the dump", ["ioreg-attached.xml"])
    places = sorted({s["statistics_at"] or "nowhere" for s in services})
    names = sorted({s["name_properties_at"] or "nowhere" for s in services})
    verdict = "observed"
    return answer(
        verdict,
        f"properties the dext sets with SetProperties appear at: Statistics -> {', '.join(places)}; "
        f"IOTTYBaseName -> {', '.join(names)}",
        ["ioreg-attached.xml"],
    )


def answer_statistics_updates(ctx):
    before = services_of(ctx, "attached")
    after = services_of(ctx, "streamed")
    if not before or not after:
        return answer("no-data", "need ioreg dumps before and after streaming", ["ioreg-attached.xml", "ioreg-streamed.xml"])
    moved = sum((r.get("transfer") or {}).get("bytes_received") or 0 for r in ctx["loopback"])
    changes = []
    for b in before:
        a = next((x for x in after if x["registry_id"] == b["registry_id"]), None)
        if a is None or b["statistics"] is None or a["statistics"] is None:
            continue
        changes.append((b["statistics"].get("RxBytes"), a["statistics"].get("RxBytes"), a["statistics_at"]))
    if not changes:
        return answer("no-data", "no Statistics dictionary in either dump", ["ioreg-attached.xml", "ioreg-streamed.xml"])
    grew = [c for c in changes if isinstance(c[0], int) and isinstance(c[1], int) and c[1] > c[0]]
    detail = ", ".join(f"RxBytes {c[0]} -> {c[1]} ({c[2]})" for c in changes)
    if grew:
        return answer("as-assumed", f"Statistics changed after RegisterService: {detail}", ["ioreg-attached.xml", "ioreg-streamed.xml"])
    if moved > 0:
        return answer(
            "differs",
            f"{moved} bytes were streamed but Statistics did not change: {detail}",
            ["ioreg-attached.xml", "ioreg-streamed.xml", "loopback-*.json"],
        )
    return answer("inconclusive", f"nothing was streamed between the dumps: {detail}", ["ioreg-streamed.xml"])


def answer_uart_vs_baud(ctx):
    stty = ctx["stty"]
    trace = ctx["trace"]
    if trace is None or not isinstance(stty, dict) or stty.get("exit_code") != 0:
        return answer("no-data", "need the dext's log and a successful stty speed change", ["log.json", "stty.json"])
    baud = stty.get("baud")
    calls = sorted({e["call"] for e in trace if e["call"] in ("HwProgramUART", "HwProgramBaudRate") and requested_baud(e) == baud})
    if calls == ["HwProgramBaudRate"]:
        return answer("as-assumed", f"a speed-only change to {baud} Bd arrived as HwProgramBaudRate", ["log.json", "stty.json"])
    if calls == ["HwProgramUART"]:
        return answer(
            "differs",
            f"a speed-only change to {baud} Bd arrived as HwProgramUART, not HwProgramBaudRate",
            ["log.json", "stty.json"],
        )
    if calls:
        return answer("observed", f"a speed-only change to {baud} Bd arrived as {' and '.join(calls)}", ["log.json", "stty.json"])
    return answer("inconclusive", f"no HwProgramUART/HwProgramBaudRate line for {baud} Bd in the log", ["log.json"])


def answer_latency_unit(ctx):
    latency = ctx["latency"]
    trace = ctx["trace"]
    if not isinstance(latency, dict) or trace is None:
        return answer("no-data", "need latency.json and the dext's log", ["latency.json", "log.json"])
    requested = latency.get("requested_us")
    values = [first_number(e["args"]) for e in trace if e["call"] == "HwProgramLatencyTimer"]
    if requested in values:
        return answer(
            "differs",
            f"IOSSDATALAT {requested} us reached HwProgramLatencyTimer as {requested}: the value is not "
            "converted to milliseconds on the way (hostkit assumes milliseconds)",
            ["latency.json", "log.json"],
        )
    converted = [v for v in values if v is not None and v != requested]
    if converted:
        return answer(
            "as-assumed",
            f"IOSSDATALAT {requested} us reached HwProgramLatencyTimer as {converted[0]} (milliseconds)",
            ["latency.json", "log.json"],
        )
    return answer(
        "inconclusive",
        f"ioctl(IOSSDATALAT, {requested}) returned errno {latency.get('errno')} and the log has no "
        "HwProgramLatencyTimer line (the dext logs that call only when it fails)",
        ["latency.json", "log.json"],
    )


def answer_error_reaches_caller(ctx):
    probe = ctx["unreachable"]
    trace = ctx["trace"]
    if not isinstance(probe, dict) or trace is None:
        return answer("no-data", "need unreachable-rate.json and the dext's log", ["unreachable-rate.json", "log.json"])
    baud = probe.get("baud")
    refused = [
        e for e in trace if e["call"] in ("HwProgramUART", "HwProgramBaudRate") and e["failed"] and requested_baud(e) == baud
    ]
    errno = probe.get("errno")
    if not refused:
        return answer(
            "inconclusive",
            f"the driver did not refuse {baud} Bd (no failed HwProgram* line), so nothing could reach the caller",
            ["unreachable-rate.json", "log.json"],
        )
    if errno:
        return answer(
            "as-assumed",
            f"{refused[0]['call']} refused {baud} Bd and ioctl(IOSSIOSPEED) failed with errno {errno}",
            ["unreachable-rate.json", "log.json"],
        )
    return answer(
        "differs",
        f"{refused[0]['call']} refused {baud} Bd but ioctl(IOSSIOSPEED) succeeded",
        ["unreachable-rate.json", "log.json"],
    )


def answer_call_order(ctx, anchor, expected, before, after):
    trace = ctx["trace"]
    if trace is None:
        return answer("no-data", "no log of the dext", ["log.json"])
    names = [e["call"] for e in trace]
    if anchor not in names:
        return answer(
            "inconclusive",
            f"no {anchor} line in the log: the dext logs {anchor} only when it fails, so the order "
            "needs a line per call",
            ["log.json"],
        )
    at = names.index(anchor)
    window = names[max(0, at - before) : at + after + 1]
    seen = " -> ".join(window)
    if is_subsequence(expected, window):
        return answer("as-assumed", f"observed {seen}", ["log.json"])
    return answer("differs", f"observed {seen}; hostkit assumes {' -> '.join(expected)}", ["log.json"])


def answer_open_order(ctx):
    return answer_call_order(
        ctx, "HwActivate", ["HwProgramMCR", "HwActivate", "HwResetFIFO", "HwResetFIFO", "HwGetModemStatus"], 3, 6
    )


def answer_close_order(ctx):
    return answer_call_order(ctx, "HwDeactivate", ["HwProgramMCR", "HwDeactivate"], 3, 2)


def answer_probe_score(ctx):
    ioreg = ctx["ioreg"].get("attached")
    if ioreg is None:
        return answer("no-data", "no ioreg dump", ["ioreg-attached.xml"])
    ours = ioreg["services"]
    others = ioreg["competitors"]
    if ours and not others:
        return answer(
            "observed",
            "our driver attached and no other serial driver sits on the same interfaces (whether an "
            "in-box dext wanted the device cannot be seen in ioreg)",
            ["ioreg-attached.xml"],
        )
    if ours and others:
        names = ", ".join(sorted({o["driver"] for o in others}))
        return answer("observed", f"ours attached, and so did {names} on the same device", ["ioreg-attached.xml"])
    if others:
        names = ", ".join(sorted({o["driver"] for o in others}))
        return answer("differs", f"{names} attached and ours did not", ["ioreg-attached.xml"])
    return answer("no-data", "no serial driver attached to the adapter", ["ioreg-attached.xml"])


def answer_tx_final(ctx):
    text = ctx["sdk"]
    if text is None:
        return answer("no-data", "IOUserUSBSerial.iig was not copied from the SDK", ["sdk/IOUserUSBSerial.iig"])
    found = {m: sdk_declaration(text, m) for m in ("TxDataAvailable", "RxFreeSpaceAvailable")}
    missing = [m for m, d in found.items() if d is None]
    if missing:
        return answer("inconclusive", f"{', '.join(missing)} not declared in IOUserUSBSerial.iig", ["sdk/IOUserUSBSerial.iig"])
    final = [m for m, d in found.items() if re.search(r"\bfinal\b", d)]
    decls = " | ".join(found.values())
    if len(final) == 2:
        return answer("as-assumed", f"both are final: {decls}", ["sdk/IOUserUSBSerial.iig"])
    return answer("differs", f"not final: {decls}", ["sdk/IOUserUSBSerial.iig"])


def answer_packet_hooks(ctx):
    text = ctx["sdk"]
    if text is None:
        return answer("no-data", "IOUserUSBSerial.iig was not copied from the SDK", ["sdk/IOUserUSBSerial.iig"])
    decls = {m: sdk_declaration(text, m) for m in ("handleRxPacket", "handleInterruptPacket")}
    parts = [d or f"{m}: not declared" for m, d in decls.items()]
    return answer("observed", " | ".join(parts), ["sdk/IOUserUSBSerial.iig"])


def answer_pipes(ctx):
    services = services_of(ctx, "attached")
    if not services:
        return answer("no-data", "our driver is not attached", ["ioreg-attached.xml"])
    chips = {str(s["chip"]) for s in services}
    if not any("cdc" in c.lower() for c in chips):
        return answer("inconclusive", f"needs a CDC-ACM adapter; this run had {', '.join(sorted(chips))}", ["ioreg-attached.xml"])
    passed = [r for r in ctx["loopback"] if r.get("verdict") == "PASS"]
    if passed:
        return answer("observed", "data crossed a CDC-ACM adapter through the pipes IOUserUSBSerial chose", ["loopback-*.json"])
    return answer("observed", "no data crossed the CDC-ACM adapter", ["loopback-*.json"])


# name -> (answerer, row pattern, core). A core answerer must find exactly one row on the
# assumptions page; the others answer rows that may or may not exist yet.
ANSWERERS = {
    "pipes": (answer_pipes, r"picks its pipes", True),
    "tx-final": (answer_tx_final, r"TxDataAvailable", True),
    "uart-vs-baud": (answer_uart_vs_baud, r"HwProgramUART.*HwProgramBaudRate", True),
    "latency-unit": (answer_latency_unit, r"HwProgramLatencyTimer", True),
    "open-order": (answer_open_order, r"[Oo]rder of calls at open", True),
    "close-order": (answer_close_order, r"Last close", True),
    "error-reaches-caller": (answer_error_reaches_caller, r"error reaches the caller", True),
    "naming": (answer_naming, r"IOTTYBaseName", True),
    "statistics-updates": (answer_statistics_updates, r"updated after .?RegisterService", True),
    "probe-score": (answer_probe_score, r"IOProbeScore. above Apple", True),
    "properties-location": (answer_properties_location, r"IOUserServiceProperties", False),
    "packet-hooks": (answer_packet_hooks, r"LOCALONLY", False),
}


# ---------------------------------------------------------------------------------------------
# The assumptions page


def read_assumptions(path):
    """Rows of the page's table: number, title (the Assumption column), tag."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            rows.append({"number": int(cells[0]), "title": cells[1], "tag": cells[2]})
    return rows


def match_answerers(rows):
    """answerer name -> list of matching rows."""
    return {name: [r for r in rows if re.search(pattern, r["title"])] for name, (_, pattern, _) in ANSWERERS.items()}


# ---------------------------------------------------------------------------------------------
# The report


def loopback_runs(report):
    runs = []
    for path in sorted(glob.glob(report.path("loopback-*.json"))):
        data = report.json(os.path.basename(path))
        if isinstance(data, dict):
            data["_file"] = os.path.basename(path)
            runs.append(data)
    return sorted(runs, key=lambda r: (r.get("options") or {}).get("baud") or 0)


def build(report, assumptions_path):
    messages = log_messages(report)
    trace = parse_trace(messages) if messages is not None else None
    if messages is not None and any("<private>" in m for _, m in messages):
        report.notes.append(
            "some of the dext's log arguments are <private>: strings need %{public}s in its format "
            "strings to be readable in a report"
        )
    sdk_text = None
    for name in ("sdk/IOUserUSBSerial.iig", "IOUserUSBSerial.iig"):
        sdk_text = report.text(name)
        if sdk_text is not None:
            break
    ctx = {
        "trace": trace,
        "ioreg": {"attached": read_ioreg(report, "ioreg-attached.xml"), "streamed": read_ioreg(report, "ioreg-streamed.xml")},
        "loopback": loopback_runs(report),
        "stty": report.json("stty.json"),
        "latency": report.json("latency.json"),
        "unreachable": report.json("unreachable-rate.json"),
        "sdk": sdk_text,
    }
    rows = read_assumptions(assumptions_path) if assumptions_path else None
    matches = match_answerers(rows) if rows is not None else {}
    answers = []
    answered_numbers = set()
    for name, (function, _, _) in ANSWERERS.items():
        result = function(ctx)
        matched = matches.get(name, [])
        for row in matched or [None]:
            entry = {"answerer": name, **result}
            if row is not None:
                entry.update({"number": row["number"], "assumption": row["title"], "tag": row["tag"]})
                answered_numbers.add(row["number"])
            elif rows is not None:
                entry.update({"number": None, "assumption": None, "tag": None})
                if ANSWERERS[name][2]:
                    report.notes.append(f"answerer {name} found no row on the assumptions page")
            answers.append(entry)
    unanswered = [
        r for r in (rows or []) if r["number"] not in answered_numbers and any(t in r["tag"] for t in ("U", "P", "RE"))
    ]
    ioreg = ctx["ioreg"]["attached"] or {"services": [], "competitors": []}
    counts = {v: sum(1 for a in answers if a["verdict"] == v and a.get("number") is not None) for v in VERDICTS}
    return {
        "verdict_counts": counts,
        "tool": "usbserial-verify",
        "bundle_id": report.bundle_id,
        "driver_class": report.driver_class,
        "environment": (report.text("environment.txt") or "").strip().splitlines(),
        "steps": read_steps(report),
        "signature": read_signature(report),
        "device": {"services": ioreg["services"], "competitors": ioreg["competitors"]},
        "loopback": [
            {
                "file": r["_file"],
                "verdict": r.get("verdict"),
                "reason": r.get("reason"),
                "requested_baud": (r.get("port") or {}).get("requested_baud"),
                "actual_baud": (r.get("port") or {}).get("actual_baud"),
                "bytes_verified": (r.get("transfer") or {}).get("bytes_verified"),
                "mb_per_s": (r.get("timing") or {}).get("mb_per_s"),
                "percent_of_line_rate": (r.get("timing") or {}).get("percent_of_line_rate"),
            }
            for r in ctx["loopback"]
        ],
        "trace": trace if trace is not None else [],
        "trace_available": trace is not None,
        "answers": answers,
        "unanswered": unanswered,
        "notes": report.notes,
    }


def markdown(summary):
    out = ["# USBSerialBridge verification report", ""]
    if summary["environment"]:
        out += ["```", *summary["environment"], "```", ""]
    out += ["## Steps", "", "| step | status | detail |", "|---|---|---|"]
    for s in summary["steps"]:
        out.append(f"| {s['name']} | {s['status']} | {s['detail']} |")
    sig = summary["signature"]
    out += ["", "## Signature", ""]
    out.append(f"- signed: {sig['signed']}" + (f" ({sig['authority']})" if sig["authority"] else ""))
    if sig["entitlements_match"] is None:
        out.append("- entitlements: not compared (a file is missing)")
    else:
        out.append(
            "- entitlements: " + ("as generated" if sig["entitlements_match"] else "DIFFER from the generated ones")
            + (f"; missing {', '.join(sig['missing'])}" if sig["missing"] else "")
            + (f"; different {', '.join(sig['different'])}" if sig["different"] else "")
            + (f"; added {', '.join(sig['extra'])}" if sig["extra"] else "")
        )
    if sig["doctor_status"] is not None:
        out.append(f"- usbserial-doctor check: exit {sig['doctor_status']} {' '.join(sig['doctor_findings'])}")
    out += ["", "## Device", ""]
    for s in summary["device"]["services"]:
        ports = ", ".join(str(p["callout"]) for p in s["ports"]) or "no /dev node"
        out.append(
            f"- {s['chip']} (VID 0x{(s['vid'] or 0):04x} PID 0x{(s['pid'] or 0):04x} interface "
            f"{s['interface_number']}): {ports}; Statistics at {s['statistics_at'] or 'nowhere'}"
        )
    for c in summary["device"]["competitors"]:
        out.append(f"- also attached: {c['driver']} on interface {c['interface_number']}")
    if not summary["device"]["services"]:
        out.append("- our driver is not attached in the ioreg dump")
    out += ["", "## Loopback", "", "| run | verdict | requested | actual | verified bytes | MB/s | % of line rate |", "|---|---|---|---|---|---|---|"]
    for r in summary["loopback"]:
        out.append(
            f"| {r['file']} | {r['verdict']} | {r['requested_baud']} | {r['actual_baud']} | "
            f"{r['bytes_verified']} | {r['mb_per_s']} | {r['percent_of_line_rate']} |"
        )
    counts = ", ".join(f"{n} {v}" for v, n in summary["verdict_counts"].items() if n)
    out += ["", "## Assumptions answered", "", f"Rows of docs/driverkit-assumptions.md: {counts or 'none'}.", ""]
    out += ["| # | assumption | tag | verdict | finding |", "|---|---|---|---|---|"]
    for a in summary["answers"]:
        number = a["number"] if a.get("number") is not None else "-"
        title = a.get("assumption") or f"({a['answerer']})"
        out.append(f"| {number} | {title} | {a.get('tag') or ''} | **{a['verdict']}** | {a['finding']} |")
    out += ["", "## Not answered by this kit", ""]
    for r in summary["unanswered"]:
        out.append(f"- #{r['number']} {r['title']} [{r['tag']}]")
    if not summary["unanswered"]:
        out.append("- none")
    out += ["", f"## Hw* call trace ({len(summary['trace'])} lines)", ""]
    if not summary["trace_available"]:
        out.append("No log of the dext was collected.")
    for e in summary["trace"]:
        args = f"({e['args']})" if e["args"] else ""
        detail = f": {e['detail']}" if e["detail"] else ""
        out.append(f"- `{e['time']}` {e['call']}{args}{detail}")
    if summary["notes"]:
        out += ["", "## Notes", ""] + [f"- {n}" for n in summary["notes"]]
    return "\n".join(out) + "\n"


def command_report(args):
    if not os.path.isdir(args.dir):
        print(f"verify_report: {args.dir} is not a directory", file=sys.stderr)
        return 2
    report = Report(args.dir, args.bundle_id, args.driver_class)
    summary = build(report, args.assumptions)
    with open(os.path.join(args.dir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")
    text = markdown(summary)
    with open(os.path.join(args.dir, "summary.md"), "w", encoding="utf-8") as f:
        f.write(text)
    if not args.quiet:
        print(text, end="")
    return 0


def command_port(args):
    try:
        with open(args.status, encoding="utf-8") as f:
            status = json.load(f)
    except (OSError, ValueError) as e:
        print(f"verify_report: {args.status}: {e}", file=sys.stderr)
        return 1
    for port in status.get("ports", []) if isinstance(status, dict) else []:
        callout = port.get("callout") if isinstance(port, dict) else None
        if isinstance(callout, str) and callout.startswith("/dev/cu."):
            print(callout)
            return 0
    return 1


def command_answerers(args):
    rows = read_assumptions(args.assumptions)
    if rows is None:
        print(f"verify_report: cannot read {args.assumptions}", file=sys.stderr)
        return 2
    status = 0
    for name, matched in match_answerers(rows).items():
        core = ANSWERERS[name][2]
        numbers = ", ".join(f"#{r['number']} {r['title']}" for r in matched) or "no row"
        print(f"{name:22} {'core    ' if core else 'optional'} {numbers}")
        if core and len(matched) != 1:
            status = 1
    return status


def main(argv):
    parser = argparse.ArgumentParser(prog="verify_report.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("report", help="summarise a report directory")
    p.add_argument("--dir", required=True)
    p.add_argument("--assumptions", default=None, help="docs/driverkit-assumptions.md")
    p.add_argument("--bundle-id", default=DEFAULT_BUNDLE_ID)
    p.add_argument("--driver-class", default=DEFAULT_DRIVER_CLASS)
    p.add_argument("--quiet", action="store_true", help="do not print summary.md")
    p.set_defaults(run=command_report)
    p = sub.add_parser("port", help="the first /dev/cu.* port of a --status --json file")
    p.add_argument("--status", required=True)
    p.set_defaults(run=command_port)
    p = sub.add_parser("answerers", help="which assumption rows the kit answers")
    p.add_argument("--assumptions", required=True)
    p.set_defaults(run=command_answerers)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
