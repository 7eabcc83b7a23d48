"""tools/devicegen: every check of the data file, the generated C++ and plist, and the
command line. Runs the generator's functions on small data files written here."""
import os
import plistlib
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))

import devicegen  # noqa: E402

CHIPS_SOURCE = os.path.join(ROOT, "transport", "device_table.cpp")
DEVICES = os.path.join(ROOT, "devices.ini")


@pytest.fixture(scope="module")
def chips():
    with open(CHIPS_SOURCE, encoding="utf-8") as f:
        return devicegen.Chips(f.read(), CHIPS_SOURCE)


def load(chips, text):
    return devicegen.load(text, "test.ini", chips)


RADIO = """
[device: Radio]
vid = 0x0CAD
pid = 0x9016
family = vendor-bulk
ports = 2
tty_base_name = tetra-pei-
source = descriptors
"""


def test_chips_come_from_the_kvariants_table(chips):
    assert {"cdc-acm", "ftdi", "vendor-bulk"} <= set(chips.families)
    assert chips.variants["ft-x"] == ("ft_x", "ftdi")
    assert chips.variants_of("cdc-acm") == ["cdc-acm"]
    assert "ft232r" in chips.variants_of("ftdi")
    with pytest.raises(devicegen.DataError, match="no kVariants rows"):
        devicegen.Chips("int x;", "empty.cpp")


def test_the_repository_data_file_loads(chips):
    with open(DEVICES, encoding="utf-8") as f:
        devices, rules = load(chips, f.read())
    by_id = {(d["vid"], d["pid"]): d for d in devices}
    ftdi = by_id[(0x0403, 0x6011)]
    assert (ftdi["family"], ftdi["variant"], ftdi["variant_rule"], ftdi["ports"]) == \
        ("ftdi", "ft4232h", "ftdi-by-bcd", 4)
    ch9102 = by_id[(0x1A86, 0x55D4)]
    assert (ch9102["variant"], ch9102["tty_base_name"], ch9102["driver_class"]) == \
        ("cdc-acm", "usbserial-", "serial")  # CDC-ACM needs the IOUserSerial class
    assert [(r["interface_class"], r["interface_subclass"], r["development_only"])
            for r in rules] == [(2, 2, True)]


def test_defaults_and_a_vendor_bulk_device(chips):
    devices, rules = load(chips, RADIO)
    assert rules == []
    assert devices == [{
        "vid": 0x0CAD, "pid": 0x9016, "family": "vendor-bulk", "variant": "vendor-bulk",
        "variant_rule": "fixed", "first_interface": 0, "ports": 2, "product": "Radio",
        "source": "descriptors", "tty_base_name": "tetra-pei-", "driver_class": "usb-serial",
        "serial_number": True}]
    assert devicegen.personality_names(devices[0]) == ["Radio port A", "Radio port B"]


def device(**fields):
    base = {"vid": "0x1209", "pid": "0x0001", "family": "vendor-bulk", "source": "s"}
    base.update(fields)
    lines = ["[device: Board]"] + [f"{k} = {v}" for k, v in base.items() if v is not None]
    return "\n".join(lines) + "\n"


BAD_DEVICES = [
    (device(colour="red"), "unknown field 'colour'"),
    (device(vid=None), "missing field 'vid'"),
    (device(source=None), "missing field 'source'"),
    (device(vid="0x10000"), "vid = 0x10000 is outside 0..65535"),
    (device(pid="-1"), "pid = -1 is outside"),
    (device(vid="0xZZ"), "is not a number"),
    (device(family="ch341"), "family = 'ch341' is not a chip family"),
    (device(family="ftdi"), "family ftdi has several variants"),
    (device(family="ftdi", variant="cdc-acm"), "variant = 'cdc-acm' is not a variant of ftdi"),
    (device(variant_rule="ftdi-by-bcd"), "ftdi-by-bcd applies to family ftdi only"),
    (device(variant_rule="guess"), "variant_rule = 'guess'"),
    (device(ports="0"), "ports = 0 is outside 1..26"),
    (device(ports="27"), "ports = 27 is outside 1..26"),
    (device(first_interface="250", ports="7"), "interfaces 250..256 go beyond 255"),
    (device(first_interface="256"), "first_interface = 256 is outside"),
    (device(tty_base_name="tetra pei"), "tty_base_name = 'tetra pei' must be"),
    (device(tty_base_name="a/b"), "tty_base_name = 'a/b' must be"),
    (device(tty_base_name="x" * 33), "must be 1..32"),
    (device(driver_class="hid"), "driver_class = 'hid'"),
    (device(driver_class="hid"), "driver_class = 'hid'"),
    (device(source="caf\u00e9"), "printable ASCII"),
    ("[device:   ]\nvid = 1\npid = 2\nfamily = vendor-bulk\nsource = s\n",
     "the product name is empty"),
    ("[board]\nvid = 1\n", "a section is [device: <product>] or [class: <name>]"),
    ("# nothing\n", "no [device: ...] section"),
    (device() + device(), "already exists"),                      # the same section twice
    (device() + "vid = 2\n", "already exists"),                   # the same field twice
    (device() + device(pid="0x0001").replace("Board", "Other"), "1209:0001 is already listed"),
    ("[device: A port B]\nvid = 1\npid = 1\nfamily = vendor-bulk\nsource = s\n"
     "[device: A]\nvid = 1\npid = 2\nports = 2\nfamily = vendor-bulk\nsource = s\n",
     "personality name 'A port B' is also made by [device: A port B]"),
]


@pytest.mark.parametrize("text,complaint", BAD_DEVICES)
def test_bad_devices_are_refused_with_a_clear_message(chips, text, complaint):
    with pytest.raises(devicegen.DataError) as error:
        load(chips, text)
    assert complaint in str(error.value)


def class_rule(**fields):
    base = {"interface_class": "0x02", "interface_subclass": "0x02", "family": "cdc-acm"}
    base.update(fields)
    return "[class: C]\n" + "".join(f"{k} = {v}\n" for k, v in base.items() if v is not None)


BAD_CLASS_RULES = [
    (class_rule(interface_class="0xFF"), "0xFF is vendor specific"),
    (class_rule(interface_subclass="0x100"), "interface_subclass = 0x100 is outside"),
    (class_rule(family=None), "missing field 'family'"),
    (class_rule(development_only="maybe"), "must be yes or no"),
    (class_rule(tty_base_name="x-"), "unknown field 'tty_base_name'"),
    (class_rule() + class_rule().replace("[class: C]", "[class: D]"), "02/02 is listed twice"),
]


@pytest.mark.parametrize("text,complaint", BAD_CLASS_RULES)
def test_bad_class_rules_are_refused(chips, text, complaint):
    with pytest.raises(devicegen.DataError) as error:
        load(chips, device() + text)
    assert complaint in str(error.value)


def test_cpp_rows_keep_the_device_entry_field_order(chips):
    text = device(tty_base_name="board-", first_interface="3") + class_rule(
        development_only="no")
    devices, rules = load(chips, text)
    cpp = devicegen.render_cpp(devices, rules, chips, "devices.ini")
    assert ('{0x1209, 0x0001, ChipFamily::vendor_bulk, VariantRule::fixed, '
            'ChipVariant::vendor_bulk, 3, 1, "Board", "s", "board-", '
            'DriverClass::usb_serial, true},') in cpp
    assert "constexpr std::array<DeviceEntry, 1> kDevices" in cpp
    assert ('{0x02, 0x02, ChipFamily::cdc_acm, ChipVariant::cdc_acm, false, "C"},') in cpp


def test_cpp_strings_are_escaped_and_continued_values_joined(chips):
    text = ('[device: Say "hi" \\ there]\nvid = 1\npid = 2\nfamily = vendor-bulk\n'
            'source = first line\n  second line\n')
    devices, rules = load(chips, text)
    assert devices[0]["source"] == "first line second line"
    cpp = devicegen.render_cpp(devices, rules, chips, "devices.ini")
    assert r'"Say \"hi\" \\ there"' in cpp
    assert "constexpr std::array<ClassRule, 0> kClassRules = {{\n}};" in cpp


def test_plist_holds_every_field(chips):
    devices, rules = load(chips, RADIO + class_rule())
    table = plistlib.loads(devicegen.render_plist(devices, rules))
    assert table["devices"] == devices
    assert table["class_rules"] == rules


def run_main(tmp_path, text):
    devices_path = tmp_path / "devices.ini"
    devices_path.write_text(text)
    cpp, plist = tmp_path / "out" / "t.inc", tmp_path / "out" / "t.plist"
    code = devicegen.main(["--devices", str(devices_path), "--chips", CHIPS_SOURCE,
                           "--cpp-out", str(cpp), "--plist-out", str(plist)])
    return code, cpp, plist


def test_main_writes_both_outputs_and_rewrites_only_on_change(tmp_path):
    code, cpp, plist = run_main(tmp_path, RADIO)
    assert code == 0
    assert "0x0CAD, 0x9016" in cpp.read_text()
    assert plistlib.loads(plist.read_bytes())["devices"][0]["tty_base_name"] == "tetra-pei-"
    os.utime(cpp, (1, 1))
    os.utime(plist, (1, 1))
    assert run_main(tmp_path, RADIO + "# a comment changes nothing\n")[0] == 0
    assert os.stat(cpp).st_mtime == 1 and os.stat(plist).st_mtime == 1
    assert run_main(tmp_path, RADIO.replace("tetra-pei-", "pei-"))[0] == 0
    assert os.stat(cpp).st_mtime != 1 and os.stat(plist).st_mtime != 1


def test_main_reports_errors_and_writes_nothing(tmp_path, capsys):
    code, cpp, plist = run_main(tmp_path, device(ports="0"))
    assert code == 1
    assert not cpp.exists() and not plist.exists()
    message = capsys.readouterr().err
    assert "devices.ini: [device: Board]: ports = 0" in message


def test_main_reports_a_missing_file(tmp_path, capsys):
    code = devicegen.main(["--devices", str(tmp_path / "none.ini"), "--chips", CHIPS_SOURCE])
    assert code == 1
    assert "cannot read" in capsys.readouterr().err


def test_serial_number_is_yes_or_no(chips):
    devices, _ = load(chips, RADIO + "serial_number = no\n")
    assert devices[0]["serial_number"] is False
    with pytest.raises(devicegen.DataError, match="serial_number = 'maybe' must be yes or no"):
        load(chips, RADIO + "serial_number = maybe\n")
