// usbserialctl: developer tool over the portable core.
//
//   usbserialctl encode --chip <chip> --baud <rate> [--port N]
//   usbserialctl --version | --help
//
// Exit status: 0 ok, 1 the core refused the request (the JSON on stdout says why),
// 2 bad usage (message on stderr).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "encode.hpp"
#include "transport/device_table.hpp"

#ifndef USBSERIAL_VERSION
#error "USBSERIAL_VERSION must be defined by the build (PROJECT_VERSION)"
#endif

namespace po = boost::program_options;

namespace {

constexpr int kExitUsage = 2;

std::string chip_names() {
  std::string names;
  for (const transport::VariantInfo& info : transport::all_variants()) {
    names += names.empty() ? "" : ", ";
    names += info.name;
  }
  return names;
}

po::options_description encode_options() {
  po::options_description options("encode options");
  options.add_options()                                                        //
      ("help,h", "show this help")                                             //
      ("chip", po::value<std::string>(), ("chip: " + chip_names()).c_str())    //
      ("baud", po::value<std::string>(), "requested rate in bit/s (decimal)")  //
      ("port", po::value<std::string>()->default_value("A"),
       "port of a multi-port chip: A-D or a 0-based index 0-3");
  return options;
}

void print_usage(std::ostream& out) {
  out << "usage: usbserialctl encode --chip <chip> --baud <rate> [--port N]\n"
         "       usbserialctl --version | --help\n\n"
         "commands:\n"
         "  encode   print, as JSON, the control requests the portable core sends to set\n"
         "           <rate> with 8N1 on <chip>, the actual rate and its error.\n"
         "           Exit status 0 ok, 1 rate refused (the JSON says why), 2 bad usage.\n\n"
      << encode_options() << "\n";
}

int usage_error(const std::string& message) {
  std::cerr << "usbserialctl: " << message << "\n"
            << "Try 'usbserialctl --help'.\n";
  return kExitUsage;
}

int run_encode_command(const std::vector<std::string>& args) {
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(encode_options()).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0) {
    print_usage(std::cout);
    return 0;
  }
  if (vm.count("chip") == 0) {
    return usage_error("encode needs --chip (" + chip_names() + ")");
  }
  if (vm.count("baud") == 0) {
    return usage_error("encode needs --baud <rate>");
  }
  usbserialctl::EncodeRequest request;
  const std::string chip = vm["chip"].as<std::string>();
  request.chip = transport::find_variant(chip.c_str());
  if (request.chip == nullptr) {
    return usage_error("unknown chip '" + chip + "' (known: " + chip_names() + ")");
  }
  const std::string baud = vm["baud"].as<std::string>();
  if (!usbserialctl::parse_baud(baud, request.baud)) {
    return usage_error("--baud wants a decimal rate in bit/s that fits 32 bits, not '" + baud +
                       "'");
  }
  const std::string port = vm["port"].as<std::string>();
  if (!usbserialctl::parse_port(port, request.port_index)) {
    return usage_error("--port wants A-D or 0-3, not '" + port + "'");
  }
  const usbserialctl::EncodeOutcome outcome = usbserialctl::run_encode(request);
  if (outcome.usage_error) {
    return usage_error(outcome.message);
  }
  std::cout << outcome.json << "\n";
  return usbserialctl::exit_code(outcome);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    po::options_description global("options");
    global.add_options()              //
        ("help,h", "show this help")  //
        ("version", "print the version and exit");
    po::options_description hidden;
    hidden.add_options()                       //
        ("command", po::value<std::string>())  //
        ("args", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(global).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("args", -1);

    const po::parsed_options parsed = po::command_line_parser(argc, argv)
                                          .options(all)
                                          .positional(positional)
                                          .allow_unregistered()
                                          .run();
    po::variables_map vm;
    po::store(parsed, vm);
    po::notify(vm);

    if (vm.count("command") == 0) {
      if (vm.count("version") != 0) {
        std::cout << "usbserialctl " << USBSERIAL_VERSION << "\n";
        return 0;
      }
      if (vm.count("help") != 0) {
        print_usage(std::cout);
        return 0;
      }
      // Options nobody knows, or nothing at all.
      const auto unknown = po::collect_unrecognized(parsed.options, po::exclude_positional);
      return usage_error(unknown.empty() ? "missing command" : "unknown option " + unknown[0]);
    }
    const std::string command = vm["command"].as<std::string>();
    // Everything after the command goes to the command's own parser.
    std::vector<std::string> rest =
        po::collect_unrecognized(parsed.options, po::include_positional);
    if (!rest.empty() && rest.front() == command) {
      rest.erase(rest.begin());
    }
    if (command == "encode") {
      // --help given before the command ("usbserialctl --help encode") is the global help.
      if (vm.count("help") != 0) {
        rest.push_back("--help");
      }
      return run_encode_command(rest);
    }
    return usage_error("unknown command '" + command + "'");
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
}
