#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <sstream>

#include <boost/program_options.hpp>

#include "rate_model.hpp"

#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif

namespace po = boost::program_options;

namespace loopback {

namespace {

po::options_description visible_options() {
  po::options_description desc("Options");
  // clang-format off
  desc.add_options()
      ("sim", po::value<std::string>()->value_name("CHIP"),
       "chip the simulated adapter emulates when no TTY is given (default ft232r)")
      ("bytes", po::value<std::string>()->value_name("N"),
       "bytes to send; suffixes K, M, G are powers of 1024 (default 16M)")
      ("baud", po::value<std::string>()->value_name("RATE"),
       "line rate in baud, any integer (default 115200)")
      ("rtscts", "RTS/CTS hardware flow control (always on in soak mode)")
      ("timeout", po::value<std::string>()->value_name("SECONDS"),
       "fail when nothing has been received for this long; also the time the bridge "
       "gets to become ready (default 10)")
      ("chunk", po::value<std::string>()->value_name("BYTES"),
       "bytes per write() (default 4096); soak: the largest write (default 64K)")
      ("mode", po::value<std::vector<std::string>>()->value_name("MODE"),
       "throughput (default), latency or sweep; a comma list or repeated runs several, "
       "in that order; matrix or soak run alone")
      ("all-ports", "test every port of the adapter at once (a simulated adapter, or a "
       "harness port's adapter); each port streams a different part of the pattern, so a "
       "byte delivered to the wrong port is caught")
      ("round-trips", po::value<std::string>()->value_name("N"),
       "latency: round trips to time (default 1000)")
      ("message", po::value<std::string>()->value_name("BYTES"),
       "latency: bytes sent per round trip, 1..4096 (default 1)")
      ("rates", po::value<std::string>()->value_name("LIST"),
       "sweep: comma-separated rates (default 9600,19200,38400,57600,115200,230400,460800,"
       "921600,1000000,2000000,3000000); soak: the rates its line changes pick from (the "
       "same default); matrix: the rates, in order (default 300,9600,57600,115200,250000,"
       "921600,1800000,2000000,2500000,3000000)")
      ("chips", po::value<std::string>()->value_name("LIST"),
       "matrix: comma-separated chips (default cdc-acm,ft232r,cp2102n,ch340,pl2303-hx)")
      ("jobs", po::value<std::string>()->value_name("N"),
       "matrix: null-modem bridges run at the same time, 1..16 (default 4)")
      ("quick", "matrix: only 921600, 1800000, 2000000, 2500000 and 3000000 baud")
      ("seed", po::value<std::string>()->value_name("N"),
       "soak: seed of the random chunk sizes and changes (default 1)")
      ("json", po::value<std::string>()->value_name("FILE"), "also write a JSON report to FILE")
      ("plot", po::value<std::string>()->value_name("FILE.png"),
       "also draw throughput per rate and the latency histogram into FILE.png (needs "
       "gnuplot: apt-get install gnuplot-nox)")
      ("bridge", po::value<std::string>()->value_name("PATH"),
       "the usbserial-bridge to run (default: the one next to this program)")
      ("bridge-arg", po::value<std::vector<std::string>>()->value_name("ARG"),
       "extra argument for the bridge, repeatable; write it as --bridge-arg=--paced")
      ("quiet", "no progress line; print only the one-line verdict")
      ("version", "print the version and exit")
      ("help", "print this help and exit");
  // clang-format on
  return desc;
}

bool parse_uint32(const std::string& text, uint32_t* out) {
  const std::optional<uint64_t> v = text.find_first_not_of("0123456789") == std::string::npos &&
                                            !text.empty() && text.size() <= 10
                                        ? std::optional<uint64_t>(std::stoull(text))
                                        : std::nullopt;
  if (!v || *v == 0 || *v > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  *out = static_cast<uint32_t>(*v);
  return true;
}

bool parse_seconds(const std::string& text, double* out) {
  std::istringstream in(text);
  double v = 0;
  in >> v;
  if (in.fail() || !in.eof() || !std::isfinite(v) || v <= 0 || v > 1e6) {
    return false;
  }
  *out = v;
  return true;
}

constexpr Mode kModes[] = {Mode::throughput, Mode::latency, Mode::sweep, Mode::matrix, Mode::soak};

std::optional<Mode> parse_mode(const std::string& text) {
  for (const Mode m : kModes) {
    if (text == to_string(m)) {
      return m;
    }
  }
  return std::nullopt;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) {
      return parts;
    }
    start = comma + 1;
  }
}

ParseResult error(std::string message) {
  ParseResult r;
  r.action = ParseAction::error;
  r.message = std::move(message);
  return r;
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  unsigned shift = 0;
  switch (text.back()) {
    case 'k':
    case 'K':
      shift = 10;
      break;
    case 'm':
    case 'M':
      shift = 20;
      break;
    case 'g':
    case 'G':
      shift = 30;
      break;
    default:
      break;
  }
  if (shift != 0) {
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 20) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  if (value == 0 || value > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return std::nullopt;
  }
  return value << shift;
}

ParseResult parse_options(int argc, const char* const* argv) {
  po::options_description hidden;
  hidden.add_options()("tty", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(visible_options()).add(hidden);
  po::positional_options_description positional;
  positional.add("tty", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return error(e.what());
  }

  ParseResult r;
  if (vm.count("help") != 0) {
    r.action = ParseAction::help;
    return r;
  }
  if (vm.count("version") != 0) {
    r.action = ParseAction::version;
    return r;
  }

  Options& o = r.options;
  if (vm.count("tty") != 0) {
    const auto& ttys = vm["tty"].as<std::vector<std::string>>();
    if (ttys.size() > 1) {
      return error("one TTY at most (got '" + ttys[0] + "' and '" + ttys[1] + "')");
    }
    if (ttys[0].empty()) {
      return error("the TTY path is empty");
    }
    o.tty = ttys[0];
  }
  if (vm.count("sim") != 0) {
    o.sim = vm["sim"].as<std::string>();
    if (o.sim.empty() || o.sim[0] == '-') {
      return error("--sim needs a chip name such as ft232r");
    }
  }
  if (vm.count("bytes") != 0) {
    const std::string& text = vm["bytes"].as<std::string>();
    const std::optional<uint64_t> v = parse_size(text);
    if (!v) {
      return error("--bytes '" + text +
                   "' is not a positive byte count (examples: 4096, 64K, 16M, 1G)");
    }
    o.bytes = *v;
    o.bytes_given = true;
  }
  if (vm.count("baud") != 0) {
    const std::string& text = vm["baud"].as<std::string>();
    if (!parse_uint32(text, &o.baud)) {
      return error("--baud '" + text + "' is not a positive integer rate");
    }
  }
  o.rtscts = vm.count("rtscts") != 0;
  if (vm.count("timeout") != 0) {
    const std::string& text = vm["timeout"].as<std::string>();
    if (!parse_seconds(text, &o.timeout_s)) {
      return error("--timeout '" + text + "' is not a positive number of seconds");
    }
  }
  if (vm.count("chunk") != 0) {
    const std::string& text = vm["chunk"].as<std::string>();
    const std::optional<uint64_t> v = parse_size(text);
    if (!v || *v > kMaxChunk) {
      return error("--chunk '" + text + "' must be between 1 and 16M bytes");
    }
    o.chunk = static_cast<size_t>(*v);
    o.chunk_given = true;
  }
  if (vm.count("json") != 0) {
    o.json_path = vm["json"].as<std::string>();
    if (o.json_path->empty()) {
      return error("--json needs a file name");
    }
  }
  if (vm.count("mode") != 0) {
    std::vector<Mode> chosen;
    for (const std::string& item : vm["mode"].as<std::vector<std::string>>()) {
      for (const std::string& name : split_commas(item)) {
        const std::optional<Mode> m = parse_mode(name);
        if (!m) {
          return error("--mode '" + name +
                       "' is not one of throughput, latency, sweep, matrix, soak");
        }
        if (std::find(chosen.begin(), chosen.end(), *m) == chosen.end()) {
          chosen.push_back(*m);
        }
      }
    }
    const bool alone = std::find(chosen.begin(), chosen.end(), Mode::matrix) != chosen.end() ||
                       std::find(chosen.begin(), chosen.end(), Mode::soak) != chosen.end();
    if (alone && chosen.size() > 1) {
      return error("--mode matrix and --mode soak run alone");
    }
    o.modes.clear();
    for (const Mode m : kModes) {
      if (std::find(chosen.begin(), chosen.end(), m) != chosen.end()) {
        o.modes.push_back(m);
      }
    }
  }
  o.all_ports = vm.count("all-ports") != 0;
  if (vm.count("round-trips") != 0) {
    const std::string& text = vm["round-trips"].as<std::string>();
    const std::optional<uint64_t> v = parse_size(text);
    if (!v || *v > 10'000'000) {
      return error("--round-trips '" + text + "' must be between 1 and 10000000");
    }
    o.round_trips = *v;
  }
  if (vm.count("message") != 0) {
    const std::string& text = vm["message"].as<std::string>();
    const std::optional<uint64_t> v = parse_size(text);
    if (!v || *v > kMaxMessageBytes) {
      return error("--message '" + text + "' must be between 1 and 4096 bytes");
    }
    o.message_bytes = static_cast<size_t>(*v);
  }
  if (vm.count("rates") != 0) {
    const std::string& text = vm["rates"].as<std::string>();
    for (const std::string& item : split_commas(text)) {
      uint32_t rate = 0;
      if (!parse_uint32(item, &rate)) {
        return error("--rates '" + text + "': '" + item + "' is not a positive integer rate");
      }
      o.rates.push_back(rate);
    }
  }
  if (vm.count("plot") != 0) {
    o.plot_path = vm["plot"].as<std::string>();
    if (o.plot_path->empty()) {
      return error("--plot needs a file name");
    }
  }
  const auto has_mode = [&o](Mode m) {
    return std::find(o.modes.begin(), o.modes.end(), m) != o.modes.end();
  };
  if (!has_mode(Mode::latency) && (vm.count("round-trips") != 0 || vm.count("message") != 0)) {
    return error("--round-trips and --message belong to --mode latency");
  }
  if (!has_mode(Mode::sweep) && !has_mode(Mode::matrix) && !has_mode(Mode::soak) &&
      vm.count("rates") != 0) {
    return error("--rates belongs to --mode sweep, matrix or soak");
  }
  if (vm.count("chips") != 0) {
    for (const std::string& chip : split_commas(vm["chips"].as<std::string>())) {
      if (!find_matrix_chip(chip)) {
        std::string known;
        for (const MatrixChip& entry : kMatrixChips) {
          known += (known.empty() ? "" : ", ") + std::string(entry.chip);
        }
        return error("--chips: '" + chip + "' is not a chip of the matrix (" + known + ")");
      }
      if (std::find(o.chips.begin(), o.chips.end(), chip) == o.chips.end()) {
        o.chips.push_back(chip);
      }
    }
  }
  if (vm.count("jobs") != 0) {
    const std::string& text = vm["jobs"].as<std::string>();
    uint32_t jobs = 0;
    if (!parse_uint32(text, &jobs) || jobs > 16) {
      return error("--jobs '" + text + "' must be between 1 and 16");
    }
    o.jobs = jobs;
  }
  o.quick = vm.count("quick") != 0;
  if (!has_mode(Mode::matrix) && (vm.count("chips") != 0 || vm.count("jobs") != 0 || o.quick)) {
    return error("--chips, --jobs and --quick belong to --mode matrix");
  }
  if (has_mode(Mode::matrix)) {
    // The matrix starts its own bridges, two adapters each, at its own rates and bursts.
    if (o.tty) {
      return error("--mode matrix starts its own bridges; it takes no TTY");
    }
    for (const char* other : {"sim", "all-ports", "bytes", "baud", "rtscts", "chunk"}) {
      if (vm.count(other) != 0) {
        return error(std::string("--") + other + " cannot be combined with --mode matrix");
      }
    }
    if (o.quick && vm.count("rates") != 0) {
      return error("--quick and --rates both choose the matrix's rates; give one");
    }
  }
  if ((has_mode(Mode::matrix) || has_mode(Mode::soak)) && o.plot_path) {
    return error("--plot draws throughput, sweeps and latency; not --mode matrix or soak");
  }
  if (vm.count("seed") != 0) {
    if (!has_mode(Mode::soak)) {
      return error("--seed belongs to --mode soak");
    }
    const std::string& text = vm["seed"].as<std::string>();
    if (text.empty() || text.size() > 19 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      return error("--seed '" + text + "' is not a non-negative integer");
    }
    o.seed = std::stoull(text);
  }
  if (has_mode(Mode::soak)) {
    if (vm.count("all-ports") != 0) {
      return error("--all-ports cannot be combined with --mode soak");
    }
    o.rtscts = true;  // the soak runs under RTS/CTS
  }
  if (vm.count("bridge") != 0) {
    o.bridge_path = vm["bridge"].as<std::string>();
    if (o.bridge_path->empty()) {
      return error("--bridge needs a path");
    }
  }
  if (vm.count("bridge-arg") != 0) {
    o.bridge_args = vm["bridge-arg"].as<std::vector<std::string>>();
  }
  o.quiet = vm.count("quiet") != 0;

  // A TTY means a port that already exists; the simulation options would be ignored, which
  // hides a mistake, so they are refused.
  if (o.tty && (vm.count("sim") != 0 || o.bridge_path || !o.bridge_args.empty())) {
    return error(
        "--sim, --bridge and --bridge-arg start a simulated adapter; they cannot be "
        "combined with a TTY");
  }
  r.action = ParseAction::run;
  return r;
}

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::throughput:
      return "throughput";
    case Mode::latency:
      return "latency";
    case Mode::sweep:
      return "sweep";
    case Mode::matrix:
      return "matrix";
    case Mode::soak:
      return "soak";
  }
  return "throughput";
}

std::vector<std::string> matrix_chips(const Options& options) {
  if (!options.chips.empty()) {
    return options.chips;
  }
  std::vector<std::string> chips;
  for (const MatrixChip& entry : kMatrixChips) {
    chips.emplace_back(entry.chip);
  }
  return chips;
}

std::vector<uint32_t> matrix_rates(const Options& options) {
  if (!options.rates.empty()) {
    return options.rates;
  }
  if (options.quick) {
    return std::vector<uint32_t>(std::begin(kQuickMatrixRates), std::end(kQuickMatrixRates));
  }
  return std::vector<uint32_t>(std::begin(kMatrixRates), std::end(kMatrixRates));
}

std::vector<uint32_t> soak_rates(const Options& options) {
  return sweep_rates(options);
}

size_t soak_chunk(const Options& options) {
  return options.chunk_given ? options.chunk : kDefaultSoakChunk;
}

std::vector<uint32_t> sweep_rates(const Options& options) {
  if (!options.rates.empty()) {
    return options.rates;
  }
  return std::vector<uint32_t>(std::begin(kDefaultSweepRates), std::end(kDefaultSweepRates));
}

uint64_t sweep_bytes(const Options& options, uint32_t baud) {
  if (options.bytes_given) {
    return options.bytes;
  }
  const uint64_t half_second = baud / 20;  // baud/10 bytes per second in 8N1
  return std::clamp<uint64_t>(half_second, 1024, 1 << 20);
}

const char* tool_version() {
  return USBSERIAL_VERSION;
}

std::string version_text() {
  return std::string(kToolName) + " " + USBSERIAL_VERSION + " (USBSerialBridge)\n";
}

std::string help_text(const std::vector<std::string>& chips, const std::string& chips_note) {
  std::ostringstream out;
  out << "Usage: " << kToolName << " [TTY] [options]\n"
      << "\n"
      << "Streams a verifiable pattern through a serial port in both directions at once,\n"
      << "checks every byte, and prints bytes, MB/s (1 MB = 10^6 bytes) and a verdict.\n"
      << "\n"
      << "  TTY given   a port with a loopback plug (TX wired to RX): /dev/ttyUSB0,\n"
      << "              /dev/cu.usbserial-XXXX, or a harness port. It is put in raw mode,\n"
      << "              8N1, at --baud; the rate the driver programmed must be within\n"
      << "              3 % of the request or the run is refused. A harness port (a port\n"
      << "              of a running usbserial-bridge) is recognised by the bridge's\n"
      << "              control socket beside its link; the rate then comes from the\n"
      << "              driver's registry (Statistics ActualBaud), otherwise from termios.\n"
      << "  no TTY      runs 'usbserial-bridge --sim CHIP --run-dir DIR' (a simulated\n"
      << "              adapter with a loopback plug), uses the first port it prints (all\n"
      << "              of them with --all-ports), and stops it with SIGTERM at the end.\n"
      << "              Without --bridge-arg=--paced the simulated port is unpaced: the\n"
      << "              figure measures the driver path, and there is no line rate.\n"
      << "\n"
      << visible_options() << "\n";
  if (!chips.empty()) {
    out << "Chips --sim takes:";
    for (const std::string& chip : chips) {
      out << " " << chip;
    }
    out << "\n\n";
  } else {
    out << "Chips --sim takes: " << (chips_note.empty() ? "unknown" : chips_note) << "\n\n";
  }
  out << "Modes:\n"
      << "  throughput  the pattern both ways at once, checked byte by byte; MB/s, the rate\n"
      << "              the driver programmed, its error from the request in percent, and\n"
      << "              the share of the 8N1 line rate (when a UART paces the port)\n"
      << "  latency     --round-trips times: write --message bytes, wait until they are\n"
      << "              back; min, percentiles (p50 p90 p99 p99.9) and max\n"
      << "  sweep       a short throughput run at each of --rates, reopening the port for\n"
      << "              each; a rate the driver refuses is reported, not tested\n"
      << "  matrix      (alone, no TTY) every pair of --chips joined by a null-modem cable in\n"
      << "              a paced bridge, at each of --rates: which side refuses, the rate each\n"
      << "              driver programs, and whether a burst each way arrives intact or as\n"
      << "              garbage with framing errors, all checked against the chips' documented\n"
      << "              rates; prints the table\n"
      << "  soak        (alone) --bytes through a loopback plug under RTS/CTS in writes and\n"
      << "              reads of random size, changing the rate, parity, stop bits, DTR and RTS\n"
      << "              every 5-50 ms; nothing may be lost and the bridge's memory, threads and\n"
      << "              descriptors may not grow. Matrix and soak on simulated or harness ports\n"
      << "              run under usbserial-run (the tool starts it itself)\n"
      << "\n"
      << "Pattern: byte i of the stream is byte (i mod 8), little-endian, of the (i div 8)-th\n"
      << "output of SplitMix64 seeded with 0, i.e. of mix((i div 8 + 1) * 0x9E3779B97F4A7C15)\n"
      << "with mix(z) = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27;\n"
      << "z *= 0x94D049BB133111EB; z ^= z >> 31 (mod 2^64). The stream starts\n"
      << "AF CD 1D 7B 39 A8 20 E2 F4 65 B9 A1 6A 9E 78 6E. The n-th byte received is\n"
      << "compared with byte n, so a lost or inserted byte makes every later byte wrong;\n"
      << "the report gives the offset of the first wrong byte, the wrong, lost (sent but\n"
      << "not received) and extra (received but not sent) counts, and a CRC-32 of what\n"
      << "was sent and of what was received. With --all-ports, port k (0, 1, ...) streams\n"
      << "the pattern from offset k * 2^40, so bytes crossing between ports are wrong.\n"
      << "\n"
      << "Exit status: 0 PASS; 1 FAIL (data error, loss, timeout, bridge failure);\n"
      << "2 usage or setup error (bad option, cannot open the port, bridge missing).\n";
  return out.str();
}

}  // namespace loopback
