#include "crypto/crypto.h"

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace paygate::crypto {
namespace {

std::string unhex(std::string_view hex) {
  auto bytes = hex_decode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or("");
}

// Master key 00 01 02 ... 1f, as used for the known answers below (computed with Python's hmac and the
// `cryptography` package, independently of this code).
std::string test_master_key() {
  std::string k(SecretBox::kMasterKeyBytes, '\0');
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<char>(i);
  return k;
}

TEST(Md5, Rfc1321TestSuite) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const auto& [input, lower] : cases) {
    EXPECT_EQ(md5_hex_lower(input), lower) << input;
    std::string upper = lower;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(md5_hex_upper(input), upper) << input;
  }
}

TEST(Md5, HashesUtf8BytesAsGiven) {
  // The signing strings are UTF-8; MD5 is over the bytes, including any embedded NUL.
  EXPECT_EQ(md5_hex_lower(std::string("a\0b", 3)), md5_hex_lower(std::string("a\0b", 3)));
  EXPECT_NE(md5_hex_lower(std::string("a\0b", 3)), md5_hex_lower("a"));
}

TEST(Sha256, KnownAnswers) {
  // FIPS 180-2 appendix B examples and the empty string.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HmacSha256, Rfc4231) {
  // Test case 1.
  EXPECT_EQ(hex_encode_lower(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2.
  EXPECT_EQ(hex_encode_lower(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, EmptyKeyAndDataAndRawLength) {
  // An empty key is legal HMAC (padded with zeros); value from Python's hmac module.
  EXPECT_EQ(hex_encode_lower(hmac_sha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(hmac_sha256("k", "d").size(), 32u);
}

TEST(Hex, EncodesBothCases) {
  const std::string bytes("\x00\xff\x10\xab\x61\x62", 6);
  EXPECT_EQ(hex_encode_lower(bytes), "00ff10ab6162");
  EXPECT_EQ(hex_encode_upper(bytes), "00FF10AB6162");
  EXPECT_EQ(hex_encode_lower(""), "");
}

TEST(Hex, DecodesAnyCase) {
  EXPECT_EQ(hex_decode("00ff10ab6162"), std::string("\x00\xff\x10\xab\x61\x62", 6));
  EXPECT_EQ(hex_decode("00FF10AB6162"), std::string("\x00\xff\x10\xab\x61\x62", 6));
  EXPECT_EQ(hex_decode("aB"), std::string("\xab"));
  EXPECT_EQ(hex_decode(""), std::string());
}

TEST(Hex, RejectsOddLengthAndNonHex) {
  for (const char* bad : {"0", "abc", "0g", "zz", "g0", " 00", "00 ", "0x00", "-1", "0\n", "+0"}) {
    EXPECT_FALSE(hex_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(hex_decode(std::string("0\0", 2)).has_value());
}

TEST(Base64, Rfc4648Section10Vectors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Base64, UsesStandardAlphabetAndRoundTripsAllBytes) {
  EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(base64_decode("+/+/"), std::string("\xfb\xff\xbf"));
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); ++n) {
    const std::string part = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(part)), part) << n;
  }
}

TEST(Base64, StrictDecodingRejects) {
  for (const char* bad : {
           "Zg",        // missing padding
           "Zg=",       // length not a multiple of 4
           "Zm9vY",     // length not a multiple of 4
           "Z===",      // too much padding
           "====",      // padding only
           "=Zm9",      // padding first
           "Zg==Zg==",  // padding in the middle
           "Zm9v====",  // padding block after a full group
           "Zm=v",      // '=' inside a group
           "Zh==",      // non-zero unused bits (non-canonical 'f')
           "Zm9=",      // non-zero unused bits with one '='
           "Zm9v\n",    // newline
           "Zm9v\r\n",  // CRLF
           " Zm9v",     // leading space
           "Zm9v ",     // trailing space
           "Zm 9v",     // inner space
           "Zm9-",      // URL-safe alphabet
           "Zm9_",      // URL-safe alphabet
           "Zm9.",      // not in any alphabet
       }) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(base64_decode(std::string("Zm9\0", 4)).has_value());
}

TEST(ConstantTimeHexCompare, IgnoresCaseOnly) {
  EXPECT_TRUE(hex_equal_ci_constant_time("", ""));
  EXPECT_TRUE(hex_equal_ci_constant_time("00ff10ab", "00ff10ab"));
  EXPECT_TRUE(hex_equal_ci_constant_time("00ff10ab", "00FF10AB"));
  EXPECT_TRUE(hex_equal_ci_constant_time("00Ff10aB", "00fF10Ab"));
  EXPECT_TRUE(hex_equal_ci_constant_time(md5_hex_upper("x"), md5_hex_lower("x")));
  // A difference anywhere counts, first or last.
  EXPECT_FALSE(hex_equal_ci_constant_time("10ff10ab", "00ff10ab"));
  EXPECT_FALSE(hex_equal_ci_constant_time("00ff10ab", "00ff10ac"));
  EXPECT_FALSE(hex_equal_ci_constant_time("00ff10ab", "00ff10aB0"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit but are not letters, and a
  // control character must not match a digit.
  EXPECT_FALSE(hex_equal_ci_constant_time("@", "`"));
  EXPECT_FALSE(hex_equal_ci_constant_time("[", "{"));
  EXPECT_FALSE(hex_equal_ci_constant_time("0", "\x10"));
}

TEST(ConstantTimeHexCompare, DifferentLengthsAreUnequal) {
  EXPECT_FALSE(hex_equal_ci_constant_time("", "0"));
  EXPECT_FALSE(hex_equal_ci_constant_time("abcd", "abc"));
  EXPECT_FALSE(hex_equal_ci_constant_time("abc", "abcd"));
  EXPECT_FALSE(hex_equal_ci_constant_time(md5_hex_lower("x"), sha256_hex("x")));
}

TEST(Aes128Ecb, Fips197KnownAnswerPlusPaddingBlock) {
  // ECB encrypts blocks independently, so the first block of a padded 16-byte plaintext is FIPS-197 appendix C.1
  // (69c4e0d8...). The second block is the full PKCS#7 padding block (16 x 0x10) under the same key, from
  // `openssl enc -aes-128-ecb -K 000102030405060708090a0b0c0d0e0f`.
  const std::string key = unhex("000102030405060708090a0b0c0d0e0f");
  const std::string plain = unhex("00112233445566778899aabbccddeeff");
  const std::string cipher = aes128_ecb_encrypt(key, plain);
  EXPECT_EQ(hex_encode_lower(cipher),
            "69c4e0d86a7b0430d8cdb78070b4c55a"
            "954f64f2e4e86e9eee82d20216684899");
  auto back = aes128_ecb_decrypt(key, cipher);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, plain);
}

TEST(Aes128Ecb, ConsignDocumentKnownAnswer) {
  // From tests/vectors/consign_aes.json (Java and PHP samples agree): "abc123" under "1234567890abcdef" is the
  // base64 "dUsLKixe85D0ldDEI4T90A==".
  const std::string cipher = aes128_ecb_encrypt("1234567890abcdef", "abc123");
  EXPECT_EQ(base64_encode(cipher), "dUsLKixe85D0ldDEI4T90A==");
  EXPECT_EQ(hex_encode_lower(cipher), "754b0b2a2c5ef390f495d0c42384fdd0");
}

TEST(Aes128Ecb, RoundTripsEveryLengthWithPkcs7Padding) {
  const std::string key = "0123456789abcdef";
  for (size_t n = 0; n <= 48; ++n) {
    const std::string plain(n, static_cast<char>('a' + n % 26));
    const std::string cipher = aes128_ecb_encrypt(key, plain);
    // PKCS#7 always adds 1..16 bytes, so a whole-block plaintext grows by one block.
    EXPECT_EQ(cipher.size(), (n / 16 + 1) * 16) << n;
    auto back = aes128_ecb_decrypt(key, cipher);
    ASSERT_TRUE(back.ok()) << n << ": " << back.error().message;
    EXPECT_EQ(*back, plain);
  }
}

TEST(Aes128Ecb, DecryptRejectsBadKeyLengthBadLengthAndBadPadding) {
  const std::string key = "0123456789abcdef";
  const std::string cipher = aes128_ecb_encrypt(key, "secret");
  for (const std::string& bad_key : {std::string(), std::string("0123456789abcde"), key + "0", key + key}) {
    auto r = aes128_ecb_decrypt(bad_key, cipher);
    ASSERT_FALSE(r.ok()) << bad_key.size();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  for (const std::string& bad : {std::string(), cipher.substr(0, 15), cipher + "x", cipher + cipher.substr(0, 8)}) {
    auto r = aes128_ecb_decrypt(key, bad);
    ASSERT_FALSE(r.ok()) << bad.size();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  // A block of zeros decrypts under this key to a block ending in 0xfc, not valid PKCS#7 padding (checked with
  // `openssl enc -d -nopad`). A wrong key can occasionally yield valid padding; see
  // card_password_test.cpp for such a key.
  auto r = aes128_ecb_decrypt(key, std::string(16, '\0'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// Each thread keeps its decryption context keyed for the last key: keys taking turns, and a failed decryption
// (bad padding) before a good one, must not change any answer.
TEST(Aes128Ecb, DecryptionsUnderKeysTakingTurnsAndAfterAFailureAreUnchanged) {
  const std::string doc_key = "1234567890abcdef";
  const std::string doc_cipher = unhex("754b0b2a2c5ef390f495d0c42384fdd0");  // "abc123", the document's vector
  const std::string other_key = "0123456789abcdef";
  for (int i = 0; i < 10; ++i) {
    const std::string plain = "password-" + std::to_string(i);
    const std::string cipher = aes128_ecb_encrypt(other_key, plain);
    auto back = aes128_ecb_decrypt(other_key, cipher);
    ASSERT_TRUE(back.ok()) << i;
    EXPECT_EQ(*back, plain);
    back = aes128_ecb_decrypt(doc_key, doc_cipher);
    ASSERT_TRUE(back.ok()) << i;
    EXPECT_EQ(*back, "abc123");
    EXPECT_FALSE(aes128_ecb_decrypt(other_key, std::string(16, '\0')).ok()) << "bad padding";
    back = aes128_ecb_decrypt(other_key, cipher);  // same key right after the failure
    ASSERT_TRUE(back.ok()) << i;
    EXPECT_EQ(*back, plain);
    auto wrong_key = aes128_ecb_decrypt(doc_key, cipher);  // the other key's value under the document's key
    EXPECT_TRUE(!wrong_key.ok() || *wrong_key != plain) << i;
  }
  std::string on_other_thread;
  std::thread other([&] {
    auto r = aes128_ecb_decrypt(doc_key, doc_cipher);
    on_other_thread = r.ok() ? *r : "failed";
  });
  other.join();
  EXPECT_EQ(on_other_thread, "abc123");
}

TEST(RandomBytes, GivesRequestedLengthAndDiffers) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(100).size(), 100u);
  // 2^-256 chance of a false failure.
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(SecretBox, SealOpenRoundTrip) {
  const SecretBox box(test_master_key());
  for (const std::string& plain : {std::string(), std::string("s"), std::string("merchant sign key"),
                                   std::string(1000, 'x'), std::string("\0\xff\x01", 3)}) {
    const std::string sealed = box.seal(plain, "merchant:42:sign_key");
    EXPECT_EQ(sealed.size(), 1 + 12 + plain.size() + 16);
    EXPECT_EQ(sealed[0], '\x01');
    auto opened = box.open(sealed, "merchant:42:sign_key");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(*opened, plain);
  }
  // Empty aad is allowed and still binds (empty != non-empty).
  auto opened = box.open(box.seal("v", ""), "");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "v");
}

TEST(SecretBox, NonceIsFreshEachSeal) {
  const SecretBox box(test_master_key());
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(box.seal("same", "aad"));
  EXPECT_EQ(seen.size(), 50u);
}

// Nonces are drawn ahead per thread (base/clock.h): none repeats across many draws, nor between threads.
TEST(SecretBox, NoncesNeverRepeatAcrossDrawsAndThreads) {
  const SecretBox box(test_master_key());
  constexpr int kSealsPerThread = 1000;
  std::vector<std::string> nonces[2];
  std::thread other([&] {
    for (int i = 0; i < kSealsPerThread; ++i) nonces[1].push_back(box.seal("same", "aad").substr(1, 12));
  });
  for (int i = 0; i < kSealsPerThread; ++i) nonces[0].push_back(box.seal("same", "aad").substr(1, 12));
  other.join();
  std::set<std::string> seen(nonces[0].begin(), nonces[0].end());
  seen.insert(nonces[1].begin(), nonces[1].end());
  EXPECT_EQ(seen.size(), 2u * kSealsPerThread);
  EXPECT_EQ(seen.count(std::string(12, '\0')), 0u) << "a used nonce was cleared before it was handed out";
}

TEST(SecretBox, OpensValueSealedByAnIndependentImplementation) {
  // Sealed with Python `cryptography` AESGCM, key = HMAC-SHA256(master 00..1f, "paygate.secretbox.enc.v1"),
  // nonce 00..0b: pins the key derivation and the byte layout, so stored values stay readable.
  const std::string sealed =
      unhex("01000102030405060708090a0bdf2ffc92aa5f283d5ae12403d9e2dd5c3eab135bc099db2936221f940ae0b42a22");
  const SecretBox box(test_master_key());
  auto opened = box.open(sealed, "merchant:42:sign_key");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "merchant sign key");
}

void expect_corrupt(const Result<std::string>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << what;
  EXPECT_EQ(r.error().message, "sealed value is corrupt or was sealed under another key") << what;
}

TEST(SecretBox, WrongAadFails) {
  const SecretBox box(test_master_key());
  const std::string sealed = box.seal("secret", "merchant:42:sign_key");
  expect_corrupt(box.open(sealed, "merchant:43:sign_key"), "other row");
  expect_corrupt(box.open(sealed, ""), "empty aad");
  expect_corrupt(box.open(sealed, "merchant:42:sign_key "), "trailing space");
  expect_corrupt(box.open(box.seal("secret", ""), "x"), "aad added");
}

TEST(SecretBox, AnyTamperedByteFails) {
  const SecretBox box(test_master_key());
  const std::string sealed = box.seal("card 6222020200112233", "card:7");
  // Version byte, every nonce byte, every ciphertext byte, every tag byte.
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string t = sealed;
      t[i] = static_cast<char>(static_cast<unsigned char>(t[i]) ^ flip);
      expect_corrupt(box.open(t, "card:7"), "byte " + std::to_string(i));
    }
  }
}

TEST(SecretBox, WrongVersionShortAndExtendedInputFail) {
  const SecretBox box(test_master_key());
  const std::string sealed = box.seal("secret", "a");
  for (size_t n = 0; n < sealed.size(); ++n)
    expect_corrupt(box.open(sealed.substr(0, n), "a"), "len " + std::to_string(n));
  expect_corrupt(box.open(sealed + "x", "a"), "appended byte");
  std::string v2 = sealed;
  v2[0] = '\x02';
  expect_corrupt(box.open(v2, "a"), "version 2");
  std::string v0 = sealed;
  v0[0] = '\x00';
  expect_corrupt(box.open(v0, "a"), "version 0");
  expect_corrupt(box.open(std::string(1 + 12 + 16, '\x01'), "a"), "minimal garbage");
}

TEST(SecretBox, OtherMasterKeyFails) {
  const SecretBox box(test_master_key());
  std::string other_key = test_master_key();
  other_key[31] ^= 1;
  const SecretBox other(other_key);
  expect_corrupt(other.open(box.seal("secret", "a"), "a"), "other master key");
}

TEST(SecretBox, FingerprintIsDeterministicKeyedAndPinned) {
  const SecretBox box(test_master_key());
  // HMAC-SHA256(HMAC-SHA256(master, "paygate.fingerprint.v1"), data), from Python's hmac module.
  EXPECT_EQ(box.fingerprint("6222020200112233"), "2221fbb3d9e25a7f7195fdc1db3aa5b44da56ce02da0bfb4791f571d9c92e258");
  EXPECT_EQ(box.fingerprint("6222020200112233"), SecretBox(test_master_key()).fingerprint("6222020200112233"));
  EXPECT_NE(box.fingerprint("6222020200112233"), box.fingerprint("6222020200112234"));
  std::string other_key = test_master_key();
  other_key[0] ^= 1;
  EXPECT_NE(SecretBox(other_key).fingerprint("6222020200112233"), box.fingerprint("6222020200112233"));
  // Not a plain hash and not an HMAC under the master key itself.
  EXPECT_NE(box.fingerprint("x"), sha256_hex("x"));
  EXPECT_NE(box.fingerprint("x"), hex_encode_lower(hmac_sha256(test_master_key(), "x")));
}

// Each thread keeps its own keyed HMAC context and restarts it per fingerprint: no call sees another's data.
TEST(SecretBox, FingerprintsRepeatAcrossCallsAndThreads) {
  const SecretBox box(test_master_key());
  const std::string pinned = "2221fbb3d9e25a7f7195fdc1db3aa5b44da56ce02da0bfb4791f571d9c92e258";
  std::vector<std::string> from_other;
  std::thread other([&] {
    for (int i = 0; i < 500; ++i) from_other.push_back(box.fingerprint(i % 2 == 0 ? "6222020200112233" : "y"));
  });
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(box.fingerprint("6222020200112233"), pinned) << i;
    ASSERT_EQ(box.fingerprint(""), box.fingerprint("")) << i;
  }
  other.join();
  for (size_t i = 0; i < from_other.size(); i += 2) EXPECT_EQ(from_other[i], pinned) << i;
  for (size_t i = 1; i < from_other.size(); i += 2) EXPECT_EQ(from_other[i], box.fingerprint("y")) << i;
}

// The per-thread contexts are keyed for one box at a time: boxes taking turns on a thread, a box made where a
// freed one was, and a failed open before a good one must each use their own key.
TEST(SecretBox, BoxesTakingTurnsOnOneThreadUseTheirOwnKeys) {
  const std::string pinned = "2221fbb3d9e25a7f7195fdc1db3aa5b44da56ce02da0bfb4791f571d9c92e258";
  std::string other_key = test_master_key();
  other_key[0] ^= 1;
  const SecretBox a(test_master_key());
  const SecretBox b(other_key);
  const std::string b_print = b.fingerprint("6222020200112233");
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(a.fingerprint("6222020200112233"), pinned) << i;
    ASSERT_EQ(b.fingerprint("6222020200112233"), b_print) << i;
    const std::string from_a = a.seal("card " + std::to_string(i), "aad");
    const std::string from_b = b.seal("card " + std::to_string(i), "aad");
    expect_corrupt(b.open(from_a, "aad"), "b opening a's value");
    auto opened = a.open(from_a, "aad");  // right after a failed open on this thread
    ASSERT_TRUE(opened.ok()) << i;
    EXPECT_EQ(*opened, "card " + std::to_string(i));
    opened = b.open(from_b, "aad");
    ASSERT_TRUE(opened.ok()) << i;
    EXPECT_EQ(*opened, "card " + std::to_string(i));
  }
  for (int i = 0; i < 5; ++i) {
    // Made and freed in turn, so a new box often lands where the last one was.
    auto first = std::make_unique<SecretBox>(test_master_key());
    EXPECT_EQ(first->fingerprint("6222020200112233"), pinned);
    const std::string sealed = first->seal("v", "aad");
    first.reset();
    auto second = std::make_unique<SecretBox>(other_key);
    EXPECT_EQ(second->fingerprint("6222020200112233"), b_print);
    expect_corrupt(second->open(sealed, "aad"), "a value of the freed box");
  }
  // The independently sealed value still opens after all of the above on this thread.
  auto known =
      a.open(unhex("01000102030405060708090a0bdf2ffc92aa5f283d5ae12403d9e2dd5c3eab135bc099db2936221f940ae0b42a22"),
             "merchant:42:sign_key");
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(*known, "merchant sign key");
}

TEST(SecretBox, DisplayFingerprintIsSha256Prefix) {
  EXPECT_EQ(SecretBox::display_fingerprint("abc"), "ba7816bf8f01");
  EXPECT_EQ(SecretBox::display_fingerprint("").size(), 12u);
}

}  // namespace
}  // namespace paygate::crypto
