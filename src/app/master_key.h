// The master key seals merchant keys and card passwords at rest. It comes from PAYGATE_MASTER_KEY (64 hex
// characters) or from <data_dir>/master.key, created 0600 on first run. Losing it makes the sealed data
// unreadable: back it up apart from the database (docs/deploy.md).
#pragma once
#include <memory>
#include <string>

#include "crypto/crypto.h"

namespace paygate::app {

// Throws std::runtime_error with a clear message when the key is malformed or the file is unsafe.
std::shared_ptr<const crypto::SecretBox> load_master_key(const std::string& data_dir);

}  // namespace paygate::app
