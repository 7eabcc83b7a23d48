#!/usr/bin/python3
"""Proves that hostkit rejects, at compile time, a construct DriverKit rejects or
would miscompile on a Mac.

Each case file holds one construct twice: the good form, and under
HOSTKIT_COMPILE_FAIL the bad one. The case passes when the good form compiles
(so the file itself is sound) and the bad form fails with an error matching the
file's `// EXPECT: <regex>` line.

Usage: check_compile_fail.py CASE.cpp -- COMPILER FLAGS...
"""
import os
import re
import subprocess
import sys


def compile_case(command, case, define):
    args = [*command, "-fsyntax-only", "-x", "c++", case]
    if define:
        args.insert(1, "-DHOSTKIT_COMPILE_FAIL")
    # LC_ALL=C: plain quotes in the compiler's messages.
    return subprocess.run(args, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})


def main():
    if "--" not in sys.argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = sys.argv.index("--")
    case, command = sys.argv[1], sys.argv[split + 1:]
    with open(case, encoding="utf-8") as f:
        expect = re.search(r"^// EXPECT: (.+)$", f.read(), re.M)
    if not expect:
        print(f"{case}: no // EXPECT: line", file=sys.stderr)
        return 2
    good = compile_case(command, case, False)
    if good.returncode != 0:
        print(f"{case}: the good form does not compile:\n{good.stderr}", file=sys.stderr)
        return 1
    bad = compile_case(command, case, True)
    if bad.returncode == 0:
        print(f"{case}: the bad form compiles; hostkit is more forgiving than DriverKit",
              file=sys.stderr)
        return 1
    if not re.search(expect.group(1), bad.stderr):
        print(f"{case}: the bad form fails, but not with /{expect.group(1)}/:\n{bad.stderr}",
              file=sys.stderr)
        return 1
    print(f"{case}: rejected as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
