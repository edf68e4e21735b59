// FieldMap keeps std::map's meaning for what the protocols use: checked against a std::map driven by the same
// seeded sequence of operations, and on the cases a decoder meets (repeats, empty keys, bytes above 0x7F).
#include "base/field_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace paygate {
namespace {

using Reference = std::map<std::string, std::string, std::less<>>;

void expect_same(const FieldMap& f, const Reference& ref) {
  ASSERT_EQ(f.size(), ref.size());
  auto it = f.begin();
  for (const auto& [key, value] : ref) {
    EXPECT_EQ(it->first, key);
    EXPECT_EQ(it->second, value);
    ++it;
  }
}

TEST(FieldMap, EmplaceKeepsTheFirstValueAndIteratesInKeyOrder) {
  FieldMap f;
  EXPECT_TRUE(f.emplace("sign", "A").second);
  EXPECT_TRUE(f.emplace("amount", "1.00").second);
  auto [it, inserted] = f.emplace("sign", "B");
  EXPECT_FALSE(inserted);
  EXPECT_EQ(it->second, "A");
  EXPECT_TRUE(f.emplace("", "empty key").second);
  EXPECT_TRUE(f.emplace("\xE5\x90\x8D", "utf-8 key").second);  // above every ASCII key, as in std::map
  expect_same(f, Reference{{"", "empty key"}, {"amount", "1.00"}, {"sign", "A"}, {"\xE5\x90\x8D", "utf-8 key"}});
}

TEST(FieldMap, LookUpsOfMissingKeysFindNothing) {
  FieldMap f{{"b", "2"}, {"d", "4"}};
  EXPECT_EQ(f.find("a"), f.end());
  EXPECT_EQ(f.find("c"), f.end());
  EXPECT_EQ(f.find("e"), f.end());
  EXPECT_EQ(f.find("b2"), f.end());
  EXPECT_EQ(f.count("d"), 1u);
  EXPECT_FALSE(f.contains("bb"));
  EXPECT_EQ(f.at("d"), "4");
  EXPECT_THROW(static_cast<void>(f.at("x")), std::out_of_range);
  FieldMap none;
  EXPECT_EQ(none.find(""), none.end());
}

TEST(FieldMap, ARepeatedKeyInTheInitializerKeepsItsFirstValue) {
  FieldMap f{{"a", "1"}, {"a", "2"}};
  EXPECT_EQ(f.size(), 1u);
  EXPECT_EQ(f.at("a"), "1");
}

TEST(FieldMap, AgreesWithStdMapOverSeededOperations) {
  std::mt19937 rng(20261123);
  const char* keys[] = {"", "a", "amount", "appKey", "b", "sign", "sign2", "z", "\x7F", "\xC3\xA9"};
  for (int round = 0; round < 200; ++round) {
    FieldMap f;
    Reference ref;
    for (int op = 0; op < 60; ++op) {
      const std::string key = keys[rng() % std::size(keys)];
      const std::string value = std::to_string(rng() % 1000);
      switch (rng() % 5) {
        case 0: {
          auto got = f.emplace(key, value);
          auto want = ref.emplace(key, value);
          EXPECT_EQ(got.second, want.second);
          EXPECT_EQ(got.first->second, want.first->second);
          break;
        }
        case 1:
          f.insert_or_assign(key, value);
          ref.insert_or_assign(key, value);
          break;
        case 2:
          f[key] += value;
          ref[key] += value;
          break;
        case 3:
          EXPECT_EQ(f.erase(key), ref.erase(key));
          break;
        default: {
          auto it = f.find(key);
          auto want = ref.find(key);
          ASSERT_EQ(it == f.end(), want == ref.end());
          if (it != f.end()) {
            EXPECT_EQ(it->second, want->second);
          }
        }
      }
      expect_same(f, ref);
    }
  }
}

}  // namespace
}  // namespace paygate
