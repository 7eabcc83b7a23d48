#!/usr/bin/env bash
# usbserial-verify: checks the dext on a real Mac with a USB-serial adapter and a loopback plug
# (TX wired to RX; RTS to CTS too if you want the flow-control run), and writes one report.
#
#   tools/mac-verify/verify.sh [options]
#
#   --out DIR            report directory (default: usbserial-verify-<date>)
#   --build-dir DIR      build tree (default: build-mac)
#   --cmake-arg ARG      passed to cmake when configuring (repeat it; e.g. the signing settings
#                        -DUSBSERIAL_CODESIGN_IDENTITY=..., see docs/install.md)
#   --skip-build         use the app and tools already in the build tree
#   --no-install         do not copy the app to /Applications and do not activate it
#   --port /dev/cu.X     the adapter's port (default: the first port of our driver)
#   --rates LIST         loopback rates, comma-separated (default: 115200,921600,3000000)
#   --bytes N            bytes per loopback run (default: 256K)
#   --unreachable BAUD   a rate the adapter cannot make, to see where the error goes (default 50)
#   --approval-timeout S seconds to wait for the approval in System Settings (default 300)
#   --report-only DIR    only (re)write DIR/summary.{json,md} from what DIR holds (any OS)
#
# Steps (each recorded in steps.tsv, a failed step does not stop the others): build, signature
# (codesign -d --entitlements, usbserial-doctor check), SDK headers, install + activate, wait
# for the port, ioreg, loopback streams, a speed-only stty change, IOSSDATALAT and an
# unreachable rate through ioctl, ioreg again, log show of the dext and the kernel, report.
# docs/mac-verification.md lists the assumptions the report answers and how.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=/usr/bin/python3
report_tool="$here/verify_report.py"
assumptions="$root/docs/driverkit-assumptions.md"
bundle_id=org.usbserialbridge.driver
driver_class=org_usbserialbridge_SerialDriver
app_name=USBSerialBridge

out="usbserial-verify-$(date +%Y%m%d-%H%M%S)"
build_dir="$root/build-mac"
cmake_args=()
skip_build=0
install=1
port=""
rates="115200,921600,3000000"
bytes="256K"
unreachable=50
approval_timeout=300
report_only=""

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "usbserial-verify: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    --out) out=${2:?}; shift 2 ;;
    --build-dir) build_dir=${2:?}; shift 2 ;;
    --cmake-arg) cmake_args+=("${2:?}"); shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --no-install) install=0; shift ;;
    --port) port=${2:?}; shift 2 ;;
    --rates) rates=${2:?}; shift 2 ;;
    --bytes) bytes=${2:?}; shift 2 ;;
    --unreachable) unreachable=${2:?}; shift 2 ;;
    --approval-timeout) approval_timeout=${2:?}; shift 2 ;;
    --report-only) report_only=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (--help lists them)" ;;
  esac
done

write_report() {
  "$python" "$report_tool" report --dir "$1" --assumptions "$assumptions" \
    --bundle-id "$bundle_id" --driver-class "$driver_class"
}

if [[ -n $report_only ]]; then
  [[ -d $report_only ]] || die "$report_only is not a directory"
  write_report "$report_only"
  exit $?
fi

[[ $(uname -s) == Darwin ]] || die "this runs on a Mac (on other systems only --report-only works)"
[[ $rates =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--rates takes numbers separated by commas"
[[ $unreachable =~ ^[0-9]+$ ]] || die "--unreachable takes a number"

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
steps="$out/steps.tsv"
: >"$steps"
start_time=$(date '+%Y-%m-%d %H:%M:%S')

# step NAME COMMAND...: runs it, logs its output to NAME.log, records ok/failed.
# step_shown: the same, with the output also on the terminal (prompts, progress).
record() {
  local name=$1 status=$2
  if ((status == 0)); then
    printf '%s\tok\t\n' "$name" >>"$steps"
    return 0
  fi
  printf '%s\tfailed\texit %s, see %s.log\n' "$name" "$status" "$name" >>"$steps"
  echo "   failed (exit $status); the report goes on without it" >&2
  tail -5 "$out/$name.log" >&2
  return "$status"
}
step() {
  local name=$1
  shift
  echo "== $name"
  "$@" >"$out/$name.log" 2>&1
  record "$name" $?
}
step_shown() {
  local name=$1
  shift
  echo "== $name"
  "$@" 2>&1 | tee "$out/$name.log"
  record "$name" "${PIPESTATUS[0]}"
}
skip() { printf '%s\tskipped\t%s\n' "$1" "$2" >>"$steps"; echo "== $1: skipped ($2)"; }

{
  sw_vers
  uname -a
  xcodebuild -version 2>/dev/null | tr '\n' ' '
  echo
  echo "DriverKit SDK $(xcrun --sdk driverkit --show-sdk-version 2>/dev/null)"
  echo "report started $start_time"
} >"$out/environment.txt"

# ---- build --------------------------------------------------------------------------------
build() {
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUSBSERIAL_DRIVERKIT=ON \
    -DUSBSERIAL_BENCHMARKS=OFF "${cmake_args[@]}" &&
    cmake --build "$build_dir"
}
if ((skip_build)); then
  skip build "--skip-build"
else
  step build build
fi
app="$build_dir/$app_name.app"
dext="$app/Contents/Library/SystemExtensions/$bundle_id.dext"
loopback="$build_dir/test-harness/loopback/usbserial-loopback"
doctor="$build_dir/tools/doctor/usbserial-doctor"
[[ -d $app ]] || echo "usbserial-verify: $app is missing; later steps will fail" >&2

# ---- signature ----------------------------------------------------------------------------
signature() {
  codesign -dvvv "$dext" >"$out/codesign-dext.txt" 2>&1 || true
  # --xml on macOS 12+; the ":-" form (strip the blob header) on older systems.
  codesign -d --entitlements - --xml "$dext" >"$out/entitlements-signed.plist" 2>/dev/null ||
    codesign -d --entitlements :- "$dext" >"$out/entitlements-signed.plist"
  local flavor_dir="$build_dir/SerialDext"
  if grep -q 'USBSERIAL_PLIST_FLAVOR:STRING=development' "$build_dir/CMakeCache.txt" 2>/dev/null; then
    flavor_dir="$build_dir/SerialDext/development"
  fi
  cp "$flavor_dir/Entitlements.plist" "$out/entitlements-expected.plist"
  "$doctor" check "$dext" --entitlements "$out/entitlements-signed.plist" --json \
    >"$out/doctor-check.json"
  codesign --verify --strict --verbose=2 "$dext"
}
step signature signature

sdk_headers() {
  local sdk
  sdk=$(xcrun --sdk driverkit --show-sdk-path) || return 1
  mkdir -p "$out/sdk"
  local found=0
  for name in IOUserUSBSerial.iig IOUserSerial.iig SerialPortInterface.h; do
    local file
    file=$(find "$sdk" -name "$name" -print -quit)
    [[ -n $file ]] && cp "$file" "$out/sdk/" && found=$((found + 1))
  done
  ((found > 0))
}
step sdk-headers sdk_headers

# ---- install and activate -----------------------------------------------------------------
installed_app="/Applications/$app_name.app"
host="$installed_app/Contents/MacOS/$app_name"
if ((install)); then
  install_app() {
    rm -rf "$installed_app" && ditto "$app" "$installed_app"
  }
  step install install_app
  echo "   approve the driver when asked (the app prints where); waiting up to $approval_timeout s"
  step_shown activate "$host" --activate --timeout "$approval_timeout"
else
  skip install "--no-install"
  skip activate "--no-install"
  [[ -x $host ]] || host="$app/Contents/MacOS/$app_name"
fi

# ---- the adapter ----------------------------------------------------------------------------
find_port() {
  local deadline=$((SECONDS + 120))
  echo "   plug in the adapter with its loopback plug (or unplug and plug it again); waiting 120 s"
  while ((SECONDS < deadline)); do
    "$host" --status --json >"$out/status-attached.json" 2>/dev/null
    if p=$("$python" "$report_tool" port --status "$out/status-attached.json"); then
      echo "$p" >"$out/port.txt"
      return 0
    fi
    sleep 2
  done
  return 1
}
if [[ -n $port ]]; then
  echo "$port" >"$out/port.txt"
  skip find-port "--port $port"
elif step_shown find-port find_port; then
  port=$(cat "$out/port.txt")
fi
echo "   port: ${port:-none}"

ioreg_dump() {
  ioreg -a -l -w0 -r -c IOUSBHostDevice >"$out/ioreg-$1.xml" &&
    ioreg -l -w0 -r -c IOUSBHostDevice >"$out/ioreg-$1.txt"
}
step ioreg-attached ioreg_dump attached

# ---- exercise the port ----------------------------------------------------------------------
if [[ -n $port ]]; then
  IFS=, read -r -a rate_list <<<"$rates"
  for rate in "${rate_list[@]}"; do
    step_shown "loopback-$rate" "$loopback" "$port" --baud "$rate" --bytes "$bytes" \
      --json "$out/loopback-$rate.json"
  done

  stty_change() {
    local status=0
    stty -f "$port" 57600 || status=$?
    printf '{"port": "%s", "baud": 57600, "exit_code": %d}\n' "$port" "$status" >"$out/stty.json"
    return $status
  }
  step stty stty_change

  # IOSSDATALAT = _IOW('T', 0, unsigned long), IOSSIOSPEED = _IOW('T', 2, speed_t) (IOKit's
  # ioss.h), 8-byte arguments on 64-bit macOS.
  ioctl_probe() {
    "$python" - "$port" "$1" "$2" "$3" <<'PY'
import errno, fcntl, json, os, struct, sys
port, request, value, out = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3]), sys.argv[4]
fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
try:
    fcntl.ioctl(fd, request, struct.pack("Q", value))
    result = 0
except OSError as e:
    result = e.errno
finally:
    os.close(fd)
key = "requested_us" if request == 0x80085400 else "baud"
with open(out, "w") as f:
    json.dump({key: value, "errno": result, "error": os.strerror(result) if result else None}, f)
print(f"ioctl 0x{request:x} with {value}: errno {result}")
PY
  }
  step latency ioctl_probe 0x80085400 1000 "$out/latency.json"
  # Expected to be refused; the step records where the refusal went, so it does not fail.
  step unreachable-rate ioctl_probe 0x80085402 "$unreachable" "$out/unreachable-rate.json"
else
  for s in loopback stty latency unreachable-rate; do skip "$s" "no port"; done
fi

step ioreg-streamed ioreg_dump streamed
"$host" --status --json >"$out/status-streamed.json" 2>/dev/null || true

# ---- logs -----------------------------------------------------------------------------------
sleep 2 # let the last lines reach the log store
collect_logs() {
  log show --style json --info --debug --start "$start_time" --predicate \
    "process == \"$bundle_id\" OR sender == \"$bundle_id\" OR eventMessage CONTAINS \"USBSerialBridge SerialDriver\"" \
    >"$out/log.json" &&
    log show --style json --start "$start_time" --predicate \
      "(process == \"kernel\" OR process == \"sysextd\" OR process == \"kernelmanagerd\") AND (eventMessage CONTAINS \"$bundle_id\" OR eventMessage CONTAINS \"$driver_class\")" \
      >"$out/system-log.json"
}
step logs collect_logs
step systemextensionsctl systemextensionsctl list

# ---- report ---------------------------------------------------------------------------------
echo "== report"
write_report "$out"
echo "report: $out/summary.md (and summary.json; every file it read is in $out)"
