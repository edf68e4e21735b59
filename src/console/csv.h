// CSV cells for the console's exports (orders, statements, reconciliation), one implementation for all of them.
#pragma once
#include <string>
#include <string_view>

namespace paygate::console {

// Text a spreadsheet would run as a formula (first character = + - @, tab or carriage return) gets a leading
// apostrophe. Only for text cells: amounts are written as they are.
std::string csv_guard(std::string_view v);
// Quoted (quotes doubled) when it holds a comma, a quote or a line break; otherwise as it is.
std::string csv_quote(std::string_view v);
// A text cell: guarded, then quoted.
inline std::string csv_text(std::string_view v) { return csv_quote(csv_guard(v)); }

}  // namespace paygate::console
