// A deterministic mutation fuzzer that needs no special compiler: from each target's seeds it derives inputs by
// bit flips, byte insertions and deletions, token splices and truncations, with a fixed seed so a failure is
// replayed exactly. Run by CTest; `fuzz_smoke N SEED` runs N inputs per target.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "fuzz_targets.h"

namespace {

const char* const kTokens[] = {"%", "%2", "%25", "%zz", "+", "=", "&", "&&", "{", "}", "[", "\"", ":", ",",
                               "\\u0000", "\\ud800", "1e309", "-0", ".", "..", "00", "://", "@", "[::", "]",
                               "\xff", "\xc3\x28", "==", "/", "?", "#", "null", "true", "99999999999999999999"};

std::string mutate(std::string s, std::mt19937_64& rng) {
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < rounds; ++i) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[pos % s.size()] = static_cast<char>(s[pos % s.size()] ^ (1u << (rng() % 8)));
        break;
      case 1: s.insert(pos, 1, static_cast<char>(rng() % 256)); break;
      case 2:
        if (!s.empty()) s.erase(pos % s.size(), 1 + rng() % 4);
        break;
      case 3: s.insert(pos, kTokens[rng() % (sizeof kTokens / sizeof *kTokens)]); break;
      case 4: s = s.substr(0, pos); break;
      case 5: s += s.substr(0, std::min<size_t>(s.size(), 64)); break;
    }
    if (s.size() > 4096) s.resize(4096);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = argc > 1 ? std::atol(argv[1]) : 20000;
  unsigned long long seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261122;
  for (const auto* t = paygate::fuzz::targets(); t->name; ++t) {
    std::mt19937_64 rng(seed);
    std::vector<std::string> pool;
    for (const char* const* s = t->seeds; *s; ++s) pool.emplace_back(*s);
    for (long i = 0; i < runs; ++i) {
      std::string input = mutate(pool[rng() % pool.size()], rng);
      t->run(input);
      if (pool.size() < 256 && rng() % 64 == 0) pool.push_back(std::move(input));  // keep some as new seeds
    }
    std::printf("fuzz %-16s %ld inputs, seed %llu: ok\n", t->name, runs, seed);
  }
  return 0;
}
