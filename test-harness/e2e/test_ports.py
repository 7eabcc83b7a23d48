"""Ports users can find, and nothing misrouted: the run-directory rule,
usbserial-ports and the usbserial_ports module, stale links after a SIGKILL,
name clashes, /dev names."""
import errno
import json
import os
import signal
import subprocess
import sys

import pytest
import serial

from conftest import BRIDGE, SHIM_DIR, Bridge, plain_env

sys.path.insert(0, os.path.join(SHIM_DIR, "python"))
import usbserial_ports  # noqa: E402  (lives with the tools, see SHIM_DIR)

PORTS = os.path.join(SHIM_DIR, "usbserial-ports")


def ports_cli(run_dir, *args):
    return subprocess.run([PORTS, "--run-dir", run_dir, *args], capture_output=True, text=True,
                          timeout=20, env=plain_env())


def killed(b):
    """SIGKILLs a bridge (no clean-up of any kind) and waits for it."""
    b.process.send_signal(signal.SIGKILL)
    b.process.wait(timeout=10)
    b.stderr.close()


def test_the_run_directory_follows_the_documented_rule(bridge, tmp_path):
    chosen = tmp_path / "chosen"
    b = bridge("--sim", "ft232r", "--serial", "RULE1", run_dir=str(chosen),
               env={"USBSERIAL_RUN_DIR": str(chosen), "XDG_RUNTIME_DIR": str(tmp_path)})
    assert [os.path.dirname(p) for p in b.ports] == [str(chosen)]
    assert "ports in %s" % chosen in b.banner[1]
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    b = bridge("--sim", "ft232r", "--serial", "RULE2", run_dir=str(xdg / "usbserial-bridge"),
               env={"USBSERIAL_RUN_DIR": None, "XDG_RUNTIME_DIR": str(xdg)})
    assert [os.path.dirname(p) for p in b.ports] == [str(xdg / "usbserial-bridge")]
    default = "/tmp/usbserial-bridge-%d" % os.getuid()
    serial_string = "RULE3P%d" % os.getpid()
    b = bridge("--sim", "ft232r", "--serial", serial_string, run_dir=default,
               env={"USBSERIAL_RUN_DIR": None, "XDG_RUNTIME_DIR": None})
    assert [os.path.dirname(p) for p in b.ports] == [default]
    assert oct(os.stat(default).st_mode & 0o777) == "0o700"
    # The Python module applies the same rule.
    os.environ.pop("USBSERIAL_RUN_DIR", None)
    saved = os.environ.pop("XDG_RUNTIME_DIR", None)
    try:
        assert usbserial_ports.run_dir() == default
    finally:
        if saved is not None:
            os.environ["XDG_RUNTIME_DIR"] = saved


def test_a_run_directory_that_is_a_symlink_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    result = subprocess.run([BRIDGE, "--sim", "ft232r", "--run-dir", str(tmp_path / "link")],
                            capture_output=True, text=True, timeout=20, env=plain_env())
    assert result.returncode != 0
    assert "is not a directory (a symlink or a file is in the way)" in result.stderr
    assert os.listdir(tmp_path / "elsewhere") == []


def test_usbserial_ports_lists_and_finds_ports(bridge):
    b = bridge("--sim", "ft2232h", "--serial", "FIND")
    # The names depend on who names the ports (test_lifecycle.py checks them).
    names = [os.path.basename(p)[len("cu."):] for p in b.ports]
    listed = json.loads(ports_cli(b.run_dir, "--json").stdout)
    assert listed["run_dir"] == b.run_dir
    by_name = {p["name"]: p for p in listed["ports"]}
    assert sorted(by_name) == sorted(names)
    port_a = by_name[names[0]]
    assert port_a["callout"] == b.ports[0]
    assert (port_a["chip"], port_a["vid"], port_a["pid"]) == ("ft2232h", 0x0403, 0x6010)
    assert port_a["serial_number"] == "FIND"
    assert port_a["bridge_pid"] == b.process.pid
    assert port_a["line"] == "9600 8N1"
    with serial.Serial(b.ports[1], 57600, timeout=1):
        listed = json.loads(ports_cli(b.run_dir, "--json").stdout)
        lines = {p["callout"]: p["line"] for p in listed["ports"]}
        assert [lines[p] for p in b.ports] == ["9600 8N1", "57600 8N1"]
    text = ports_cli(b.run_dir).stdout
    assert b.ports[0] in text and "ft2232h" in text
    assert ports_cli(b.run_dir, "--find", names[1]).stdout.strip() == b.ports[1]
    missing = ports_cli(b.run_dir, "--find", "NOPE")
    assert missing.returncode == 1
    assert "no live port 'NOPE'" in missing.stderr and names[0] in missing.stderr


def test_pyserial_scripts_find_ports_by_name(bridge, monkeypatch):
    b = bridge("--sim", "ft232r", "--serial", "BYNAME")
    monkeypatch.setenv("USBSERIAL_RUN_DIR", b.run_dir)
    port_name = os.path.basename(b.ports[0])[len("cu."):]
    for name in (port_name, "cu." + port_name, "BYNAME"):
        assert usbserial_ports.find(name) == b.ports[0]
    with pytest.raises(LookupError):
        usbserial_ports.find("OTHER")
    [info] = usbserial_ports.comports()
    assert (info.device, info.vid, info.pid, info.serial_number) == (b.ports[0], 0x0403, 0x6001,
                                                                     "BYNAME")
    assert "VID:PID=0403:6001 SER=BYNAME" in info.hwid
    import serial.tools.list_ports as list_ports
    system = list_ports.comports
    usbserial_ports.install()
    try:
        assert [p.device for p in list_ports.grep("SER=BYNAME")] == [b.ports[0]]
        with serial.serial_for_url("hwgrep://BYNAME", 115200, timeout=1) as port:
            port.write(b"found by name")
            assert port.read(13) == b"found by name"
    finally:
        list_ports.comports = system


def test_after_sigkill_the_links_lead_nowhere_and_are_removed(tmp_path):
    run_dir = str(tmp_path)
    b = Bridge("--sim", "ft232r", "--serial", "KILLED", run_dir=run_dir)
    link = b.ports[0]
    target = os.readlink(link)
    assert target.startswith("/proc/%d/fd/" % b.process.pid)
    pts = json.loads(ports_cli(run_dir, "--json").stdout)["ports"][0]["pts"]
    killed(b)
    # The pty number is free again; whoever gets it next, the link cannot reach it.
    # A pty takes the lowest free number, and a test running beside this one may
    # free a lower one or take this one first: open ptys until one of ours has
    # it, or it is in use by someone else.
    others = []
    try:
        while len(others) < 64 and not any(os.ttyname(slave) == pts for _, slave in others):
            others.append(os.openpty())
        assert any(os.ttyname(slave) == pts for _, slave in others) or os.path.exists(pts)
        assert os.path.lexists(link) and not os.path.exists(link)
        with pytest.raises(OSError) as error:
            os.open(link, os.O_RDWR | os.O_NOCTTY)
        assert error.value.errno == errno.ENOENT
    finally:
        for master, slave in others:
            os.close(master)
            os.close(slave)
    listing = ports_cli(run_dir)
    name = os.path.basename(link)[len("cu."):]
    assert "removed the stale port %s (its bridge is gone)" % name in listing.stderr
    assert "no ports" in listing.stdout
    assert not os.path.lexists(link) and os.listdir(os.path.join(run_dir, ".ports")) == []


def test_a_new_bridge_cleans_up_after_a_killed_one_and_clashes_are_refused(bridge, tmp_path):
    run_dir = str(tmp_path)
    first = Bridge("--sim", "ft232r", "--serial", "SAME", run_dir=run_dir)
    killed(first)
    second = bridge("--sim", "ft232r", "--serial", "SAME", run_dir=run_dir)
    assert second.ports == first.ports
    name = os.path.basename(second.ports[0])[len("cu."):]
    assert "removed the stale port %s" % name in second.log()
    with serial.Serial(second.ports[0], 115200, timeout=1) as port:
        port.write(b"second")
        assert port.read(6) == b"second"
    # A live bridge keeps its name: a third one with the same port fails to start.
    clash = subprocess.run([BRIDGE, "--sim", "ft232r", "--serial", "SAME", "--run-dir", run_dir,
                            *second.model_args],
                           capture_output=True, text=True, timeout=20, env=plain_env())
    assert clash.returncode != 0
    assert "port %s is already published in %s by a running bridge" % (name, run_dir) \
        in clash.stderr
    assert os.readlink(second.ports[0]).startswith("/proc/%d/" % second.process.pid)


@pytest.mark.skipif(os.geteuid() != 0, reason="/dev names need root (CI runs as root)")
def test_dev_names_when_root(bridge, tmp_path):
    b = bridge("--sim", "ft232r", "--serial", "DEVN%d" % os.getpid(), "--dev-names")
    name = os.path.basename(b.ports[0])[len("cu."):]
    dev_links = ["/dev/cu." + name, "/dev/tty." + name]
    for link in dev_links:
        assert os.readlink(link) == os.readlink(b.ports[0])
    with serial.Serial(dev_links[0], 115200, timeout=1) as port:
        port.write(b"via /dev")
        assert port.read(8) == b"via /dev"
    b.stop()
    assert not any(os.path.lexists(link) for link in dev_links)
    # After a SIGKILL the /dev links dangle, and the next lister removes them.
    killed_bridge = Bridge("--sim", "ft232r", "--serial", "DEVK%d" % os.getpid(), "--dev-names",
                           run_dir=str(tmp_path))
    name = os.path.basename(killed_bridge.ports[0])[len("cu."):]
    killed(killed_bridge)
    assert os.path.lexists("/dev/cu." + name) and not os.path.exists("/dev/cu." + name)
    ports_cli(str(tmp_path))
    assert not os.path.lexists("/dev/cu." + name) and not os.path.lexists("/dev/tty." + name)


def test_a_lister_never_removes_a_live_port(bridge):
    b = bridge("--sim", "ft232r")
    for _ in range(3):
        assert [p["callout"] for p in json.loads(ports_cli(b.run_dir, "--json").stdout)["ports"]] \
            == b.ports
    assert os.path.exists(b.ports[0])
