// hostkit: os_log, as strict as Apple's.
//
// The format must be a string literal, and it is checked against the
// arguments at compile time, as clang checks os_log formats on a Mac: every
// conversion needs an argument of its size and kind (%u for a uint32_t, %llu for
// a uint64_t, %s for a C string, ...), and the count must match. A mismatch
// fails to compile, with os_log_format_does_not_match_its_arguments in the
// error.
//
// Privacy annotations work as on a Mac: an argument is written "%{public}s" or
// "%{private}u"; without one, scalars are shown and C strings are redacted as
// "<private>" (Apple: "Logging" / "Formatting log statement arguments": dynamic
// strings are private by default). A driver that wants its status names in the
// log must mark them public, here as there.
//
// Lines go to hostkit's log sink (stderr by default) with the level.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

typedef struct hostkit_os_log_s* os_log_t;
#define OS_LOG_DEFAULT ((os_log_t) nullptr)

enum hostkit_os_log_type : uint8_t {
  OS_LOG_TYPE_DEFAULT = 0x00,
  OS_LOG_TYPE_INFO = 0x01,
  OS_LOG_TYPE_DEBUG = 0x02,
  OS_LOG_TYPE_ERROR = 0x10,
  OS_LOG_TYPE_FAULT = 0x11,
};

namespace hostkit::oslog {

// What an argument is, after the default argument promotions.
enum class Kind : uint8_t { int32, int64, float64, string, pointer, invalid };

template <typename T>
constexpr Kind kind_of() {
  using U = std::remove_cv_t<std::remove_reference_t<T>>;
  if constexpr (std::is_same_v<U, bool> || (std::is_integral_v<U> && sizeof(U) <= 4)) {
    return Kind::int32;
  } else if constexpr (std::is_integral_v<U> && sizeof(U) == 8) {
    return Kind::int64;
  } else if constexpr (std::is_floating_point_v<U>) {
    return Kind::float64;
  } else if constexpr (std::is_enum_v<U> && std::is_convertible_v<U, int>) {
    return kind_of<std::underlying_type_t<U>>();
  } else if constexpr (std::is_same_v<std::decay_t<U>, const char*> ||
                       std::is_same_v<std::decay_t<U>, char*>) {
    return Kind::string;
  } else if constexpr (std::is_pointer_v<std::decay_t<U>> || std::is_null_pointer_v<U>) {
    return Kind::pointer;
  } else {
    return Kind::invalid;
  }
}

// Not constexpr: reaching it while checking a format at compile time is the error.
void os_log_format_does_not_match_its_arguments();

struct Conversion {
  const char* end = nullptr;  // one past the conversion character
  Kind kind = Kind::invalid;
  bool is_public = false;
  bool is_private = false;
  bool literal_percent = false;
};

// Parses the conversion that starts at `p` (the character after '%').
constexpr Conversion parse_conversion(const char* p) {
  Conversion c;
  if (*p == '%') {
    c.literal_percent = true;
    c.end = p + 1;
    return c;
  }
  if (*p == '{') {
    const char* word = p + 1;
    while (*p != '}' && *p != '\0') {
      ++p;
    }
    if (*p == '\0') {
      return c;
    }
    // The annotation list, e.g. {public} or {private}; other types (uuid_t,
    // errno, ...) are not used by this project and are refused.
    const auto is = [word, p](const char* name) {
      const char* a = word;
      const char* b = name;
      while (a != p && *b != '\0' && *a == *b) {
        ++a;
        ++b;
      }
      return a == p && *b == '\0';
    };
    if (is("public")) {
      c.is_public = true;
    } else if (is("private")) {
      c.is_private = true;
    } else {
      return c;
    }
    ++p;
  }
  while (*p == '-' || *p == '+' || *p == ' ' || *p == '#' || *p == '0') {
    ++p;
  }
  while (*p >= '0' && *p <= '9') {
    ++p;
  }
  if (*p == '.') {
    ++p;
    while (*p >= '0' && *p <= '9') {
      ++p;
    }
  }
  int longs = 0;
  bool size_t_length = false;
  while (*p == 'h') {
    ++p;
  }
  while (*p == 'l') {
    ++longs;
    ++p;
  }
  if (*p == 'z' || *p == 'j' || *p == 't') {
    size_t_length = true;
    ++p;
  }
  const bool wide = longs > 0 || size_t_length;  // LP64: long, long long, size_t are 8 bytes
  switch (*p) {
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X':
      c.kind = wide ? Kind::int64 : Kind::int32;
      break;
    case 'c':
      c.kind = longs == 0 && !size_t_length ? Kind::int32 : Kind::invalid;
      break;
    case 's':
      c.kind = longs == 0 && !size_t_length ? Kind::string : Kind::invalid;
      break;
    case 'p':
      c.kind = Kind::pointer;
      break;
    case 'f':
    case 'e':
    case 'g':
    case 'F':
    case 'E':
    case 'G':
      c.kind = Kind::float64;
      break;
    default:
      return c;
  }
  c.end = p + 1;
  return c;
}

template <typename... Args>
struct Format {
  template <size_t N>
  consteval Format(const char (&literal)[N]) : text(literal) {  // NOLINT: implicit by design
    constexpr Kind kinds[] = {kind_of<Args>()..., Kind::invalid};
    size_t used = 0;
    for (const char* p = literal; *p != '\0';) {
      if (*p++ != '%') {
        continue;
      }
      const Conversion c = parse_conversion(p);
      if (c.end == nullptr) {
        os_log_format_does_not_match_its_arguments();
      }
      p = c.end;
      if (c.literal_percent) {
        continue;
      }
      if (used >= sizeof...(Args) || kinds[used] != c.kind) {
        os_log_format_does_not_match_its_arguments();
      }
      ++used;
    }
    if (used != sizeof...(Args)) {
      os_log_format_does_not_match_its_arguments();
    }
  }
  const char* text;
};

// One argument, as the runtime formatter sees it.
struct Value {
  Kind kind;
  union {
    int64_t integer;
    double real;
    const char* string;
    const void* pointer;
  };
};

template <typename T>
Value to_value(T value) {
  Value v{kind_of<T>(), {0}};
  if constexpr (kind_of<T>() == Kind::int32 || kind_of<T>() == Kind::int64) {
    v.integer = static_cast<int64_t>(value);
  } else if constexpr (kind_of<T>() == Kind::float64) {
    v.real = static_cast<double>(value);
  } else if constexpr (kind_of<T>() == Kind::string) {
    v.string = value;
  } else {
    v.pointer = value;
  }
  return v;
}

void emit(os_log_t log, hostkit_os_log_type type, const char* format, const Value* values,
          size_t count);

template <typename... Args>
void write(os_log_t log, hostkit_os_log_type type, Format<std::type_identity_t<Args>...> format,
           Args... args) {
  const Value values[] = {to_value(args)..., Value{Kind::invalid, {0}}};
  emit(log, type, format.text, values, sizeof...(Args));
}

// The line hostkit would write for `format` and its values (for tests).
void render(char* out, size_t size, const char* format, const Value* values, size_t count);

}  // namespace hostkit::oslog

#define os_log(log, format, ...) \
  ::hostkit::oslog::write((log), OS_LOG_TYPE_DEFAULT, format __VA_OPT__(, ) __VA_ARGS__)
#define os_log_info(log, format, ...) \
  ::hostkit::oslog::write((log), OS_LOG_TYPE_INFO, format __VA_OPT__(, ) __VA_ARGS__)
#define os_log_debug(log, format, ...) \
  ::hostkit::oslog::write((log), OS_LOG_TYPE_DEBUG, format __VA_OPT__(, ) __VA_ARGS__)
#define os_log_error(log, format, ...) \
  ::hostkit::oslog::write((log), OS_LOG_TYPE_ERROR, format __VA_OPT__(, ) __VA_ARGS__)
#define os_log_fault(log, format, ...) \
  ::hostkit::oslog::write((log), OS_LOG_TYPE_FAULT, format __VA_OPT__(, ) __VA_ARGS__)
