// The master key seals merchant keys and card passwords at rest. It comes from PAYGATE_MASTER_KEY (64 hex
// characters) or from <data_dir>/master.key, created 0600 on first run. Losing it makes the sealed data
// unreadable: back it up apart from the database (docs/deploy.md).
#pragma once
#include <memory>
#include <string>

#include "crypto/crypto.h"

namespace paygate::app {

// Whether load_master_key may create <data_dir>/master.key when there is none.
enum class MasterKeyCreation {
  kAllowed,    // SQLite: the database lives beside the key, in the same data directory
  kForbidden,  // a shared database (PostgreSQL): every node must use the one key the data was sealed with
};

// Throws std::runtime_error with a clear message when the key is malformed, the file is unsafe, or it is missing
// and may not be created.
std::shared_ptr<const crypto::SecretBox> load_master_key(const std::string& data_dir,
                                                         MasterKeyCreation creation = MasterKeyCreation::kAllowed);

}  // namespace paygate::app
