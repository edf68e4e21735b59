#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace paygate {
namespace {

// Counts the 64-bit draws.
class CountingRandom final : public Random {
 public:
  uint64_t next_u64() override {
    ++draws;
    return inner.next_u64();
  }
  SeededRandom inner{7};
  int draws = 0;
};

TEST(Random, AlnumIsLettersAndDigitsUniformlyFromFewDraws) {
  CountingRandom r;
  std::array<int, 256> counts{};
  constexpr int kIds = 10'000;
  for (int i = 0; i < kIds; ++i) {
    std::string id = r.alnum(12);
    ASSERT_EQ(id.size(), 12u);
    for (unsigned char c : id) {
      ASSERT_TRUE(std::isalnum(c)) << int(c);
      ++counts[c];
    }
  }
  // 120 000 characters over 62: about 1935 each.
  for (int c = 0; c < 256; ++c) {
    if (!std::isalnum(c)) continue;
    EXPECT_GT(counts[c], 1700) << char(c);
    EXPECT_LT(counts[c], 2200) << char(c);
  }
  // Ten 6-bit chunks per draw, 62/64 of them kept: two draws per 12-character id (almost never three), not 12.
  EXPECT_LE(r.draws, kIds * 2 + 10);
  EXPECT_EQ(r.alnum(0), "");
}

// SecureRandom draws from OpenSSL through draw_random_ahead, in 256-byte blocks per thread: every draw still
// differs, across block boundaries and threads.
TEST(Random, SecureDrawsDifferAcrossBlocksAndThreads) {
  constexpr int kDraws = 1'000;  // ~31 blocks per thread
  std::vector<uint64_t> a;
  std::vector<uint64_t> b;
  std::thread other([&] {
    SecureRandom r;
    for (int i = 0; i < kDraws; ++i) b.push_back(r.next_u64());
  });
  SecureRandom r;
  for (int i = 0; i < kDraws; ++i) a.push_back(r.next_u64());
  other.join();
  std::set<uint64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), size_t{2 * kDraws});
  EXPECT_EQ(all.count(0), 0u) << "a used word is cleared in the buffer and never handed out again";
}

// Draws of a size that does not divide the block (GCM nonces are 12 bytes) never repeat and never hand out cleared
// bytes, across block boundaries and threads.
TEST(Random, DrawsAheadOfOddSizesDifferAcrossBlocksAndThreads) {
  constexpr int kDraws = 1'000;  // ~48 blocks per thread
  constexpr size_t kBytes = 12;
  std::vector<std::string> a;
  std::vector<std::string> b;
  auto draw = [](std::vector<std::string>& out) {
    for (int i = 0; i < kDraws; ++i) {
      std::string bytes(kBytes, '\0');
      draw_random_ahead(bytes.data(), bytes.size());
      out.push_back(std::move(bytes));
    }
  };
  std::thread other([&] { draw(b); });
  draw(a);
  other.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), size_t{2 * kDraws});
  EXPECT_EQ(all.count(std::string(kBytes, '\0')), 0u);
}

}  // namespace
}  // namespace paygate
