// Thin, tested wrappers over OpenSSL 3 EVP and libsodium. No I/O.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace paygate::crypto {

// Digests as hex.
std::string md5_hex_lower(std::string_view data);
std::string md5_hex_upper(std::string_view data);
std::string sha256_hex(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);

std::string hex_encode_lower(std::string_view bytes);
std::string hex_encode_upper(std::string_view bytes);
// Accepts upper- and lowercase; nullopt on odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view hex);

// Standard alphabet with '=' padding (RFC 4648 section 4).
std::string base64_encode(std::string_view bytes);
// Strict: standard alphabet, correct padding, no whitespace; nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

// Constant-time comparison of two hex strings, ignoring ASCII case. Different lengths compare unequal.
bool hex_equal_ci_constant_time(std::string_view a, std::string_view b);

// AES-128-ECB with PKCS#5/7 padding, as the consign document's Java and PHP samples use. key must be 16 bytes.
std::string aes128_ecb_encrypt(std::string_view key16, std::string_view plaintext);
// Fails on a wrong key length, a length not a multiple of 16, or bad padding.
Result<std::string> aes128_ecb_decrypt(std::string_view key16, std::string_view ciphertext);

// Random bytes from libsodium.
std::string random_bytes(size_t n);

// Authenticated encryption of secrets at rest under the platform master key (AES-256-GCM, random 96-bit nonce).
// Sealed form: version byte 0x01 || nonce(12) || ciphertext || tag(16). `aad` binds a value to its place
// (e.g. "merchant:42:sign_key") so a sealed value cannot be moved to another row.
class SecretBox {
 public:
  static constexpr size_t kMasterKeyBytes = 32;
  // master_key must be kMasterKeyBytes long (asserted: it is checked at start-up).
  explicit SecretBox(std::string_view master_key);
  std::string seal(std::string_view plaintext, std::string_view aad) const;
  Result<std::string> open(std::string_view sealed, std::string_view aad) const;
  // Keyed fingerprint (HMAC-SHA256 under a key derived from the master key, lowercase hex), used for
  // equality look-ups of secrets (card duplicate detection) without storing them in the clear.
  std::string fingerprint(std::string_view data) const;
  // A short, non-secret fingerprint of a key for display (first 12 hex of SHA-256).
  static std::string display_fingerprint(std::string_view secret);

 private:
  std::string enc_key_;
  std::string mac_key_;
  // Names this box to the per-thread keyed contexts (crypto.cpp): unique per process, never reused, so a context
  // keyed for a box that is gone cannot serve a new box at the same address.
  uint64_t instance_ = 0;
};

}  // namespace paygate::crypto
