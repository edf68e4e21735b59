// Fuzz targets for everything that parses bytes from the network. Each target must never crash, hang or
// trip an assertion, and checks the round-trip properties its parser promises.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace paygate::fuzz {

struct Target {
  const char* name;
  void (*run)(std::string_view input);
  const char* const* seeds;  // null-terminated
};

// All targets, null-terminated.
const Target* targets();

}  // namespace paygate::fuzz
