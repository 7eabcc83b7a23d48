"""Real terminal programs, as a user runs them: picocom and tio under
usbserial-run in tmux, on the two ends of a null-modem cable, at 7E1. What one
types must appear on the other's screen, and both chips must run the framing
asked for (without the shim a pty silently keeps 8N1)."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import SHIM_DIR, plain_env

RUN = os.path.join(SHIM_DIR, "usbserial-run")

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("picocom") is None or shutil.which("tio") is None,
    reason="tmux, picocom and tio come from test-harness/scripts/deps.sh")


class Tmux:
    """A private tmux server (its own socket), stopped at the end."""

    def __init__(self):
        self.socket = "usbserial-e2e-%d" % os.getpid()
        self.env = plain_env(TERM="xterm")

    def run(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=20, env=self.env)

    def start(self, name, command):
        result = self.run("new-session", "-d", "-s", name, "-x", "120", "-y", "30", command)
        assert result.returncode == 0, result.stderr

    def type(self, name, text):
        self.run("send-keys", "-t", name, "-l", text)

    def keys(self, name, *keys):
        self.run("send-keys", "-t", name, *keys)

    def screen(self, name):
        return self.run("capture-pane", "-p", "-t", name).stdout

    def wait_for(self, name, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen(name):
                return True
            time.sleep(0.05)
        raise AssertionError("%r never appeared on %s's screen:\n%s" % (text, name,
                                                                      self.screen(name)))

    def stop(self):
        self.run("kill-server")


@pytest.fixture
def tmux():
    t = Tmux()
    yield t
    t.stop()


def test_picocom_and_tio_talk_at_7e1_through_a_null_modem_cable(bridge, tmux):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    ftdi_path, cdc_path = b.ports
    tmux.start("picocom", "%s picocom -b 57600 -d 7 -y e %s" % (RUN, ftdi_path))
    tmux.start("tio", "%s tio -b 57600 -d 7 -p even %s" % (RUN, cdc_path))
    tmux.wait_for("picocom", "Terminal ready")
    tmux.wait_for("tio", "Connected")
    status = b.status()
    ftdi_line = status["devices"][0]["ports"][0]["line"]
    cdc_line = status["devices"][1]["ports"][0]["line"]
    assert (ftdi_line["data_bits"], ftdi_line["parity"]) == (7, "even")
    assert abs(ftdi_line["baud"] - 57553.96) < 1  # 3 MHz / 52.125, the FT232R's nearest
    assert (cdc_line["data_bits"], cdc_line["parity"], cdc_line["baud"]) == (7, "even", 57600)

    tmux.type("picocom", "hello from picocom")
    tmux.wait_for("tio", "hello from picocom")
    tmux.type("tio", "and back from tio")
    tmux.wait_for("picocom", "and back from tio")
    assert status["devices"][0]["ports"][0]["counters"]["parity_errors"] == 0
    assert b.status()["devices"][1]["ports"][0]["counters"]["framing_errors"] == 0

    tmux.keys("picocom", "C-a", "C-x")  # picocom's exit
    tmux.wait_for("picocom", "Thanks for using picocom")
    tmux.keys("tio", "C-t", "q")  # tio's quit
    b.wait_for(lambda: not any(p["active"] for p in b.status()["ports"]),
               what="both ports closed")


def test_a_setting_the_chip_refuses_is_shown_on_the_users_screen(bridge, tmux):
    b = bridge("--sim", "ft232r")
    # FTDI parts have no 5-bit frames: picocom's tcsetattr fails, and the user
    # reads why on the terminal instead of getting 8N1 without a word.
    tmux.start("picocom", "%s picocom -b 9600 -d 5 %s; sleep 30" % (RUN, b.ports[0]))
    tmux.wait_for("picocom", "5 data bits refused by the driver (unsupported)")
    assert b.sim_port()["line"]["data_bits"] == 8
