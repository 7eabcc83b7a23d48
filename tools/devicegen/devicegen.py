#!/usr/bin/python3
"""devicegen: devices.ini (the one device data file) -> the driver's device table.

    devicegen.py --devices devices.ini --chips transport/device_table.cpp \
                 --cpp-out OUT/device_table_data.inc --plist-out OUT/device_table.plist

Reads the data file, checks every field, and writes
  --cpp-out    the constexpr kDevices and kClassRules arrays that transport/device_table.cpp
               includes (the runtime prober of the dext and of hostkit);
  --plist-out  the same table as an XML plist, which usbserial-plistgen turns into the
               Info.plist personalities and the transport.usb entitlement.
Either output may be left out. A file is rewritten only when its content changes.

The chip families and variants a device may name are read from the kVariants table of
transport/device_table.cpp (--chips), so a family added in C++ is usable here at once.

Errors name the file, the section and the field, and the exit status is 1; nothing is written
then. Standard library only (Python 3.9+: macOS builds run it with the system python3).
"""
import argparse
import configparser
import os
import plistlib
import re
import sys

DEVICE_PREFIX = "device:"
CLASS_PREFIX = "class:"

DEFAULT_TTY_BASE_NAME = "usbserial-"  # transport/tty_name.hpp kTtyBaseName
TTY_BASE_NAME_MAX = 32                # usbserial-doctor PERS-TTY-NAME
MAX_PORTS = 26                        # the tty suffix names ports A..Z (transport/tty_name.hpp)

# data-file name -> C++ enumerator (transport/device_table.hpp)
VARIANT_RULES = {"fixed": "fixed", "ftdi-by-bcd": "ftdi_by_bcd",
                 "pl2303-by-descriptor": "pl2303_by_descriptor"}
# A rule that picks the variant at run time applies to its own family only.
RULE_FAMILY = {"ftdi-by-bcd": "ftdi", "pl2303-by-descriptor": "pl2303"}
DRIVER_CLASSES = {"usb-serial": "usb_serial", "serial": "serial"}

DEVICE_FIELDS = {"vid", "pid", "family", "variant", "variant_rule", "first_interface", "ports",
                 "tty_base_name", "driver_class", "serial_number", "source"}
DEVICE_REQUIRED = {"vid", "pid", "family", "source"}
CLASS_FIELDS = {"interface_class", "interface_subclass", "family", "variant",
                "development_only"}
CLASS_REQUIRED = {"interface_class", "interface_subclass", "family"}


class DataError(Exception):
    """A problem with the data file, worded for the person who edits it."""


class Chips:
    """Families and variants the C++ side knows, by their data-file names."""

    ROW = re.compile(r'\{\s*ChipVariant::(\w+)\s*,\s*ChipFamily::(\w+)\s*,\s*"([^"]+)"')

    def __init__(self, table_source_text, where):
        self.variants = {}   # variant name -> (variant enumerator, family name)
        self.families = {}   # family name -> family enumerator
        for enumerator, family, name in self.ROW.findall(table_source_text):
            family_name = family.replace("_", "-")
            self.variants[name] = (enumerator, family_name)
            self.families[family_name] = family
        if not self.variants:
            raise DataError(f"{where}: no kVariants rows found (expected "
                            '{ChipVariant::x, ChipFamily::y, "name", ...})')

    def variants_of(self, family):
        return sorted(n for n, (_, f) in self.variants.items() if f == family)


def parse_int(text, what, low, high):
    try:
        value = int(text, 0)
    except ValueError:
        raise DataError(f"{what} = {text!r} is not a number (write 0x0CAD or 3245)") from None
    if not low <= value <= high:
        raise DataError(f"{what} = {text} is outside {low}..{high}")
    return value


def parse_bool(text, what):
    lowered = text.strip().lower()
    if lowered in ("yes", "true", "1"):
        return True
    if lowered in ("no", "false", "0"):
        return False
    raise DataError(f"{what} = {text!r} must be yes or no")


def printable(text, what):
    text = " ".join(text.split())  # a value continued on indented lines reads as one line
    if not text:
        raise DataError(f"{what} is empty")
    bad = [c for c in text if not " " <= c <= "~"]
    if bad:
        raise DataError(f"{what} has characters other than printable ASCII: {bad[0]!r}")
    return text


def check_fields(section, items, allowed, required):
    unknown = sorted(set(items) - allowed)
    if unknown:
        raise DataError(f"[{section}]: unknown field {unknown[0]!r} "
                        f"(fields: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(items))
    if missing:
        raise DataError(f"[{section}]: missing field {missing[0]!r}")


def pick_variant(chips, section, family, variant):
    if family not in chips.families:
        raise DataError(f"[{section}]: family = {family!r} is not a chip family of the driver "
                        f"(known: {', '.join(sorted(chips.families))})")
    choices = chips.variants_of(family)
    if variant is None:
        if len(choices) != 1:
            raise DataError(f"[{section}]: family {family} has several variants; name one "
                            f"with variant = ({', '.join(choices)})")
        return choices[0]
    if variant not in choices:
        raise DataError(f"[{section}]: variant = {variant!r} is not a variant of {family} "
                        f"(known: {', '.join(choices)})")
    return variant


def parse_device(chips, section, items):
    check_fields(section, items, DEVICE_FIELDS, DEVICE_REQUIRED)
    product = printable(section[len(DEVICE_PREFIX):].strip(), f"[{section}]: the product name")
    where = f"[{section}]:"
    family = items["family"]
    variant = pick_variant(chips, section, family, items.get("variant"))
    rule = items.get("variant_rule", "fixed")
    if rule not in VARIANT_RULES:
        raise DataError(f"{where} variant_rule = {rule!r} (known: {', '.join(VARIANT_RULES)})")
    if rule in RULE_FAMILY and family != RULE_FAMILY[rule]:
        raise DataError(f"{where} variant_rule = {rule} applies to family "
                        f"{RULE_FAMILY[rule]} only")
    first = parse_int(items.get("first_interface", "0"), f"{where} first_interface", 0, 255)
    ports = parse_int(items.get("ports", "1"), f"{where} ports", 1, MAX_PORTS)
    if first + ports - 1 > 255:
        raise DataError(f"{where} interfaces {first}..{first + ports - 1} go beyond 255")
    base = items.get("tty_base_name", DEFAULT_TTY_BASE_NAME)
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,%d}" % TTY_BASE_NAME_MAX, base):
        raise DataError(f"{where} tty_base_name = {base!r} must be 1..{TTY_BASE_NAME_MAX} "
                        "letters, digits, '.', '_' or '-' (it becomes /dev/cu.<base><suffix>)")
    serial_number = items.get("serial_number", "yes")
    if serial_number not in ("yes", "no"):
        raise DataError(f"{where} serial_number = {serial_number!r} must be yes or no (no: the "
                        "device has no serial-number string)")
    driver_class = items.get("driver_class", "usb-serial")
    if driver_class not in DRIVER_CLASSES:
        raise DataError(f"{where} driver_class = {driver_class!r} "
                        f"(known: {', '.join(DRIVER_CLASSES)})")
    return {
        "vid": parse_int(items["vid"], f"{where} vid", 0, 0xFFFF),
        "pid": parse_int(items["pid"], f"{where} pid", 0, 0xFFFF),
        "family": family,
        "variant": variant,
        "variant_rule": rule,
        "first_interface": first,
        "ports": ports,
        "product": product,
        "source": printable(items["source"], f"{where} source"),
        "tty_base_name": base,
        "driver_class": driver_class,
        "serial_number": serial_number == "yes",
    }


def parse_class_rule(chips, section, items):
    check_fields(section, items, CLASS_FIELDS, CLASS_REQUIRED)
    where = f"[{section}]:"
    family = items["family"]
    cls = parse_int(items["interface_class"], f"{where} interface_class", 0, 0xFF)
    if cls == 0xFF:
        raise DataError(f"{where} interface_class 0xFF is vendor specific and cannot be matched "
                        "by class; list the device by vid/pid instead")
    return {
        "interface_class": cls,
        "interface_subclass": parse_int(items["interface_subclass"],
                                        f"{where} interface_subclass", 0, 0xFF),
        "family": family,
        "variant": pick_variant(chips, section, family, items.get("variant")),
        "development_only": parse_bool(items.get("development_only", "no"),
                                       f"{where} development_only"),
        "product": printable(section[len(CLASS_PREFIX):].strip(), f"[{section}]: the name"),
    }


def personality_names(device):
    """The personality names usbserial-plistgen gives the device's ports."""
    if device["ports"] == 1:
        return [device["product"]]
    return [f"{device['product']} port {chr(ord('A') + i)}" for i in range(device["ports"])]


def load(devices_text, devices_path, chips):
    """Parses and checks the data file; returns (devices, class_rules)."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none",
                                       comment_prefixes=("#", ";"), strict=True)
    try:
        parser.read_string(devices_text, source=devices_path)
    except configparser.Error as error:
        raise DataError(str(error).replace("\n", " ")) from None
    devices, rules = [], []
    for section in parser.sections():
        items = dict(parser.items(section))
        if section.startswith(DEVICE_PREFIX):
            devices.append(parse_device(chips, section, items))
        elif section.startswith(CLASS_PREFIX):
            rules.append(parse_class_rule(chips, section, items))
        else:
            raise DataError(f"[{section}]: a section is [device: <product>] or [class: <name>]")
    if not devices:
        raise DataError("no [device: ...] section")
    seen_ids, seen_names = {}, {}
    for device in devices:
        key = (device["vid"], device["pid"])
        if key in seen_ids:
            raise DataError(f"[device: {device['product']}]: vid/pid {key[0]:04X}:{key[1]:04X} "
                            f"is already listed by [device: {seen_ids[key]}]")
        seen_ids[key] = device["product"]
        for name in personality_names(device):
            if name in seen_names:
                raise DataError(f"[device: {device['product']}]: personality name {name!r} is "
                                f"also made by [device: {seen_names[name]}]; rename one")
            seen_names[name] = device["product"]
    seen_classes = set()
    for rule in rules:
        key = (rule["interface_class"], rule["interface_subclass"])
        if key in seen_classes:
            raise DataError(f"[class: {rule['product']}]: class {key[0]:02X}/{key[1]:02X} is "
                            "listed twice")
        seen_classes.add(key)
    return devices, rules


def cpp_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_cpp(devices, rules, chips, devices_name):
    out = [f"// Generated by tools/devicegen/devicegen.py from {devices_name}. Do not edit:",
           f"// change {devices_name} and rebuild. Included by transport/device_table.cpp",
           "// inside namespace transport { namespace { ... } }.",
           "",
           f"constexpr std::array<DeviceEntry, {len(devices)}> kDevices = {{{{"]
    for d in devices:
        out.append(
            f"    {{0x{d['vid']:04X}, 0x{d['pid']:04X}, "
            f"ChipFamily::{chips.families[d['family']]}, "
            f"VariantRule::{VARIANT_RULES[d['variant_rule']]}, "
            f"ChipVariant::{chips.variants[d['variant']][0]}, {d['first_interface']}, "
            f"{d['ports']}, {cpp_string(d['product'])}, {cpp_string(d['source'])}, "
            f"{cpp_string(d['tty_base_name'])}, "
            f"DriverClass::{DRIVER_CLASSES[d['driver_class']]}, "
            f"{'true' if d['serial_number'] else 'false'}}},")
    out.append("}};")
    out.append("")
    out.append(f"constexpr std::array<ClassRule, {len(rules)}> kClassRules = {{{{")
    for r in rules:
        out.append(
            f"    {{0x{r['interface_class']:02X}, 0x{r['interface_subclass']:02X}, "
            f"ChipFamily::{chips.families[r['family']]}, "
            f"ChipVariant::{chips.variants[r['variant']][0]}, "
            f"{'true' if r['development_only'] else 'false'}, {cpp_string(r['product'])}}},")
    out.append("}};")
    return "\n".join(out) + "\n"


def render_plist(devices, rules):
    return plistlib.dumps({"devices": devices, "class_rules": rules}, sort_keys=False)


def write_if_changed(path, data):
    if isinstance(data, str):
        data = data.encode()
    try:
        with open(path, "rb") as existing:
            if existing.read() == data:
                return
    except FileNotFoundError:
        pass
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def main(argv=None):
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--devices", required=True, help="the data file (devices.ini)")
    args.add_argument("--chips", required=True,
                      help="transport/device_table.cpp (its kVariants table names the chips)")
    args.add_argument("--cpp-out", help="where to write device_table_data.inc")
    args.add_argument("--plist-out", help="where to write device_table.plist")
    options = args.parse_args(argv)
    try:
        try:
            with open(options.chips, encoding="utf-8") as f:
                chips = Chips(f.read(), options.chips)
            with open(options.devices, encoding="utf-8") as f:
                devices_text = f.read()
        except OSError as error:
            raise DataError(f"cannot read {error.filename}: {error.strerror}") from None
        devices, rules = load(devices_text, options.devices, chips)
    except DataError as error:
        print(f"devicegen: {options.devices}: {error}", file=sys.stderr)
        return 1
    if options.cpp_out:
        write_if_changed(options.cpp_out,
                         render_cpp(devices, rules, chips, os.path.basename(options.devices)))
    if options.plist_out:
        write_if_changed(options.plist_out, render_plist(devices, rules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
