#include "crypto/card_password.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace paygate::crypto {
namespace {

struct Vector {
  std::string key;
  std::string plaintext;
  std::string source;
  std::string card_password;
};

// tests/vectors/consign_aes.json, produced by the document's Java and PHP samples (see the README there).
std::vector<Vector> load_vectors() {
  const std::string path = PAYGATE_SOURCE_DIR "/tests/vectors/consign_aes.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  if (!in.good()) return {};
  const nlohmann::json doc = nlohmann::json::parse(in);
  std::vector<Vector> out;
  for (const auto& v : doc) {
    out.push_back({v.at("key").get<std::string>(), v.at("plaintext").get<std::string>(),
                   v.at("source").get<std::string>(), v.at("cardPassword").get<std::string>()});
  }
  return out;
}

std::string to_upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void expect_error(const Result<std::string>& r, ErrorCode code, std::string_view message, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " decoded to " << r.value();
  EXPECT_EQ(r.error().code, code) << what;
  EXPECT_EQ(r.error().message, message) << what;
}

constexpr std::string_view kKey = "1234567890abcdef";

// cardPassword hex -> the raw AES ciphertext.
std::string unhex_base64(std::string_view hex) {
  const auto b64 = hex_decode(hex);
  if (!b64) return {};
  return base64_decode(*b64).value_or("");
}

TEST(CardPasswordVectors, FileHasTheRequiredCases) {
  const auto vectors = load_vectors();
  ASSERT_GE(vectors.size(), 6u);
  for (const auto& v : vectors) {
    EXPECT_EQ(v.key.size(), 16u) << v.plaintext;
    EXPECT_FALSE(v.source.empty());
  }
}

TEST(CardPasswordVectors, EncodeGivesExactlyTheVector) {
  for (const auto& v : load_vectors()) {
    EXPECT_EQ(encode_card_password(v.plaintext, v.key), v.card_password) << v.plaintext;
  }
}

TEST(CardPasswordVectors, DecodeGivesBackThePlaintextFromAnyCase) {
  for (const auto& v : load_vectors()) {
    for (const std::string& hex : {v.card_password, to_upper(v.card_password)}) {
      auto r = decode_card_password(hex, v.key);
      ASSERT_TRUE(r.ok()) << v.plaintext << ": " << r.error().message;
      EXPECT_EQ(*r, v.plaintext);
    }
    // Mixed case: upper-case every other character.
    std::string mixed = v.card_password;
    for (size_t i = 0; i < mixed.size(); i += 2)
      mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
    auto r = decode_card_password(mixed, v.key);
    ASSERT_TRUE(r.ok()) << v.plaintext;
    EXPECT_EQ(*r, v.plaintext);
  }
}

TEST(CardPassword, RoundTripsMoreLengths) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string plain(n, static_cast<char>('0' + n % 10));
    auto r = decode_card_password(encode_card_password(plain, kKey), kKey);
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_EQ(*r, plain);
  }
}

TEST(CardPassword, RejectsEmpty) {
  expect_error(decode_card_password("", kKey), ErrorCode::kInvalidArgument, kCardPasswordEmpty, "empty");
}

TEST(CardPassword, RejectsNonHex) {
  const std::string good = encode_card_password("abc123", kKey);
  expect_error(decode_card_password(good.substr(0, good.size() - 1), kKey), ErrorCode::kInvalidArgument,
               kCardPasswordNotHex, "odd length");
  expect_error(decode_card_password("zz" + good, kKey), ErrorCode::kInvalidArgument, kCardPasswordNotHex, "zz");
  expect_error(decode_card_password(good + " ", kKey), ErrorCode::kInvalidArgument, kCardPasswordNotHex, "space");
  // The base64 text itself, sent without the hex step.
  expect_error(decode_card_password("dUsLKixe85D0ldDEI4T90A==", kKey), ErrorCode::kInvalidArgument, kCardPasswordNotHex,
               "raw base64");
}

TEST(CardPassword, RejectsHexThatIsNotBase64) {
  // Valid hex whose bytes are not strict base64.
  for (const char* text :
       {"not base64!", "Zg=", "dUsLKixe85D0ldDEI4T90A=", "dUsLKixe85D0ldDEI4T90A==\n", "dUsLKixe85D0ldDEI4T90A-_"}) {
    expect_error(decode_card_password(hex_encode_lower(text), kKey), ErrorCode::kInvalidArgument,
                 kCardPasswordNotBase64, text);
  }
  // Hex of the raw ciphertext, skipping the base64 step.
  expect_error(decode_card_password("754b0b2a2c5ef390f495d0c42384fdd0", kKey), ErrorCode::kInvalidArgument,
               kCardPasswordNotBase64, "raw ciphertext hex");
}

TEST(CardPassword, RejectsBase64OfNonWholeBlocks) {
  // (Zero bytes would be hex "", which is reported as empty.)
  for (const std::string& bytes : {std::string("0123456789"), std::string(1, 'x'), std::string(15, 'x'),
                                   std::string(17, 'x'), std::string(31, 'x')}) {
    expect_error(decode_card_password(hex_encode_lower(base64_encode(bytes)), kKey), ErrorCode::kInvalidArgument,
                 kCardPasswordNoDecrypt, std::to_string(bytes.size()) + " bytes");
  }
}

TEST(CardPassword, WrongKeyWithBadPaddingIsReportedAsNotDecrypting) {
  // "abc123" under kKey; under this other key its one block does not decrypt to valid PKCS#7 padding (checked
  // with `openssl enc -d`), so the padding check catches it.
  const std::string hex = encode_card_password("abc123", kKey);
  EXPECT_FALSE(aes128_ecb_decrypt("wrongkey00000000", unhex_base64(hex)).ok());
  expect_error(decode_card_password(hex, "wrongkey00000000"), ErrorCode::kInvalidArgument, kCardPasswordNoDecrypt,
               "wrong key");
}

TEST(CardPassword, WrongKeyCanPassThePaddingCheckAndIsThenCaughtByUtf8) {
  // About 1 wrong key in 256 leaves valid padding (a last byte 0x01 is enough). This one was found by trying
  // "wrongkey%08d" with `openssl enc -d` on the "abc123" vector: it decrypts to the 15 bytes
  // a3826b3d33d0140ee748e826b31c17 and a 0x01 pad. Padding alone cannot tell; the UTF-8 check does here, but
  // random bytes can be valid UTF-8 too (rarely), so neither check is a guarantee.
  const std::string hex = encode_card_password("abc123", kKey);
  auto raw = aes128_ecb_decrypt("wrongkey00000504", unhex_base64(hex));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(hex_encode_lower(*raw), "a3826b3d33d0140ee748e826b31c17");
  expect_error(decode_card_password(hex, "wrongkey00000504"), ErrorCode::kInvalidArgument, kCardPasswordNotUtf8,
               "wrong key with valid padding");
}

TEST(CardPassword, RejectsPlaintextThatIsNotUtf8) {
  for (const std::string& bad : {std::string("\xff"), std::string("\xc0\xaf"),  // invalid byte, overlong '/'
                                 std::string("\xe0\x80\xaf"),                   // overlong, 3 bytes
                                 std::string("\xed\xa0\x80"),                   // UTF-16 surrogate
                                 std::string("\xf4\x90\x80\x80"),               // above U+10FFFF
                                 std::string("\xe5\x8d"),                       // truncated 卡
                                 std::string("ok\x80"),                         // stray continuation byte
                                 std::string("\xf8\x88\x80\x80\x80")}) {        // 5-byte form
    expect_error(decode_card_password(encode_card_password(bad, kKey), kKey), ErrorCode::kInvalidArgument,
                 kCardPasswordNotUtf8, hex_encode_lower(bad));
  }
  for (const std::string& good : {std::string("\xc2\x80"), std::string("\xe5\x8d\xa1\xe5\xaf\x86"),  // 卡密
                                  std::string("\xf0\x9f\x98\x80"),                                   // U+1F600
                                  std::string("\xf4\x8f\xbf\xbf"), std::string("\x7f\x01", 2)}) {
    auto r = decode_card_password(encode_card_password(good, kKey), kKey);
    ASSERT_TRUE(r.ok()) << hex_encode_lower(good);
    EXPECT_EQ(*r, good);
  }
}

TEST(CardPassword, WrongKeyLengthIsAnErrorNotAnAssertion) {
  const std::string hex = encode_card_password("abc123", kKey);
  for (const std::string& key :
       {std::string(), std::string("123456789012345"), std::string("1234567890abcdef0"), std::string(32, 'k')}) {
    expect_error(decode_card_password(hex, key), ErrorCode::kFailedPrecondition, kCardPasswordBadKey,
                 std::to_string(key.size()) + "-byte key");
  }
}

}  // namespace
}  // namespace paygate::crypto
