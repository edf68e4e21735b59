// The consign protocol's `cardPassword` codec (document 000, section 4.1.4; DECISIONS.md, consign):
// cardPassword = lowercase hex of the ASCII of base64(AES-128-ECB-PKCS5(UTF-8 plaintext, merchant's 16-char key)),
// exactly what the document's Java and PHP samples produce. tests/vectors/consign_aes.json pins it down.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace paygate::crypto {

inline constexpr size_t kCardPasswordKeyBytes = 16;

// Messages of decode_card_password's errors, one per way a merchant can get it wrong, so a developer knows
// which step of their encoder to look at. All are ErrorCode::kInvalidArgument except the key length one.
inline constexpr std::string_view kCardPasswordEmpty = "cardPassword is empty";
inline constexpr std::string_view kCardPasswordNotHex = "cardPassword is not hex";
inline constexpr std::string_view kCardPasswordNotBase64 = "cardPassword does not decode to base64";
inline constexpr std::string_view kCardPasswordNoDecrypt =
    "cardPassword does not decrypt with the merchant's AES key (wrong key or corrupt data)";
inline constexpr std::string_view kCardPasswordNotUtf8 =
    "cardPassword decrypts to bytes that are not UTF-8 (wrong key, or the plaintext was not UTF-8 encoded)";
// ErrorCode::kFailedPrecondition: the merchant's configuration, not the request, is at fault.
inline constexpr std::string_view kCardPasswordBadKey = "the merchant's AES key is not 16 bytes long";

// What a merchant sends for `plaintext` (used by tests, the demo client and tools).
// aes_key16 must be kCardPasswordKeyBytes long (asserted: check first when it comes from a user).
std::string encode_card_password(std::string_view plaintext, std::string_view aes_key16);

// The plaintext back from a received cardPassword. Accepts upper- or lowercase hex (any mix). Fails with one of
// the messages above. A wrong key is caught by the PKCS#5 padding check and then by the UTF-8 check; neither is a
// MAC (the format has none), so in rare cases a wrong key still yields a garbage plaintext instead of an error.
Result<std::string> decode_card_password(std::string_view hex, std::string_view aes_key16);

}  // namespace paygate::crypto
