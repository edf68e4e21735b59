// Byte-level text checks shared by the protocol codecs and the card password decoder.
#pragma once
#include <string>
#include <string_view>

namespace paygate {

// RFC 3629 well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view s);

// Every byte in 0x21..0x7E: printable ASCII without spaces. Ids that go into signing strings, log lines and
// messages unchanged.
bool is_printable_ascii_no_space(std::string_view s);

// Any C0 control character (0x00..0x1F) or DEL (0x7F).
bool has_control_chars(std::string_view s);

// Every byte an ASCII digit (true for ""; callers check the length).
bool all_ascii_digits(std::string_view s);

// 'A'..'Z' to 'a'..'z'; every other byte, UTF-8 included, unchanged.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string ascii_lower(std::string_view s);

// Without leading and trailing spaces and tabs (HTTP's optional whitespace around a field value or list element).
std::string_view trim_blanks(std::string_view s);
// Equal when ASCII letters are compared without case; other bytes exactly.
bool equals_ignoring_ascii_case(std::string_view a, std::string_view b);

}  // namespace paygate
