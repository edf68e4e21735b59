// Escaping for HTML pages the server renders itself (the hosted checkout page, its error pages). Every value that
// did not come from a string literal in the source goes through one of these.
#pragma once
#include <string>
#include <string_view>

namespace paygate::http {

// Text for an HTML element's content or a quoted attribute value: & < > " ' become character references. Bytes
// that are not UTF-8 and control characters other than tab, LF and CR become U+FFFD, so no input can end the
// element, the attribute or the document's encoding early.
std::string html_escape(std::string_view s);

// Makes JSON text (as nlohmann::json::dump writes it) safe to place inside an inline <script>: `<`, `>` and `&`
// become \u003c, \u003e and \u0026 (no `</script>`, no `<!--`), and U+2028 / U+2029 become \u2028 / \u2029 (line
// terminators in older JavaScript). Valid only for JSON text, where these can occur only inside strings; the result
// is still the same JSON value.
std::string script_safe_json(std::string_view json_text);

// A JSON string literal of `s`, quotes included, safe inside an inline <script> (script_safe_json of its JSON
// encoding; bytes that are not UTF-8 become U+FFFD).
std::string js_string(std::string_view s);

}  // namespace paygate::http
