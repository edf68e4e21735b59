// Wire-format pieces the merchant protocol codecs share: the flat JSON object reader that keeps a number's
// exact text, JSON string literals, and the "success" acknowledgement test. Pure: no I/O.
#pragma once
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/field_map.h"
#include "base/result.h"

namespace paygate::protocols {

// Field name -> value as received (after form or JSON decoding).
using Fields = FieldMap;  // base/field_map.h: sorted, unique keys

// The value of a field, or "" when absent: an absent field signs as an empty value.
std::string_view field(const Fields& f, std::string_view name);

// ok, or kInvalidArgument "missing required field <name>" for the first of `names` absent or empty.
Status require_fields(const Fields& f, std::initializer_list<const char*> names);

// How a field the merchant sent is named in a message: "field <name>" for a short printable ASCII name, "a field"
// otherwise, so a message never carries arbitrary bytes.
std::string describe_field(std::string_view name);

// A decoded form's fields (http::FormFields: the values, and the names that came more than once), refused
// (kInvalidArgument) when a field came twice, since nobody can tell which value the merchant signed, or when a
// name or value is not UTF-8, which all three documents require. The message names the field (describe_field).
Status check_form_fields(const Fields& values, const std::vector<std::string>& repeated);

// An absolute http:// or https:// URL of at most bytes_max bytes (kInvalidArgument naming `name` otherwise).
Status check_http_url(std::string_view name, std::string_view value, size_t bytes_max);

// Free text (names of people and banks): UTF-8, at most bytes_max bytes, no control characters.
Status check_text(std::string_view name, std::string_view value, size_t bytes_max);

struct FlatJsonOptions {
  size_t fields_max = std::numeric_limits<size_t>::max();
  // Try the fast reader first (plain members only, see parse_flat_json_object). false: the general parser alone,
  // for the tests that compare the two.
  bool fast_path = true;
};

enum class FlatJsonProblem {
  kNone,
  kNotJson,            // malformed JSON; `detail` says where and what
  kNotUtf8,            // a string holds bytes that are not UTF-8; `detail` says where
  kNotAnObject,        // valid JSON, but not an object
  kNotStringOrNumber,  // member `key` is an object, an array or a boolean
  kDuplicateKey,       // member `key` appears twice: nobody can tell which value the merchant signed
  kTooManyFields,      // more than fields_max members
};

struct FlatJson {
  Fields fields;
  FlatJsonProblem problem = FlatJsonProblem::kNone;
  std::string key;     // the member concerned, for kNotStringOrNumber and kDuplicateKey (may be any bytes)
  std::string detail;  // for kNotJson and kNotUtf8: "line 1, column 7: <what the parser found>"
  bool ok() const { return problem == FlatJsonProblem::kNone; }
};

// Reads a JSON object whose members are strings, numbers or null, as text. Signatures are over values exactly as
// received, so a number keeps its JSON text (`10.50` stays "10.50", `1e2` stays "1e2", `-0` stays "-0"), strings
// are decoded (escapes resolved, UTF-8 checked), and null reads as an absent member. The whole body must be the
// object (whitespace around it aside).
//
// A request body is read in one pass by a small reader when it is plain: string members without escapes
// (UTF-8 checked), numbers whose text is their value, null, no repeated member. Anything else, every error
// included, goes to the general parser (nlohmann's), which that reader gives way to without a result of its own,
// so the two cannot disagree. The general one alone was ~10 % of an I/O thread's time per gateway pay-in.
FlatJson parse_flat_json_object(std::string_view body, const FlatJsonOptions& options = {});

// A JSON string literal, quotes included: `"` `\` and control characters escaped, everything else (non-ASCII
// UTF-8 included) passed through. Bytes that are not UTF-8 become U+FFFD rather than breaking the document.
std::string json_string(std::string_view s);

// Whether `body`, without a leading UTF-8 byte order mark and with spaces, tabs, CR and LF trimmed at both ends,
// equals `word` ignoring ASCII case. The notification acknowledgements: "success" in any case, "0000". The mark:
// PHP scripts saved as "UTF-8 with BOM" print one before anything else, and the merchant did answer the word.
bool trimmed_equals_ignoring_case(std::string_view body, std::string_view word);

}  // namespace paygate::protocols
