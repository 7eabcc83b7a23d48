"""The one-data-file claim: a driver developer adds a vendor bulk device by editing
devices.ini alone. In a temporary directory, a copy of the repository's devices.ini gets a
new device (its VID/PID, interfaces and tty base name); then the same tools the build runs
(tools/devicegen, usbserial-plistgen) produce the table, the personalities and the
entitlement, usbserial-doctor checks them, and the generated C++ table, compiled with the
unchanged transport/ sources, drives the new device's interfaces under its own name.

Environment (set by tools/devicegen/CMakeLists.txt): USBSERIAL_PLISTGEN, USBSERIAL_DOCTOR,
CXX, USBSERIAL_BUNDLE_ID, USBSERIAL_DRIVER_CLASS."""
import glob
import os
import plistlib
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEVICEGEN = os.path.join(ROOT, "tools", "devicegen", "devicegen.py")

NEW_DEVICE = """
# Added by a driver developer: a board whose debug console is two vendor bulk pairs.
[device: Example board console]
vid = 0x16C0
pid = 0x5AD0
family = vendor-bulk
first_interface = 2
ports = 2
tty_base_name = board-
source = the board's descriptors: interfaces 2 and 3 class 0xFF, one bulk pair each
"""

# A probe built from the generated table and the unchanged transport/ sources: it identifies
# interfaces 1..4 of the new board (2 and 3 are its ports) and prints what the dext would
# publish for each: the family, the port index and the tty name (no serial string).
PROBE = r"""
#include <cstdio>
#include <vector>
#include "transport/port_identity.hpp"
#include "transport/tty_name.hpp"

int main() {
  using namespace transport;
  std::vector<uint8_t> c = {9, 2, 0, 0, 4, 1, 0, 0x80, 50};
  for (uint8_t i = 1; i <= 4; ++i) {
    const uint8_t itf[] = {9, 4, i, 0, 2, 0xFF, 0, 0, 0,
                           7, 5, uint8_t(0x80 | i), 2, 0, 2, 0,
                           7, 5, i, 2, 0, 2, 0};
    c.insert(c.end(), itf, itf + sizeof itf);
  }
  c[2] = uint8_t(c.size());
  c[3] = uint8_t(c.size() >> 8);
  usb::Configuration config;
  if (usb::parse_configuration(c, config) != Status::ok) return 2;
  usb::DeviceDescriptor device;
  device.vendor_id = 0x16C0;
  device.product_id = 0x5AD0;
  for (uint8_t i = 1; i <= 4; ++i) {
    PortIdentity id;
    const Status status = identify_port(device, config, i, id);
    if (status != Status::ok) {
      std::printf("interface %u: %s\n", i, to_string(status));
      continue;
    }
    char suffix[kTtySuffixMax + 1];
    make_tty_suffix(nullptr, device.vendor_id, device.product_id, id.config.port_index,
                    id.port_count, suffix);
    std::printf("interface %u: %s port %u cu.%s%s\n", i, to_string(id.family),
                id.config.port_index, id.tty_base_name, suffix);
  }
  return 0;
}
"""


def need(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (run this test through ctest)")
    return value


def run(*args, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300,
                          **kwargs)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The developer's edit, and everything the build makes of it, in a temporary tree."""
    tmp = tmp_path_factory.mktemp("one-data-file")
    devices = tmp / "devices.ini"
    shutil.copyfile(os.path.join(ROOT, "devices.ini"), devices)
    with open(devices, "a", encoding="utf-8") as f:
        f.write(NEW_DEVICE)
    gen = tmp / "generated"
    made = run(sys.executable, DEVICEGEN, "--devices", devices,
               "--chips", os.path.join(ROOT, "transport", "device_table.cpp"),
               "--cpp-out", gen / "device_table_data.inc",
               "--plist-out", gen / "device_table.plist")
    assert made.returncode == 0, made.stderr
    plists = run(need("USBSERIAL_PLISTGEN"), "--device-table", gen / "device_table.plist",
                 "--template", os.path.join(ROOT, "Info.plist.in"),
                 "--bundle-id", need("USBSERIAL_BUNDLE_ID"),
                 "--driver-class", need("USBSERIAL_DRIVER_CLASS"),
                 "--serial-driver-class", need("USBSERIAL_SERIAL_DRIVER_CLASS"), "--version", "1.0",
                 "--info-plist", tmp / "Info.plist", "--entitlements", tmp / "Entitlements.plist")
    assert plists.returncode == 0, plists.stderr
    return tmp


def load(path):
    with open(path, "rb") as f:
        return plistlib.load(f)


def test_the_new_device_gets_one_personality_per_interface(work):
    personalities = load(work / "Info.plist")["IOKitPersonalities"]
    for port, interface in (("A", 2), ("B", 3)):
        p = personalities[f"Example board console port {port}"]
        assert (p["idVendor"], p["idProduct"], p["bInterfaceNumber"]) == (0x16C0, 0x5AD0,
                                                                          interface)
        assert p["bConfigurationValue"] == 1
        assert p["IOTTYBaseName"] == "board-"
        assert p["IOUserClass"] == need("USBSERIAL_DRIVER_CLASS")
        assert p["IOProviderClass"] == "IOUSBHostInterface"
    # Every device that was there still is: the radio keeps its own base name.
    assert personalities["TETRA radio PEI port B"]["IOTTYBaseName"] == "tetra-pei-"
    assert personalities["FTDI FT232H"]["IOTTYBaseName"] == "usbserial-"


def test_the_entitlement_covers_the_new_vendor(work):
    usb = load(work / "Entitlements.plist")["com.apple.developer.driverkit.transport.usb"]
    vendors = [entry["idVendor"] for entry in usb]
    assert 0x16C0 in vendors
    assert {0x0403, 0x0CAD} <= set(vendors)
    assert {0x0403, 0x0CAD, 0x10C4, 0x1A86, 0x1209} <= set(vendors)
    assert "*" not in vendors  # production plists: no wildcard


def test_usbserial_doctor_passes_the_result(work):
    check = run(need("USBSERIAL_DOCTOR"), "check", work / "Info.plist", "--entitlements",
                work / "Entitlements.plist")
    assert check.returncode == 0, check.stdout + check.stderr
    # And it would have caught the entitlement had it not followed the data file.
    stale = run(need("USBSERIAL_DOCTOR"), "check", work / "Info.plist", "--entitlements",
                os.path.join(ROOT, "Entitlements.plist"))
    assert stale.returncode == 2, stale.stdout
    assert "ENT-USB-COVERAGE" in stale.stdout and "vendor 0x16C0" in stale.stdout, stale.stdout


def test_the_generated_table_drives_the_new_device_with_unchanged_cpp(work):
    sources = sorted(glob.glob(os.path.join(ROOT, "transport", "*.cpp")) +
                     glob.glob(os.path.join(ROOT, "transport", "chips", "*.cpp")))
    probe = work / "probe.cpp"
    probe.write_text(PROBE)
    binary = work / "probe"
    built = run(need("CXX"), "-std=c++20", "-fno-exceptions", "-fno-rtti", "-I", ROOT,
                "-I", work / "generated", probe, *sources, "-o", binary)
    assert built.returncode == 0, built.stderr
    result = run(binary)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "interface 1: unsupported",
        "interface 2: vendor-bulk port 0 cu.board-16C05AD0A",
        "interface 3: vendor-bulk port 1 cu.board-16C05AD0B",
        "interface 4: unsupported",
    ]
