#include "crypto/card_password.h"

#include "base/assert.h"
#include "base/text.h"
#include "crypto/crypto.h"

namespace paygate::crypto {
namespace {

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
  // The document says the plaintext is UTF-8, and Java's getBytes(UTF_8) can only produce well-formed UTF-8.
  if (!is_utf8(*plaintext)) return invalid(kCardPasswordNotUtf8);
  return plaintext;
}

}  // namespace paygate::crypto
