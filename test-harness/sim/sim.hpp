// Chip simulators behind hostkit's UsbDeviceBackend: the public entry point.
//
//   sim::Bus bus(sim::ClockMode::manual);
//   auto dev = sim::make_device("ft232r", bus, {.serial = "A600eHYG"});
//   sim::connect_loopback(dev->port(0));
//   dev->submit(0x02, out_bytes, on_done);  ...  bus.advance(16ms);
//
// Written from datasheet and protocol facts, independently of transport/:
// nothing here includes or calls the code under test.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/bus.hpp"
#include "sim/port.hpp"
#include "sim/uart.hpp"
#include "sim/usb_device.hpp"

namespace sim {

// A new simulated device on `bus`, or nullptr for an unknown chip name.
std::unique_ptr<SimDevice> make_device(std::string_view chip, Bus& bus,
                                       const SimOptions& options = {});

// cdc-acm ft232bm ft232r ft-x ft2232c ft232h ft2232h ft4232h tetra-pei cp2102 cp2102n cp2104
// cp2105 cp2108 ch340 ch341a
// pl2303-h pl2303-hx pl2303-ta pl2303-tb pl2303-hxn
std::vector<std::string> chip_names();

}  // namespace sim
