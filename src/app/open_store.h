#pragma once
#include <memory>

#include "app/config.h"
#include "crypto/crypto.h"
#include "storage/store.h"

namespace paygate::app {
// Opens the configured backend and applies migrations. Throws at start-up on failure.
std::unique_ptr<storage::Store> open_store(const Config& config, std::shared_ptr<const crypto::SecretBox> box);
}  // namespace paygate::app
