#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/params.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <memory>

#include "base/assert.h"
#include "base/clock.h"

// The OpenSSL failures asserted below cannot come from input (keys and lengths are checked first); they mean a
// broken OpenSSL installation or a bug, and a crypto primitive that silently returns garbage is worse than a stop.
#define PG_OSSL(call) PG_ASSERT((call) == 1, "OpenSSL call failed: " #call)

namespace paygate::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// Algorithms are fetched once and kept for the life of the process: fetching walks the provider tables and takes
// locks, while a fetched object is immutable and safe to share between threads. They are never freed on purpose,
// so no static destructor can race OpenSSL's own clean-up at exit.
const EVP_MD* md_md5() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  PG_ASSERT(md != nullptr, "OpenSSL has no MD5 (default provider not loaded?)");
  return md;
}
const EVP_MD* md_sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  PG_ASSERT(md != nullptr, "OpenSSL has no SHA-256");
  return md;
}
EVP_MAC* mac_hmac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  PG_ASSERT(mac != nullptr, "OpenSSL has no HMAC");
  return mac;
}
const EVP_CIPHER* cipher_aes128_ecb() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  PG_ASSERT(c != nullptr, "OpenSSL has no AES-128-ECB");
  return c;
}
const EVP_CIPHER* cipher_aes256_gcm() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  PG_ASSERT(c != nullptr, "OpenSSL has no AES-256-GCM");
  return c;
}

const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* u8(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  PG_OSSL(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr));
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hex_encode(std::string_view bytes, const char* digits) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = digits[b >> 4];
    out[2 * i + 1] = digits[b & 0x0f];
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;  // '=' included: it is only legal as trailing padding, handled by the caller
}

// ASCII case folding without a data-dependent branch, so the comparison below does not leak where letters are.
unsigned char fold_ascii(unsigned char c) {
  const unsigned is_upper = static_cast<unsigned>(static_cast<unsigned>(c - 'A') < 26u);
  return static_cast<unsigned char>(c | (is_upper << 5));
}

constexpr size_t kAesBlock = 16;
constexpr size_t kGcmNonce = 12;
constexpr size_t kGcmTag = 16;
constexpr unsigned char kSealVersion = 0x01;
constexpr std::string_view kSealCorrupt = "sealed value is corrupt or was sealed under another key";

// An HMAC-SHA256 context keyed with `key`, ready for data.
MacCtx keyed_hmac_sha256(std::string_view key) {
  MacCtx ctx(EVP_MAC_CTX_new(mac_hmac()));
  PG_ASSERT(ctx != nullptr, "EVP_MAC_CTX_new failed");
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to EVP_MAC_init, so an empty key needs a real address.
  static const unsigned char kNoKey = 0;
  const unsigned char* key_ptr = key.empty() ? &kNoKey : u8(key);
  PG_OSSL(EVP_MAC_init(ctx.get(), key_ptr, key.size(), params));
  return ctx;
}

// Feeds `data` to a keyed context and writes the MAC to `out`; returns its length.
size_t mac_of(EVP_MAC_CTX* ctx, std::string_view data, unsigned char (&out)[EVP_MAX_MD_SIZE]) {
  PG_OSSL(EVP_MAC_update(ctx, u8(data), data.size()));
  size_t len = 0;
  PG_OSSL(EVP_MAC_final(ctx, out, &len, sizeof out));
  return len;
}

// Per-thread contexts that keep a key schedule between calls. Keying a fresh context per call (allocation, the
// AES key expansion, GCM's table, HMAC's padded-key digests) cost more than the few blocks each call processes,
// and a consign submission decrypts, seals and fingerprints once each on the I/O thread. A context belongs to one
// thread and is re-keyed when its owner changes; freeing one (EVP_*_free) wipes its key material.
struct BoxContexts {
  uint64_t owner = 0;  // SecretBox::instance_ of the keys below; 0 for none
  CipherCtx seal;
  CipherCtx open;
  MacCtx fingerprint;
};
BoxContexts& box_contexts(uint64_t owner) {
  thread_local BoxContexts contexts;
  if (contexts.owner != owner) contexts = BoxContexts{owner, nullptr, nullptr, nullptr};
  return contexts;
}

struct EcbDecryptContext {
  std::array<unsigned char, 16> key{};
  CipherCtx ctx;
};

std::atomic<uint64_t> next_box_instance{1};

// The thread's GCM context in `slot` (1: seal, 0: open), ready for `nonce`: keyed with `key` the first time; after
// that a new nonce alone restarts GCM (counter, GHASH, tag) with the key schedule kept.
EVP_CIPHER_CTX* gcm_context(CipherCtx& slot, int encrypt, const std::string& key, const unsigned char* nonce) {
  if (slot == nullptr) {
    slot.reset(EVP_CIPHER_CTX_new());
    PG_ASSERT(slot != nullptr, "EVP_CIPHER_CTX_new failed");
    PG_OSSL(EVP_CipherInit_ex2(slot.get(), cipher_aes256_gcm(), u8(key), nonce, encrypt, nullptr));
  } else {
    PG_OSSL(EVP_CipherInit_ex2(slot.get(), nullptr, nullptr, nonce, encrypt, nullptr));
  }
  return slot.get();
}

}  // namespace

std::string md5_hex_lower(std::string_view data) { return hex_encode_lower(digest(md_md5(), data)); }
std::string md5_hex_upper(std::string_view data) { return hex_encode_upper(digest(md_md5(), data)); }
std::string sha256_hex(std::string_view data) { return hex_encode_lower(digest(md_sha256(), data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  MacCtx ctx = keyed_hmac_sha256(key);
  unsigned char out[EVP_MAX_MD_SIZE];
  const size_t len = mac_of(ctx.get(), data, out);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hex_encode_lower(std::string_view bytes) { return hex_encode(bytes, "0123456789abcdef"); }
std::string hex_encode_upper(std::string_view bytes) { return hex_encode(bytes, "0123456789ABCDEF"); }

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                       uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kB64Alphabet[(v >> 18) & 63]);
    out.push_back(kB64Alphabet[(v >> 12) & 63]);
    out.push_back(kB64Alphabet[(v >> 6) & 63]);
    out.push_back(kB64Alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out.push_back(kB64Alphabet[(v >> 18) & 63]);
    out.push_back(kB64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Hand-written rather than EVP_DecodeBlock, which skips whitespace, does not say how much padding it saw and
// accepts non-canonical input. Besides alphabet, length and padding placement, this also rejects non-zero bits
// in the unused low bits of the last character (RFC 4648 section 3.5), so every byte string has exactly one
// accepted encoding.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  const size_t data_chars = text.size() - pad;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    const int v = b64_value(text[i]);  // a '=' before the final padding lands here and is rejected
    if (v < 0) return std::nullopt;
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Left over: 0 bits without padding, 2 with one '=', 4 with two; they must be zero.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool hex_equal_ci_constant_time(std::string_view a, std::string_view b) {
  // Lengths are public (a signature's length is fixed by its algorithm), so a length mismatch may return early.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  // Every position is visited and OR-ed in, whatever differs first: no early exit that would time the prefix.
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(fold_ascii(static_cast<unsigned char>(a[i])) ^
                                       fold_ascii(static_cast<unsigned char>(b[i])));
  }
  // Launder through a volatile so the compiler cannot turn the loop into an early-exit comparison.
  volatile unsigned char result = diff;
  return result == 0;
}

std::string aes128_ecb_encrypt(std::string_view key16, std::string_view plaintext) {
  PG_ASSERT(key16.size() == 16, "AES-128 key must be 16 bytes");
  PG_ASSERT(plaintext.size() <= static_cast<size_t>(INT_MAX) - kAesBlock, "plaintext too large for AES");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  PG_ASSERT(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  // PKCS#7 padding is on by default; for 16-byte blocks it is what Java calls PKCS5Padding.
  PG_OSSL(EVP_EncryptInit_ex2(ctx.get(), cipher_aes128_ecb(), u8(key16), nullptr, nullptr));
  std::string out(plaintext.size() + kAesBlock, '\0');
  int len1 = 0;
  int len2 = 0;
  PG_OSSL(EVP_EncryptUpdate(ctx.get(), u8(out), &len1, u8(plaintext), static_cast<int>(plaintext.size())));
  PG_OSSL(EVP_EncryptFinal_ex(ctx.get(), u8(out) + len1, &len2));
  out.resize(static_cast<size_t>(len1 + len2));
  return out;
}

Result<std::string> aes128_ecb_decrypt(std::string_view key16, std::string_view ciphertext) {
  if (key16.size() != 16) return make_error(ErrorCode::kInvalidArgument, "AES-128 key must be 16 bytes");
  if (ciphertext.empty() || ciphertext.size() % kAesBlock != 0 || ciphertext.size() > INT_MAX) {
    return make_error(ErrorCode::kInvalidArgument, "AES ciphertext length is not a positive multiple of 16");
  }
  // The context stays keyed for the last key this thread used: one merchant's cards usually come in a row. Keyed
  // again (a full init) for another key; otherwise only its padding state is reset.
  thread_local EcbDecryptContext last;
  EVP_CIPHER_CTX* ctx = nullptr;
  if (last.ctx != nullptr && CRYPTO_memcmp(last.key.data(), key16.data(), last.key.size()) == 0) {
    ctx = last.ctx.get();
    PG_OSSL(EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nullptr, nullptr));
  } else {
    if (last.ctx == nullptr) last.ctx.reset(EVP_CIPHER_CTX_new());
    PG_ASSERT(last.ctx != nullptr, "EVP_CIPHER_CTX_new failed");
    ctx = last.ctx.get();
    PG_OSSL(EVP_DecryptInit_ex2(ctx, cipher_aes128_ecb(), u8(key16), nullptr, nullptr));
    std::memcpy(last.key.data(), key16.data(), last.key.size());
  }
  std::string out(ciphertext.size() + kAesBlock, '\0');
  int len1 = 0;
  int len2 = 0;
  PG_OSSL(EVP_DecryptUpdate(ctx, u8(out), &len1, u8(ciphertext), static_cast<int>(ciphertext.size())));
  if (EVP_DecryptFinal_ex(ctx, u8(out) + len1, &len2) != 1) {
    // Bad padding leaves an entry on the thread's OpenSSL error queue; drop it so it is not reported later by
    // unrelated code (TLS) that reads the queue.
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return make_error(ErrorCode::kInvalidArgument, "AES decryption failed: bad padding (wrong key or corrupt data)");
  }
  out.resize(static_cast<size_t>(len1 + len2));
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  // OpenSSL's DRBG runs in user space (seeded from the kernel, reseeded, fork-safe); libsodium's
  // randombytes_buf costs a getrandom() system call per call, which showed up in the writer's profile.
  if (n > 0) {
    int rc = RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
    PG_ASSERT(rc == 1, "RAND_bytes failed");
  }
  return out;
}

SecretBox::SecretBox(std::string_view master_key) {
  PG_ASSERT(master_key.size() == kMasterKeyBytes, "SecretBox master key must be 32 bytes");
  // Separate keys per purpose, so a fingerprint (published to the database next to its row) reveals nothing
  // about the encryption key and the two uses can never be confused.
  enc_key_ = hmac_sha256(master_key, "paygate.secretbox.enc.v1");
  mac_key_ = hmac_sha256(master_key, "paygate.fingerprint.v1");
  instance_ = next_box_instance.fetch_add(1, std::memory_order_relaxed);
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view aad) const {
  PG_ASSERT(plaintext.size() <= static_cast<size_t>(INT_MAX) && aad.size() <= static_cast<size_t>(INT_MAX),
            "value too large to seal");
  // A random 96-bit nonce is safe for far more values than this platform will ever seal under one key. It is
  // stored in the clear beside the ciphertext: it must be unpredictable and unique, not secret, so it may be
  // drawn ahead (every order seals its card password on the SQLite writer).
  unsigned char nonce[kGcmNonce];
  draw_random_ahead(nonce, kGcmNonce);
  EVP_CIPHER_CTX* ctx = gcm_context(box_contexts(instance_).seal, 1, enc_key_, nonce);
  int len = 0;
  if (!aad.empty()) PG_OSSL(EVP_EncryptUpdate(ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())));

  std::string out(1 + kGcmNonce + plaintext.size() + kGcmTag, '\0');
  out[0] = static_cast<char>(kSealVersion);
  std::memcpy(out.data() + 1, nonce, kGcmNonce);
  unsigned char* ct = u8(out) + 1 + kGcmNonce;
  int ct_len = 0;
  if (!plaintext.empty()) {
    PG_OSSL(EVP_EncryptUpdate(ctx, ct, &len, u8(plaintext), static_cast<int>(plaintext.size())));
    ct_len = len;
  }
  PG_OSSL(EVP_EncryptFinal_ex(ctx, ct + ct_len, &len));
  ct_len += len;
  PG_ASSERT(static_cast<size_t>(ct_len) == plaintext.size(), "GCM changed the length");
  PG_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTag), ct + ct_len) == 1,
            "GCM tag failed");
  return out;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view aad) const {
  // One message for every failure: the caller cannot do anything different for a wrong version, a short value
  // or a forged tag, and telling them apart would only help someone probing the box.
  const auto corrupt = [] { return make_error(ErrorCode::kInvalidArgument, std::string(kSealCorrupt)); };
  if (sealed.size() < 1 + kGcmNonce + kGcmTag || sealed.size() > INT_MAX || aad.size() > INT_MAX) return corrupt();
  if (static_cast<unsigned char>(sealed[0]) != kSealVersion) return corrupt();
  const std::string_view nonce = sealed.substr(1, kGcmNonce);
  const std::string_view ct = sealed.substr(1 + kGcmNonce, sealed.size() - 1 - kGcmNonce - kGcmTag);
  std::string tag(sealed.substr(sealed.size() - kGcmTag));  // a mutable copy: the ctrl API takes void*

  EVP_CIPHER_CTX* ctx = gcm_context(box_contexts(instance_).open, 0, enc_key_, u8(nonce));
  int len = 0;
  if (!aad.empty()) PG_OSSL(EVP_DecryptUpdate(ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())));
  std::string out(ct.size(), '\0');
  int pt_len = 0;
  if (!ct.empty()) {
    PG_OSSL(EVP_DecryptUpdate(ctx, u8(out), &len, u8(ct), static_cast<int>(ct.size())));
    pt_len = len;
  }
  PG_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTag), tag.data()) == 1,
            "GCM set tag failed");
  if (EVP_DecryptFinal_ex(ctx, u8(out) + pt_len, &len) != 1) {
    ERR_clear_error();
    // Unauthenticated plaintext must not linger in freed memory.
    OPENSSL_cleanse(out.data(), out.size());
    return corrupt();
  }
  out.resize(static_cast<size_t>(pt_len + len));
  return out;
}

std::string SecretBox::fingerprint(std::string_view data) const {
  // Keyed once per thread; a null key restarts HMAC from the stored padded-key state.
  auto& contexts = box_contexts(instance_);
  if (contexts.fingerprint == nullptr) {
    contexts.fingerprint = keyed_hmac_sha256(mac_key_);
  } else {
    PG_OSSL(EVP_MAC_init(contexts.fingerprint.get(), nullptr, 0, nullptr));
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  const size_t len = mac_of(contexts.fingerprint.get(), data, out);
  return hex_encode_lower(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::string SecretBox::display_fingerprint(std::string_view secret) { return sha256_hex(secret).substr(0, 12); }

}  // namespace paygate::crypto
