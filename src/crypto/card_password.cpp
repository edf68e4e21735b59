#include "crypto/card_password.h"

#include "base/assert.h"
#include "crypto/crypto.h"

namespace paygate::crypto {
namespace {

// RFC 3629 well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. The document says the
// plaintext is UTF-8, and Java's getBytes(UTF_8) can only produce well-formed UTF-8.
bool is_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto t = static_cast<unsigned char>(s[i + k]);
      // Only the first continuation byte has the narrowed range.
      const unsigned char min = k == 1 ? lo : 0x80;
      const unsigned char max = k == 1 ? hi : 0xbf;
      if (t < min || t > max) return false;
    }
    i += n + 1;
  }
  return true;
}

Error invalid(std::string_view message) { return make_error(ErrorCode::kInvalidArgument, std::string(message)); }

}  // namespace

std::string encode_card_password(std::string_view plaintext, std::string_view aes_key16) {
  PG_ASSERT(aes_key16.size() == kCardPasswordKeyBytes, "card password AES key must be 16 bytes");
  // The Java sample lower-cases its hex; the PHP sample's bin2hex is lowercase already.
  return hex_encode_lower(base64_encode(aes128_ecb_encrypt(aes_key16, plaintext)));
}

Result<std::string> decode_card_password(std::string_view hex, std::string_view aes_key16) {
  if (aes_key16.size() != kCardPasswordKeyBytes) {
    return make_error(ErrorCode::kFailedPrecondition, std::string(kCardPasswordBadKey));
  }
  if (hex.empty()) return invalid(kCardPasswordEmpty);
  const std::optional<std::string> b64 = hex_decode(hex);
  if (!b64) return invalid(kCardPasswordNotHex);
  const std::optional<std::string> ciphertext = base64_decode(*b64);
  if (!ciphertext) return invalid(kCardPasswordNotBase64);
  Result<std::string> plaintext = aes128_ecb_decrypt(aes_key16, *ciphertext);
  // Both a length that is not whole blocks and bad padding end here: either way the bytes were not produced by
  // encrypting with this key, and the developer's next step is the same (check the key and the encoder).
  if (!plaintext.ok()) return invalid(kCardPasswordNoDecrypt);
  if (!is_utf8(*plaintext)) return invalid(kCardPasswordNotUtf8);
  return plaintext;
}

}  // namespace paygate::crypto
