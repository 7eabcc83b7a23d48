// control_out / control_in_exact: the argument checks done before anything
// reaches the sink, and the short-transfer rule applied to what comes back.
//
// bmRequestType (USB 2.0 §9.3.1): bit 7 direction (1 = IN), bits 6:5 type
// (2 = vendor), bits 4:0 recipient. 0x40 is a vendor OUT to the device, 0xC0 a
// vendor IN; 0x21 / 0xA1 the class OUT / IN to an interface.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "transport/control.hpp"

namespace {

using transport::ControlRequest;
using transport::ControlSink;
using transport::Status;

// A sink that records each call and answers from a script: the status to
// return, how many bytes to report, and what an IN data stage receives.
class ScriptedSink final : public ControlSink {
 public:
  struct Call {
    ControlRequest request;
    std::vector<uint8_t> data;  // the span as the sink saw it (OUT: the bytes sent)
    const uint8_t* pointer;
  };

  Status status = Status::ok;
  std::optional<uint16_t> report;  // bytes reported; default: the whole span
  std::vector<uint8_t> in_bytes;   // copied into an IN span (up to its size)

  Status control(const ControlRequest& request, std::span<uint8_t> data,
                 uint16_t& transferred) override {
    calls.push_back({request, {data.begin(), data.end()}, data.data()});
    if (request.is_in()) {
      for (size_t i = 0; i < data.size() && i < in_bytes.size(); ++i) {
        data[i] = in_bytes[i];
      }
    }
    transferred = report ? *report : static_cast<uint16_t>(data.size());
    return status;
  }

  std::vector<Call> calls;
};

constexpr ControlRequest request(uint8_t type, uint8_t b_request, uint16_t value, uint16_t index,
                                 uint16_t length) {
  return ControlRequest{type, b_request, value, index, length};
}

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>(0xA0 + i);
  }
  return bytes;
}

TEST(ControlRequestTest, DirectionFromBit7) {
  EXPECT_FALSE(request(0x40, 0, 0, 0, 0).is_in());
  EXPECT_FALSE(request(0x21, 0, 0, 0, 0).is_in());
  EXPECT_TRUE(request(0xC0, 0, 0, 0, 0).is_in());
  EXPECT_TRUE(request(0xA1, 0, 0, 0, 0).is_in());
  EXPECT_TRUE(request(0x80, 0, 0, 0, 0).is_in());
  EXPECT_EQ(request(0x40, 1, 2, 3, 4), request(0x40, 1, 2, 3, 4));
  EXPECT_NE(request(0x40, 1, 2, 3, 4), request(0x40, 1, 2, 3, 5));
}

// ------------------------------------------------------------ no data stage

TEST(ControlOutNoData, PassesTheRequestWithAnEmptySpan) {
  ScriptedSink sink;
  const ControlRequest r = request(0x40, 0x01, 0x0303, 0x0001, 0);
  EXPECT_EQ(transport::control_out(sink, r), Status::ok);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].request, r);
  EXPECT_TRUE(sink.calls[0].data.empty());
}

TEST(ControlOutNoData, SinkStatusIsReturned) {
  for (const Status s : {Status::stall, Status::timeout, Status::no_device, Status::io_error}) {
    ScriptedSink sink;
    sink.status = s;
    EXPECT_EQ(transport::control_out(sink, request(0x21, 0x22, 3, 0, 0)), s)
        << transport::to_string(s);
  }
}

TEST(ControlOutNoData, InRequestIsRefusedBeforeTheSink) {
  ScriptedSink sink;
  EXPECT_EQ(transport::control_out(sink, request(0xC0, 0x05, 0, 0, 0)), Status::invalid_argument);
  EXPECT_TRUE(sink.calls.empty());
}

TEST(ControlOutNoData, NonZeroLengthIsRefusedBeforeTheSink) {
  ScriptedSink sink;
  EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 7)), Status::invalid_argument);
  EXPECT_TRUE(sink.calls.empty());
}

// ------------------------------------------------------------ OUT with data

TEST(ControlOutData, SendsExactlyTheBytes) {
  ScriptedSink sink;
  const std::vector<uint8_t> data = {0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08};
  const ControlRequest r = request(0x21, 0x20, 0, 2, 7);
  EXPECT_EQ(transport::control_out(sink, r, data), Status::ok);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].request, r);
  EXPECT_EQ(sink.calls[0].data, data);
}

TEST(ControlOutData, EmptyDataWithZeroLength) {
  ScriptedSink sink;
  EXPECT_EQ(transport::control_out(sink, request(0x40, 0x00, 0, 0, 0), std::span<const uint8_t>{}),
            Status::ok);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_TRUE(sink.calls[0].data.empty());
}

TEST(ControlOutData, SixtyFourBytesIsTheLimit) {
  ScriptedSink sink;
  const std::vector<uint8_t> data = pattern(64);
  EXPECT_EQ(transport::control_out(sink, request(0x40, 0x10, 0, 0, 64), data), Status::ok);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].data, data);

  const std::vector<uint8_t> more = pattern(65);
  EXPECT_EQ(transport::control_out(sink, request(0x40, 0x10, 0, 0, 65), more),
            Status::invalid_argument);
  EXPECT_EQ(sink.calls.size(), 1u);
}

TEST(ControlOutData, LengthMismatchIsRefused) {
  ScriptedSink sink;
  const std::vector<uint8_t> data = pattern(7);
  EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 6), data),
            Status::invalid_argument);
  EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 8), data),
            Status::invalid_argument);
  EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 0), data),
            Status::invalid_argument);
  EXPECT_TRUE(sink.calls.empty());
}

TEST(ControlOutData, InRequestIsRefused) {
  ScriptedSink sink;
  const std::vector<uint8_t> data = pattern(7);
  EXPECT_EQ(transport::control_out(sink, request(0xA1, 0x21, 0, 0, 7), data),
            Status::invalid_argument);
  EXPECT_TRUE(sink.calls.empty());
}

TEST(ControlOutData, FewerBytesAcceptedIsShortTransfer) {
  for (const uint16_t accepted : {0, 1, 6}) {
    ScriptedSink sink;
    sink.report = accepted;
    EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 7), pattern(7)),
              Status::short_transfer)
        << accepted;
  }
}

TEST(ControlOutData, SinkErrorWinsOverCount) {
  ScriptedSink sink;
  sink.status = Status::stall;
  sink.report = 0;
  EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 7), pattern(7)), Status::stall);
}

TEST(ControlOutData, CallerBufferIsNeverWritten) {
  // The sink interface takes a mutable span; control_out hands it a copy.
  class Scribbler final : public ControlSink {
   public:
    Status control(const ControlRequest&, std::span<uint8_t> data, uint16_t& transferred) override {
      for (uint8_t& b : data) {
        b = 0xEE;
      }
      transferred = static_cast<uint16_t>(data.size());
      return Status::ok;
    }
  } sink;
  const std::vector<uint8_t> data = pattern(7);
  const std::vector<uint8_t> copy = data;
  EXPECT_EQ(transport::control_out(sink, request(0x21, 0x20, 0, 0, 7), data), Status::ok);
  EXPECT_EQ(data, copy);
}

// ------------------------------------------------------------ IN, exact

TEST(ControlInExact, FillsTheCallerBuffer) {
  ScriptedSink sink;
  sink.in_bytes = {0x11, 0x60};
  std::vector<uint8_t> out(2, 0);
  const ControlRequest r = request(0xC0, 0x05, 0, 1, 2);
  EXPECT_EQ(transport::control_in_exact(sink, r, out), Status::ok);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].request, r);
  EXPECT_EQ(sink.calls[0].pointer, out.data());  // received in place, no staging copy
  EXPECT_EQ(out, (std::vector<uint8_t>{0x11, 0x60}));
}

TEST(ControlInExact, ShortAnswerIsShortTransfer) {
  for (const uint16_t got : {0, 1, 6}) {
    ScriptedSink sink;
    sink.report = got;
    std::vector<uint8_t> out(7);
    EXPECT_EQ(transport::control_in_exact(sink, request(0xA1, 0x21, 0, 0, 7), out),
              Status::short_transfer)
        << got;
  }
}

TEST(ControlInExact, SinkErrorIsReturned) {
  for (const Status s : {Status::stall, Status::timeout, Status::no_device, Status::aborted}) {
    ScriptedSink sink;
    sink.status = s;
    std::vector<uint8_t> out(2);
    EXPECT_EQ(transport::control_in_exact(sink, request(0xC0, 0x05, 0, 0, 2), out), s);
  }
}

TEST(ControlInExact, OutRequestIsRefused) {
  ScriptedSink sink;
  std::vector<uint8_t> out(2);
  EXPECT_EQ(transport::control_in_exact(sink, request(0x40, 0x05, 0, 0, 2), out),
            Status::invalid_argument);
  EXPECT_TRUE(sink.calls.empty());
}

TEST(ControlInExact, LengthMismatchIsRefused) {
  ScriptedSink sink;
  std::vector<uint8_t> out(2);
  EXPECT_EQ(transport::control_in_exact(sink, request(0xC0, 0x05, 0, 0, 1), out),
            Status::invalid_argument);
  EXPECT_EQ(transport::control_in_exact(sink, request(0xC0, 0x05, 0, 0, 3), out),
            Status::invalid_argument);
  EXPECT_TRUE(sink.calls.empty());
}

TEST(ControlInExact, ZeroLengthIn) {
  ScriptedSink sink;
  EXPECT_EQ(transport::control_in_exact(sink, request(0xC0, 0x90, 0, 0, 0), {}), Status::ok);
  EXPECT_EQ(sink.calls.size(), 1u);
}

}  // namespace
