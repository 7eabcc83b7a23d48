#!/usr/bin/env python3
"""bundle_tool: assembles, finishes and checks the dext bundle and the host app.

One tool for both builds, so that the Linux build assembles exactly the layout the macOS build
ships, only with placeholder executables:

  assemble-dext  <id>.dext/{Info.plist, <CFBundleExecutable>, [embedded.provisionprofile]}
                 (the shallow layout of a driver extension: no Contents/ folder;
                 docs/driverkit-reference.md §4.1 item 5)
  assemble-app   App.app/Contents/{Info.plist, MacOS/<exe>, Library/SystemExtensions/<id>.dext,
                 [embedded.provisionprofile]} (§4.1 item 6)
  finish-info-plist  adds the DT* platform keys Xcode writes into a dext's Info.plist (§3.1)
  entitlements   the entitlements a bundle is signed with: the generated ones plus what a
                 provisioning profile carries for the team (§4.1 item 7), checked against the
                 profile
  check          verifies an assembled app (layout, plists, executables, architectures) and runs
                 usbserial-doctor on its dext

Exit status: 0 done / check clean, 1 check found problems or a step failed, 2 usage.
"""

import argparse
import os
import plistlib
import shutil
import stat
import struct
import subprocess
import sys

PLACEHOLDER_MARKER = b"USBSERIALBRIDGE-PLACEHOLDER-EXECUTABLE"
PLACEHOLDER_TEXT = (
    PLACEHOLDER_MARKER
    + b"\nNOT A MACH-O EXECUTABLE. This file stands where the real executable goes, in a bundle\n"
    b"assembled on a host without the DriverKit SDK to check the bundle's layout and plists.\n"
    b"It cannot be loaded, signed or run.\n"
)

# Mach-O CPU types (<mach/machine.h>): CPU_TYPE_X86_64, CPU_TYPE_ARM64.
CPU_TYPES = {0x01000007: "x86_64", 0x0100000C: "arm64"}
FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
THIN_MAGIC_64 = 0xFEEDFACF  # little-endian on disk as CF FA ED FE

SYSTEM_EXTENSIONS_DIR = os.path.join("Contents", "Library", "SystemExtensions")
# OSSystemExtensionRequest exists from macOS 10.15 on.
MIN_HOST_MACOS = (10, 15)


class ToolError(Exception):
    """A step cannot be done; the message says why."""


def read_plist(path):
    try:
        with open(path, "rb") as f:
            return plistlib.load(f)
    except FileNotFoundError:
        raise ToolError(f"{path}: no such file")
    except (plistlib.InvalidFileException, ValueError, OSError) as e:
        raise ToolError(f"{path}: not a property list ({e})")


def write_plist(path, value):
    data = plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=True)
    # Rewritten only when the content changes, so the file's time means something to the build.
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(data)


def profile_plist(path):
    """The property list inside a provisioning profile (a CMS envelope around XML)."""
    with open(path, "rb") as f:
        data = f.read()
    start = data.find(b"<?xml")
    end = data.find(b"</plist>")
    if start < 0 or end < start:
        raise ToolError(f"{path}: no property list inside (not a provisioning profile?)")
    try:
        return plistlib.loads(data[start : end + len(b"</plist>")])
    except (plistlib.InvalidFileException, ValueError) as e:
        raise ToolError(f"{path}: the embedded property list does not parse ({e})")


def bundle_executable_name(info, info_path):
    name = info.get("CFBundleExecutable") if isinstance(info, dict) else None
    if not isinstance(name, str) or not name or "/" in name:
        raise ToolError(f"{info_path}: CFBundleExecutable is missing or not a plain file name")
    return name


def install_executable(source, placeholder, destination):
    if placeholder:
        with open(destination, "wb") as f:
            f.write(PLACEHOLDER_TEXT)
    else:
        if not os.path.isfile(source):
            raise ToolError(f"{source}: the executable does not exist")
        shutil.copyfile(source, destination)
    mode = os.stat(destination).st_mode
    os.chmod(destination, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def fresh_directory(path, extension):
    if not path.endswith(extension):
        raise ToolError(f"{path}: the bundle folder must end in {extension}")
    if os.path.islink(path) or os.path.isfile(path):
        os.remove(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def assemble_dext(args):
    info = read_plist(args.info_plist)
    executable = bundle_executable_name(info, args.info_plist)
    bundle = os.path.normpath(args.bundle)
    fresh_directory(bundle, ".dext")
    shutil.copyfile(args.info_plist, os.path.join(bundle, "Info.plist"))
    install_executable(args.executable, args.placeholder, os.path.join(bundle, executable))
    if args.profile:
        shutil.copyfile(args.profile, os.path.join(bundle, "embedded.provisionprofile"))


def assemble_app(args):
    info = read_plist(args.info_plist)
    executable = bundle_executable_name(info, args.info_plist)
    app = os.path.normpath(args.app)
    dext = os.path.normpath(args.dext)
    if not os.path.isdir(dext):
        raise ToolError(f"{dext}: the dext bundle does not exist (assemble it first)")
    fresh_directory(app, ".app")
    contents = os.path.join(app, "Contents")
    os.makedirs(os.path.join(contents, "MacOS"))
    shutil.copyfile(args.info_plist, os.path.join(contents, "Info.plist"))
    install_executable(args.executable, args.placeholder, os.path.join(contents, "MacOS", executable))
    extensions = os.path.join(app, SYSTEM_EXTENSIONS_DIR)
    os.makedirs(extensions)
    shutil.copytree(dext, os.path.join(extensions, os.path.basename(dext)), symlinks=True)
    if args.profile:
        shutil.copyfile(args.profile, os.path.join(contents, "embedded.provisionprofile"))


def finish_info_plist(args):
    info = read_plist(args.input)
    minimum = info.get("OSMinimumDriverKitVersion")
    if minimum != args.min_driverkit:
        raise ToolError(
            f"{args.input}: OSMinimumDriverKitVersion is {minimum!r}, but the dext is built for "
            f"DriverKit {args.min_driverkit} (USBSERIAL_DRIVERKIT_MIN); make them agree"
        )
    # The keys Xcode adds when it builds a dext (§3.1).
    info["DTPlatformName"] = "driverkit"
    info["DTPlatformVersion"] = args.sdk_version
    info["DTSDKName"] = "driverkit" + args.sdk_version
    if args.sdk_build:
        info["DTSDKBuild"] = args.sdk_build
    write_plist(args.output, info)


def team_application_id_ok(value, team, bundle_id):
    if not isinstance(value, str):
        return False
    if value == f"{team}.{bundle_id}":
        return True
    # A wildcard App ID ("TEAM.*" or "TEAM.org.example.*") covers the bundle IDs under it.
    return value.endswith("*") and f"{team}.{bundle_id}".startswith(value[:-1])


def signing_entitlements(args):
    entitlements = read_plist(args.base)
    if not isinstance(entitlements, dict):
        raise ToolError(f"{args.base}: the root is not a dictionary")
    if args.team_id:
        if not args.bundle_id:
            raise ToolError("--team-id needs --bundle-id")
        entitlements["com.apple.application-identifier"] = f"{args.team_id}.{args.bundle_id}"
        entitlements["com.apple.developer.team-identifier"] = args.team_id
    if args.sandbox:
        entitlements["com.apple.security.app-sandbox"] = True
    if args.profile:
        profile = profile_plist(args.profile)
        teams = profile.get("TeamIdentifier", [])
        if args.team_id and args.team_id not in teams:
            raise ToolError(
                f"{args.profile}: the profile belongs to team(s) {', '.join(map(str, teams)) or '?'}"
                f", not to {args.team_id} (USBSERIAL_TEAM_ID)"
            )
        granted = profile.get("Entitlements", {})
        app_id = granted.get("com.apple.application-identifier", granted.get("application-identifier"))
        if args.team_id and not team_application_id_ok(app_id, args.team_id, args.bundle_id):
            raise ToolError(
                f"{args.profile}: the profile's App ID is {app_id!r}, which does not cover "
                f"{args.team_id}.{args.bundle_id}"
            )
    write_plist(args.output, entitlements)


# ---------------------------------------------------------------------------------------------
# check


def mach_o_architectures(path):
    """The architectures of a Mach-O file (thin or universal); None when it is not Mach-O."""
    with open(path, "rb") as f:
        header = f.read(8)
        if len(header) < 8:
            return None
        magic = struct.unpack(">I", header[:4])[0]
        if magic in (FAT_MAGIC, FAT_MAGIC_64):
            count = struct.unpack(">I", header[4:8])[0]
            entry_size = 20 if magic == FAT_MAGIC else 32
            if count == 0 or count > 16:
                return None
            archs = []
            for _ in range(count):
                entry = f.read(entry_size)
                if len(entry) < entry_size:
                    return None
                cpu = struct.unpack(">I", entry[:4])[0]
                archs.append(CPU_TYPES.get(cpu, hex(cpu)))
            return archs
        if struct.unpack("<I", header[:4])[0] == THIN_MAGIC_64:
            cpu = struct.unpack("<I", header[4:8])[0]
            return [CPU_TYPES.get(cpu, hex(cpu))]
    return None


def version_tuple(text):
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return None


class Checker:
    def __init__(self):
        self.problems = []
        self.passed = 0

    def expect(self, condition, problem):
        if condition:
            self.passed += 1
        else:
            self.problems.append(problem)
        return condition

    def load(self, path, what):
        try:
            value = read_plist(path)
        except ToolError as e:
            self.problems.append(f"{what}: {e}")
            return None
        if not self.expect(isinstance(value, dict), f"{what}: {path}: the root is not a dictionary"):
            return None
        return value

    def executable(self, path, what, placeholder, archs):
        if not self.expect(os.path.isfile(path), f"{what}: {path} is missing"):
            return
        self.expect(os.access(path, os.X_OK), f"{what}: {path} is not executable (mode bits)")
        with open(path, "rb") as f:
            head = f.read(len(PLACEHOLDER_MARKER))
        if placeholder:
            self.expect(
                head == PLACEHOLDER_MARKER,
                f"{what}: {path} should be the marked placeholder (this bundle has no real executables)",
            )
            return
        self.expect(head != PLACEHOLDER_MARKER, f"{what}: {path} is a placeholder, not the executable")
        found = mach_o_architectures(path)
        if not self.expect(found is not None, f"{what}: {path} is not a Mach-O executable"):
            return
        if archs:
            self.expect(
                sorted(found) == sorted(archs),
                f"{what}: {path} holds {', '.join(found)}; expected {', '.join(archs)}",
            )


def check_dext(checker, dext, args):
    what = "dext"
    name = os.path.basename(dext)
    checker.expect(
        name == args.dext_id + ".dext",
        f"{what}: the folder is {name}; the system looks for <CFBundleIdentifier>.dext = "
        f"{args.dext_id}.dext",
    )
    checker.expect(
        not os.path.exists(os.path.join(dext, "Contents")),
        f"{what}: {dext}/Contents exists; a dext is a shallow bundle (Info.plist and the "
        "executable at its top)",
    )
    info = checker.load(os.path.join(dext, "Info.plist"), what)
    if info is None:
        return
    checker.expect(
        info.get("CFBundleIdentifier") == args.dext_id,
        f"{what}: CFBundleIdentifier is {info.get('CFBundleIdentifier')!r}, expected {args.dext_id!r}",
    )
    checker.expect(info.get("CFBundlePackageType") == "DEXT", f"{what}: CFBundlePackageType is not DEXT")
    if args.min_driverkit:
        checker.expect(
            info.get("OSMinimumDriverKitVersion") == args.min_driverkit,
            f"{what}: OSMinimumDriverKitVersion is {info.get('OSMinimumDriverKitVersion')!r}; the "
            f"dext is built for DriverKit {args.min_driverkit}",
        )
    executable = info.get("CFBundleExecutable")
    if checker.expect(isinstance(executable, str) and executable, f"{what}: CFBundleExecutable is missing"):
        checker.executable(os.path.join(dext, executable), what, args.placeholder, args.archs)
    expected = {"Info.plist", "embedded.provisionprofile", "_CodeSignature", executable}
    extra = sorted(set(os.listdir(dext)) - expected)
    checker.expect(not extra, f"{what}: unexpected entries at the top of the bundle: {', '.join(extra)}")
    if args.signed:
        checker.expect(
            os.path.isfile(os.path.join(dext, "embedded.provisionprofile")),
            f"{what}: no embedded.provisionprofile in a signed dext",
        )
        checker.expect(
            os.path.isfile(os.path.join(dext, "_CodeSignature", "CodeResources")),
            f"{what}: not signed (_CodeSignature/CodeResources is missing)",
        )


def check_app(checker, app, args):
    what = "app"
    checker.expect(app.endswith(".app"), f"{what}: {app} does not end in .app")
    info = checker.load(os.path.join(app, "Contents", "Info.plist"), what)
    if info is not None:
        checker.expect(info.get("CFBundlePackageType") == "APPL", f"{what}: CFBundlePackageType is not APPL")
        app_id = info.get("CFBundleIdentifier")
        checker.expect(
            isinstance(app_id, str) and app_id and app_id != args.dext_id,
            f"{what}: CFBundleIdentifier {app_id!r} must be set and differ from the dext's",
        )
        minimum = version_tuple(info.get("LSMinimumSystemVersion", ""))
        checker.expect(
            minimum is not None and minimum >= MIN_HOST_MACOS,
            f"{what}: LSMinimumSystemVersion {info.get('LSMinimumSystemVersion')!r} is below 10.15, "
            "where OSSystemExtensionRequest starts",
        )
        executable = info.get("CFBundleExecutable")
        if checker.expect(isinstance(executable, str) and executable, f"{what}: CFBundleExecutable is missing"):
            checker.executable(
                os.path.join(app, "Contents", "MacOS", executable), what, args.placeholder, args.app_archs
            )
    if args.signed:
        checker.expect(
            os.path.isfile(os.path.join(app, "Contents", "_CodeSignature", "CodeResources")),
            f"{what}: not signed (Contents/_CodeSignature/CodeResources is missing)",
        )
    extensions = os.path.join(app, SYSTEM_EXTENSIONS_DIR)
    present = sorted(os.listdir(extensions)) if os.path.isdir(extensions) else []
    checker.expect(
        present == [args.dext_id + ".dext"],
        f"{what}: {SYSTEM_EXTENSIONS_DIR} holds {present or 'nothing'}; expected exactly "
        f"{args.dext_id}.dext",
    )


def run_doctor(checker, dext, args):
    command = [args.doctor, "check", dext]
    if args.entitlements:
        command += ["--entitlements", args.entitlements]
    if args.app_entitlements:
        command += ["--app-entitlements", args.app_entitlements]
    result = subprocess.run(command, capture_output=True, text=True)
    allowed = "0 = clean, 1 = warnings only" if args.doctor_warnings_ok else "0 = clean"
    checker.expect(
        result.returncode == 0 or (args.doctor_warnings_ok and result.returncode == 1),
        f"usbserial-doctor check exited {result.returncode} ({allowed}):\n"
        + (result.stdout + result.stderr).rstrip(),
    )


def check(args):
    checker = Checker()
    app = os.path.normpath(args.app)
    if not os.path.isdir(app):
        print(f"bundle check: {app} does not exist", file=sys.stderr)
        return 1
    check_app(checker, app, args)
    dext = os.path.join(app, SYSTEM_EXTENSIONS_DIR, args.dext_id + ".dext")
    if checker.expect(os.path.isdir(dext), f"dext: {dext} is missing"):
        check_dext(checker, dext, args)
        if args.doctor:
            run_doctor(checker, dext, args)
    kind = "placeholder executables" if args.placeholder else "real executables"
    if checker.problems:
        print(f"bundle check of {app} ({kind}): {len(checker.problems)} problem(s)", file=sys.stderr)
        for problem in checker.problems:
            print("  - " + problem.replace("\n", "\n    "), file=sys.stderr)
        return 1
    print(f"bundle check of {app} ({kind}): {checker.passed} checks passed")
    return 0


def arch_list(text):
    return [a for a in text.replace(";", ",").split(",") if a]


def main(argv):
    parser = argparse.ArgumentParser(prog="bundle_tool.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("assemble-dext", help="lay out <id>.dext")
    p.add_argument("--bundle", required=True)
    p.add_argument("--info-plist", required=True)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--executable")
    group.add_argument("--placeholder", action="store_true")
    p.add_argument("--profile", help="copied to embedded.provisionprofile")
    p.set_defaults(run=assemble_dext)

    p = sub.add_parser("assemble-app", help="lay out App.app with the dext embedded")
    p.add_argument("--app", required=True)
    p.add_argument("--info-plist", required=True)
    p.add_argument("--dext", required=True)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--executable")
    group.add_argument("--placeholder", action="store_true")
    p.add_argument("--profile", help="copied to Contents/embedded.provisionprofile")
    p.set_defaults(run=assemble_app)

    p = sub.add_parser("finish-info-plist", help="add the DriverKit platform keys")
    p.add_argument("--in", dest="input", required=True)
    p.add_argument("--out", dest="output", required=True)
    p.add_argument("--sdk-version", required=True)
    p.add_argument("--sdk-build", default="")
    p.add_argument("--min-driverkit", required=True)
    p.set_defaults(run=finish_info_plist)

    p = sub.add_parser("entitlements", help="the entitlements to sign with")
    p.add_argument("--base", required=True)
    p.add_argument("--out", dest="output", required=True)
    p.add_argument("--team-id", default="")
    p.add_argument("--bundle-id", default="")
    p.add_argument("--profile", default="", help="checked: team and App ID must match")
    p.add_argument("--sandbox", action="store_true", help="add com.apple.security.app-sandbox")
    p.set_defaults(run=signing_entitlements)

    p = sub.add_parser("check", help="verify an assembled app and its dext")
    p.add_argument("--app", required=True)
    p.add_argument("--dext-id", required=True)
    p.add_argument("--min-driverkit", default="")
    p.add_argument("--placeholder", action="store_true", help="the executables are placeholders")
    p.add_argument("--archs", type=arch_list, default=[], help="the dext's architectures")
    p.add_argument("--app-archs", type=arch_list, default=[], help="the app's architectures")
    p.add_argument("--signed", action="store_true", help="require signatures and the profile")
    p.add_argument("--doctor", help="usbserial-doctor, run as `check <dext>`")
    p.add_argument("--entitlements", help="the dext's entitlements, for the doctor")
    p.add_argument("--app-entitlements", help="the app's entitlements, for the doctor")
    p.add_argument(
        "--doctor-warnings-ok",
        action="store_true",
        help="accept the doctor's warnings (development plists: class matching, idVendor \"*\")",
    )
    p.set_defaults(run=check)

    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except ToolError as e:
        print(f"bundle_tool {args.command}: {e}", file=sys.stderr)
        return 1
    return status or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
