// JsonWriter: a small streaming JSON writer for the tools' --json reports.
// (Boost 1.74 predates Boost.JSON.) Commas and string escaping are handled here;
// the caller nests begin/end calls correctly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hostutil {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<uint64_t>(number)); }
  JsonWriter& value(double number);
  JsonWriter& null();

  // key + value in one call.
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const { return out_; }

 private:
  void before_value();
  JsonWriter& close_scope(char closer);
  void newline();

  std::string out_;
  std::vector<bool> first_in_scope_;  // one entry per open object/array
  bool after_key_ = false;
  bool pretty_;
};

std::string json_escape(std::string_view text);

}  // namespace hostutil
