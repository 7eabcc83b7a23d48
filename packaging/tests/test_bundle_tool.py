"""bundle_tool.py: the layout it assembles, and the mistakes its check must catch.

Mach-O headers here are hand-made: a fat header (big-endian magic 0xCAFEBABE, count, then one
20-byte entry per slice starting with the CPU type) or a thin 64-bit header (0xFEEDFACF
little-endian, then the CPU type), as <mach-o/fat.h> and <mach-o/loader.h> lay them out.
"""

import os
import plistlib
import shutil
import stat
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(os.path.dirname(HERE), "bundle_tool.py")
sys.path.insert(0, os.path.dirname(HERE))
import bundle_tool  # noqa: E402

DEXT_ID = "org.example.serial"
APP_ID = "org.example.app"
ARM64 = 0x0100000C
X86_64 = 0x01000007


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def write_plist(path, value):
    with open(path, "wb") as f:
        plistlib.dump(value, f)
    return path


def fat_binary(path, cpus):
    data = struct.pack(">II", 0xCAFEBABE, len(cpus))
    for cpu in cpus:
        data += struct.pack(">IIIII", cpu, 0, 4096, 1024, 12)
    with open(path, "wb") as f:
        f.write(data + b"\0" * 64)
    os.chmod(path, 0o755)
    return path


def thin_binary(path, cpu):
    with open(path, "wb") as f:
        f.write(struct.pack("<II", 0xFEEDFACF, cpu) + b"\0" * 64)
    os.chmod(path, 0o755)
    return path


@pytest.fixture
def plists(tmp_path):
    dext_info = write_plist(
        tmp_path / "dext-Info.plist",
        {
            "CFBundleIdentifier": DEXT_ID,
            "CFBundleExecutable": DEXT_ID,
            "CFBundlePackageType": "DEXT",
            "OSMinimumDriverKitVersion": "20.0",
        },
    )
    app_info = write_plist(
        tmp_path / "app-Info.plist",
        {
            "CFBundleIdentifier": APP_ID,
            "CFBundleExecutable": "Host",
            "CFBundlePackageType": "APPL",
            "LSMinimumSystemVersion": "10.15",
        },
    )
    return tmp_path, str(dext_info), str(app_info)


def assemble(tmp_path, dext_info, app_info, dext_exe=None, app_exe=None, profile=None):
    dext = str(tmp_path / "stage" / (DEXT_ID + ".dext"))
    app = str(tmp_path / "out" / "Host.app")
    exe_args = ["--executable", dext_exe] if dext_exe else ["--placeholder"]
    extra = ["--profile", profile] if profile else []
    r = run("assemble-dext", "--bundle", dext, "--info-plist", dext_info, *exe_args, *extra)
    assert r.returncode == 0, r.stderr
    exe_args = ["--executable", app_exe] if app_exe else ["--placeholder"]
    r = run("assemble-app", "--app", app, "--info-plist", app_info, "--dext", dext, *exe_args)
    assert r.returncode == 0, r.stderr
    return app


def check(app, *extra):
    return run("check", "--app", app, "--dext-id", DEXT_ID, "--min-driverkit", "20.0", *extra)


def embedded(app):
    return os.path.join(app, "Contents", "Library", "SystemExtensions", DEXT_ID + ".dext")


def test_placeholder_layout_is_shallow_and_complete(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    dext = embedded(app)
    assert sorted(os.listdir(dext)) == ["Info.plist", DEXT_ID]
    assert sorted(os.listdir(os.path.join(app, "Contents"))) == ["Info.plist", "Library", "MacOS"]
    exe = os.path.join(dext, DEXT_ID)
    assert os.stat(exe).st_mode & stat.S_IXUSR
    with open(exe, "rb") as f:
        assert f.read().startswith(bundle_tool.PLACEHOLDER_MARKER)
    r = check(app, "--placeholder")
    assert r.returncode == 0, r.stderr
    assert "checks passed" in r.stdout


def test_a_placeholder_is_refused_where_a_real_executable_is_expected(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    r = check(app)
    assert r.returncode == 1
    assert "is a placeholder, not the executable" in r.stderr


def test_universal_executables_pass_and_a_missing_slice_fails(plists):
    tmp, dext_info, app_info = plists
    dext_exe = fat_binary(str(tmp / "dext-bin"), [ARM64, X86_64])
    app_exe = fat_binary(str(tmp / "app-bin"), [X86_64, ARM64])
    app = assemble(tmp, dext_info, app_info, dext_exe, app_exe)
    assert check(app, "--archs", "arm64,x86_64", "--app-archs", "arm64,x86_64").returncode == 0

    thin = thin_binary(str(tmp / "thin"), ARM64)
    app = assemble(tmp, dext_info, app_info, thin, app_exe)
    r = check(app, "--archs", "arm64,x86_64")
    assert r.returncode == 1
    assert "holds arm64; expected arm64, x86_64" in r.stderr


def test_mach_o_reader():
    assert bundle_tool.mach_o_architectures(__file__) is None


def test_deep_dext_layout_is_refused(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    dext = embedded(app)
    os.makedirs(os.path.join(dext, "Contents", "MacOS"))
    shutil.move(os.path.join(dext, DEXT_ID), os.path.join(dext, "Contents", "MacOS", DEXT_ID))
    r = check(app, "--placeholder")
    assert r.returncode == 1
    assert "Contents exists; a dext is a shallow bundle" in r.stderr
    assert f"{DEXT_ID} is missing" in r.stderr


def test_dext_folder_must_be_named_after_its_bundle_id(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    dext = embedded(app)
    os.rename(dext, os.path.join(os.path.dirname(dext), "Driver.dext"))
    r = check(app, "--placeholder")
    assert r.returncode == 1
    assert "holds ['Driver.dext']; expected exactly " + DEXT_ID + ".dext" in r.stderr


def test_dext_outside_system_extensions_is_refused(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    shutil.move(embedded(app), os.path.join(app, "Contents", "PlugIns"))
    r = check(app, "--placeholder")
    assert r.returncode == 1
    assert "Library/SystemExtensions holds nothing" in r.stderr


def test_minimum_driverkit_must_match_the_build(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    r = run("check", "--app", app, "--dext-id", DEXT_ID, "--min-driverkit", "21.0", "--placeholder")
    assert r.returncode == 1
    assert "OSMinimumDriverKitVersion is '20.0'; the dext is built for DriverKit 21.0" in r.stderr


def test_executable_name_comes_from_the_plist(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    dext = embedded(app)
    os.rename(os.path.join(dext, DEXT_ID), os.path.join(dext, "Driver"))
    r = check(app, "--placeholder")
    assert r.returncode == 1
    assert f"{DEXT_ID} is missing" in r.stderr
    assert "unexpected entries at the top of the bundle: Driver" in r.stderr


def test_app_plist_mistakes(plists):
    tmp, dext_info, _ = plists
    bad = write_plist(
        tmp / "bad-app.plist",
        {
            "CFBundleIdentifier": DEXT_ID,
            "CFBundleExecutable": "Host",
            "CFBundlePackageType": "BNDL",
            "LSMinimumSystemVersion": "10.14",
        },
    )
    app = assemble(tmp, dext_info, str(bad))
    r = check(app, "--placeholder")
    assert r.returncode == 1
    assert "CFBundlePackageType is not APPL" in r.stderr
    assert "must be set and differ from the dext's" in r.stderr
    assert "below 10.15" in r.stderr


def test_signed_bundle_needs_signatures_and_a_profile(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    r = check(app, "--placeholder", "--signed")
    assert r.returncode == 1
    assert "no embedded.provisionprofile in a signed dext" in r.stderr
    assert "dext: not signed" in r.stderr
    assert "app: not signed" in r.stderr


def test_assembling_again_removes_stale_content(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    stale = os.path.join(app, "Contents", "Resources")
    os.makedirs(stale)
    app = assemble(tmp, dext_info, app_info)
    assert not os.path.exists(stale)


def test_assemble_refuses_a_plist_without_executable(plists):
    tmp, _, _ = plists
    info = write_plist(tmp / "no-exe.plist", {"CFBundleIdentifier": DEXT_ID})
    r = run("assemble-dext", "--bundle", str(tmp / (DEXT_ID + ".dext")), "--info-plist", str(info),
            "--placeholder")
    assert r.returncode == 1
    assert "CFBundleExecutable is missing" in r.stderr


def test_finish_adds_platform_keys_and_checks_the_minimum(plists):
    tmp, dext_info, _ = plists
    out = str(tmp / "finished.plist")
    r = run("finish-info-plist", "--in", dext_info, "--out", out, "--sdk-version", "24.2",
            "--sdk-build", "24C94", "--min-driverkit", "20.0")
    assert r.returncode == 0, r.stderr
    with open(out, "rb") as f:
        info = plistlib.load(f)
    assert info["DTPlatformName"] == "driverkit"
    assert info["DTSDKName"] == "driverkit24.2"
    assert info["DTPlatformVersion"] == "24.2"
    assert info["DTSDKBuild"] == "24C94"
    assert info["CFBundleIdentifier"] == DEXT_ID
    r = run("finish-info-plist", "--in", dext_info, "--out", out, "--sdk-version", "24.2",
            "--min-driverkit", "19.0")
    assert r.returncode == 1
    assert "USBSERIAL_DRIVERKIT_MIN" in r.stderr


def profile_file(path, team, app_id):
    body = plistlib.dumps({"TeamIdentifier": [team], "Entitlements": {
        "com.apple.application-identifier": app_id, "com.apple.developer.driverkit": True}})
    # A CMS envelope around the XML, as in a real .provisionprofile.
    with open(path, "wb") as f:
        f.write(b"\x30\x82\x10\x00junk" + body + b"\x00\x00signature")
    return str(path)


def test_signing_entitlements_add_the_team_and_check_the_profile(tmp_path):
    base = write_plist(tmp_path / "base.plist", {"com.apple.developer.driverkit": True})
    out = str(tmp_path / "out.plist")
    good = profile_file(tmp_path / "good.provisionprofile", "ABCDE12345", "ABCDE12345." + DEXT_ID)
    r = run("entitlements", "--base", str(base), "--out", out, "--team-id", "ABCDE12345",
            "--bundle-id", DEXT_ID, "--profile", good, "--sandbox")
    assert r.returncode == 0, r.stderr
    with open(out, "rb") as f:
        merged = plistlib.load(f)
    assert merged == {
        "com.apple.developer.driverkit": True,
        "com.apple.application-identifier": "ABCDE12345." + DEXT_ID,
        "com.apple.developer.team-identifier": "ABCDE12345",
        "com.apple.security.app-sandbox": True,
    }

    wildcard = profile_file(tmp_path / "wild.provisionprofile", "ABCDE12345", "ABCDE12345.*")
    assert run("entitlements", "--base", str(base), "--out", out, "--team-id", "ABCDE12345",
               "--bundle-id", DEXT_ID, "--profile", wildcard).returncode == 0

    other_team = profile_file(tmp_path / "other.provisionprofile", "ZZZZZ99999", "ZZZZZ99999.*")
    r = run("entitlements", "--base", str(base), "--out", out, "--team-id", "ABCDE12345",
            "--bundle-id", DEXT_ID, "--profile", other_team)
    assert r.returncode == 1
    assert "belongs to team(s) ZZZZZ99999, not to ABCDE12345" in r.stderr

    other_app = profile_file(tmp_path / "app.provisionprofile", "ABCDE12345", "ABCDE12345." + APP_ID)
    r = run("entitlements", "--base", str(base), "--out", out, "--team-id", "ABCDE12345",
            "--bundle-id", DEXT_ID, "--profile", other_app)
    assert r.returncode == 1
    assert "does not cover ABCDE12345." + DEXT_ID in r.stderr


def test_profile_without_plist_is_an_error(tmp_path):
    base = write_plist(tmp_path / "base.plist", {})
    junk = tmp_path / "junk.provisionprofile"
    junk.write_bytes(b"not a profile")
    r = run("entitlements", "--base", str(base), "--out", str(tmp_path / "o.plist"), "--profile",
            str(junk))
    assert r.returncode == 1
    assert "no property list inside" in r.stderr


def fake_doctor(tmp_path, status):
    doctor = tmp_path / f"doctor-{status}"
    doctor.write_text(f"#!/bin/sh\necho 'warning PERS-CLASS-MATCH-DEV'\nexit {status}\n")
    doctor.chmod(0o755)
    return str(doctor)


def test_doctor_warnings_fail_unless_allowed(plists):
    tmp, dext_info, app_info = plists
    app = assemble(tmp, dext_info, app_info)
    warn = fake_doctor(tmp, 1)
    r = check(app, "--placeholder", "--doctor", warn)
    assert r.returncode == 1
    assert "usbserial-doctor check exited 1 (0 = clean)" in r.stderr
    assert check(app, "--placeholder", "--doctor", warn, "--doctor-warnings-ok").returncode == 0
    r = check(app, "--placeholder", "--doctor", fake_doctor(tmp, 2), "--doctor-warnings-ok")
    assert r.returncode == 1
    assert "exited 2" in r.stderr
