#include "tools/cli_support.h"

#include <iostream>

#include "app/master_key.h"
#include "app/open_store.h"

namespace paygate::tools {

std::unique_ptr<Ctx> open(const app::Config& c) {
  auto ctx = std::make_unique<Ctx>();
  ctx->box = app::load_master_key(c.storage.data_dir, c.uses_postgres() ? app::MasterKeyCreation::kForbidden
                                                                          : app::MasterKeyCreation::kAllowed);
  ctx->store = app::open_store(c, ctx->box);
  return ctx;
}

int fail(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}

void print(const nlohmann::json& j, Output out, const std::string& text) {
  if (out.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << text;
  }
}

}  // namespace paygate::tools
