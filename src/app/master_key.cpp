#include "app/master_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace paygate::app {
namespace {

std::string decode_key(const std::string& hex, const std::string& where) {
  std::string trimmed = hex;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' ')) {
    trimmed.pop_back();
  }
  auto raw = crypto::hex_decode(trimmed);
  if (!raw || raw->size() != crypto::SecretBox::kMasterKeyBytes) {
    throw std::runtime_error(where + " must hold 64 hex characters (32 bytes)");
  }
  return *raw;
}

}  // namespace

std::shared_ptr<const crypto::SecretBox> load_master_key(const std::string& data_dir, MasterKeyCreation creation) {
  if (const char* env = std::getenv("PAYGATE_MASTER_KEY"); env && *env) {
    return std::make_shared<crypto::SecretBox>(decode_key(env, "PAYGATE_MASTER_KEY"));
  }
  std::filesystem::create_directories(data_dir);
  auto path = std::filesystem::path(data_dir) / "master.key";
  if (!std::filesystem::exists(path) && creation == MasterKeyCreation::kForbidden) {
    // Each node creating its own key would seal data that the other nodes cannot open.
    throw std::runtime_error("a PostgreSQL database is shared: every node needs the same master key. Set "
                             "PAYGATE_MASTER_KEY (64 hex characters, e.g. from `openssl rand -hex 32`) or copy "
                             "master.key into " + data_dir);
  }
  if (!std::filesystem::exists(path)) {
    // A new key beside an existing database would make every sealed value unreadable: refuse instead.
    if (std::filesystem::exists(std::filesystem::path(data_dir) / "paygate.db")) {
      throw std::runtime_error("the database in " + data_dir +
                               " exists but its master key does not: set PAYGATE_MASTER_KEY or restore " +
                               path.string());
    }
    std::string hex = crypto::hex_encode_lower(crypto::random_bytes(crypto::SecretBox::kMasterKeyBytes)) + "\n";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path.string());
    bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path.string());
    spdlog::warn("event=master_key_created path={} note=\"back this file up apart from the database\"", path.string());
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  if ((st.st_mode & 077) != 0) {
    throw std::runtime_error(path.string() + " is readable by group or others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string hex((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::make_shared<crypto::SecretBox>(decode_key(hex, path.string()));
}

}  // namespace paygate::app
