#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "storage/testing/store_fixture.h"

namespace paygate::app {
namespace {

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

class ConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    auto path = (dir_.path() / "paygate.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  std::string load_error(const std::string& text) {
    try {
      load_config(write(text));
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  storage::testing::TempDir dir_;
};

TEST_F(ConfigTest, DefaultsWithoutAFile) {
  Config c = load_config("");
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.storage.data_dir, "var");
  EXPECT_TRUE(c.storage.group_commit);
  EXPECT_EQ(c.sandbox.processing_delay_ms, 2000);
  EXPECT_FALSE(c.notify.allow_private_targets);
  EXPECT_EQ(c.notify.claim_lease_margin_ms, 30'000);
  EXPECT_EQ(c.sqlite_path(), "var/paygate.db");
}

TEST_F(ConfigTest, FileValues) {
  Config c =
      load_config(write("[server]\nlisten = \"0.0.0.0:9000\"\n[storage]\ndata_dir = \"/srv/pg\"\n"
                        "[sandbox]\nprocessing_delay_ms = 0\n[notify]\nallow_private_targets = true\n"));
  EXPECT_EQ(c.server.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.storage.data_dir, "/srv/pg");
  EXPECT_EQ(c.sandbox.processing_delay_ms, 0);
  EXPECT_TRUE(c.notify.allow_private_targets);
  EXPECT_EQ(c.sqlite_path(), "/srv/pg/paygate.db");
}

TEST_F(ConfigTest, EnvironmentWinsOverTheFile) {
  ScopedEnv delay("PAYGATE_SANDBOX_PROCESSING_DELAY_MS", "7");
  ScopedEnv priv("PAYGATE_NOTIFY_ALLOW_PRIVATE_TARGETS", "false");
  Config c = load_config(write("[sandbox]\nprocessing_delay_ms = 5\n[notify]\nallow_private_targets = true\n"));
  EXPECT_EQ(c.sandbox.processing_delay_ms, 7);
  EXPECT_FALSE(c.notify.allow_private_targets);
}

// 0 (the default) leaves the number of I/O threads to the machine: one core for the SQLite writer, the rest for I/O.
TEST_F(ConfigTest, IoThreadsFollowTheCoresUnlessSet) {
  Config c;
  EXPECT_EQ(c.server.threads, 0);
  EXPECT_EQ(c.io_threads(0), 1) << "hardware_concurrency() may not know";
  EXPECT_EQ(c.io_threads(1), 1);
  EXPECT_EQ(c.io_threads(2), 1);
  EXPECT_EQ(c.io_threads(8), 7);
  EXPECT_EQ(c.io_threads(256), 64);
  c.server.threads = 3;
  EXPECT_EQ(c.io_threads(2), 3);
}

TEST_F(ConfigTest, BadValuesNameTheKey) {
  EXPECT_NE(load_error("[sandbox]\nprocessing_delay_ms = \"2s\"\n").find("sandbox.processing_delay_ms"),
            std::string::npos);
  EXPECT_NE(load_error("[server]\nthreads = -1\n").find("server.threads: must be between 0 and 64"), std::string::npos);
  EXPECT_NE(load_error("[notify]\nallow_private_targets = 1\n").find("must be true or false"), std::string::npos);
  EXPECT_NE(load_error("[storage]\ndata_dir = \"\"\n").find("storage.data_dir"), std::string::npos);
  EXPECT_NE(load_error("[server\n").find("config file"), std::string::npos);
  EXPECT_NE(load_error("[log]\nlevel = \"verbose\"\n").find("log.level: must be one of"), std::string::npos);
  {
    ScopedEnv e("PAYGATE_LOG_LEVEL", "loud");
    EXPECT_NE(load_error("").find("log.level"), std::string::npos);
  }
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    EXPECT_EQ(load_error(std::string("[log]\nlevel = \"") + level + "\"\n"), "") << level;
  }
}

TEST_F(ConfigTest, BadEnvironmentValuesNameTheKey) {
  {
    ScopedEnv e("PAYGATE_NOTIFY_TOTAL_TIMEOUT_MS", "ten");
    EXPECT_NE(load_error("").find("notify.total_timeout_ms"), std::string::npos);
  }
  {
    ScopedEnv e("PAYGATE_STORAGE_GROUP_COMMIT", "maybe");
    EXPECT_NE(load_error("").find("storage.group_commit"), std::string::npos);
  }
}

TEST_F(ConfigTest, UnknownKeysAreRefused) {
  // A typo must not silently leave the default in force.
  EXPECT_NE(load_error("[sandbox]\nprocessing_delay = 0\n").find("unknown key sandbox.processing_delay"),
            std::string::npos);
  EXPECT_NE(load_error("[sandbx]\nprocessing_delay_ms = 0\n").find("unknown key sandbx.processing_delay_ms"),
            std::string::npos);
  EXPECT_NE(load_error("listen = \"127.0.0.1:1\"\n").find("must be a [section]"), std::string::npos);
}

TEST_F(ConfigTest, GatewayKeys) {
  Config defaults = load_config("");
  EXPECT_TRUE(defaults.sandbox.enabled);
  EXPECT_EQ(defaults.gateway.payment_expiry_ms, 900'000);
  EXPECT_EQ(defaults.sandbox.payout_delay_ms, 2'000);
  EXPECT_TRUE(defaults.notify.gateway_retry_delays_ms.empty()) << "empty means the platform default";
  EXPECT_TRUE(defaults.server.public_url.empty());

  Config c = load_config(
      write("[gateway]\npayment_expiry_ms = 5000\n[sandbox]\nenabled = false\npayout_delay_ms = 0\n"
            "[notify]\ngateway_retry_delays_ms = [100, 200]\n[server]\npublic_url = \"https://pay.example.com\"\n"));
  EXPECT_EQ(c.gateway.payment_expiry_ms, 5000);
  EXPECT_FALSE(c.sandbox.enabled);
  EXPECT_EQ(c.sandbox.payout_delay_ms, 0);
  EXPECT_EQ(c.notify.gateway_retry_delays_ms, (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(c.server.public_url, "https://pay.example.com");
  {
    ScopedEnv e("PAYGATE_NOTIFY_GATEWAY_RETRY_DELAYS_MS", "5,6,7");
    EXPECT_EQ(load_config("").notify.gateway_retry_delays_ms, (std::vector<int64_t>{5, 6, 7}));
  }
  {
    ScopedEnv e("PAYGATE_NOTIFY_GATEWAY_RETRY_DELAYS_MS", "5,x");
    EXPECT_NE(load_error("").find("notify.gateway_retry_delays_ms"), std::string::npos);
  }
  EXPECT_NE(load_error("[notify]\ngateway_retry_delays_ms = [1,2,3,4,5,6,7,8,9,10]\n").find("more than 9"),
            std::string::npos)
      << "at most 10 attempts in all";
  EXPECT_NE(load_error("[notify]\ngateway_retry_delays_ms = 100\n").find("array of integers"), std::string::npos);
  EXPECT_NE(load_error("[notify]\ngateway_retry_delays_ms = [0]\n").find("between 1"), std::string::npos);
  EXPECT_NE(load_error("[server]\npublic_url = \"pay.example.com\"\n").find("server.public_url"), std::string::npos);
  EXPECT_NE(load_error("[server]\npublic_url = \"https://pay.example.com/\"\n").find("trailing slash"),
            std::string::npos);
  EXPECT_NE(load_error("[gateway]\npayment_expiry_ms = 10\n").find("gateway.payment_expiry_ms"), std::string::npos);
}

TEST_F(ConfigTest, CashierKeys) {
  Config defaults = load_config("");
  EXPECT_EQ(defaults.cashier.order_expiry_ms, 900'000);
  EXPECT_EQ(defaults.cashier.utc_offset_minutes, 480);
  EXPECT_EQ(defaults.notify.cashier_retry_unit_ms, 10'000);
  Config c =
      load_config(write("[cashier]\norder_expiry_ms = 60000\nutc_offset_minutes = -300\n"
                        "[notify]\ncashier_retry_unit_ms = 100\n"));
  EXPECT_EQ(c.cashier.order_expiry_ms, 60'000);
  EXPECT_EQ(c.cashier.utc_offset_minutes, -300);
  EXPECT_EQ(c.notify.cashier_retry_unit_ms, 100);
  EXPECT_NE(load_error("[cashier]\nutc_offset_minutes = 900\n").find("cashier.utc_offset_minutes"), std::string::npos);
  EXPECT_NE(load_error("[cashier]\norder_expiry = 5\n").find("unknown key cashier.order_expiry"), std::string::npos);
}

TEST_F(ConfigTest, MissingFileIsAnError) {
  EXPECT_THROW(load_config((dir_.path() / "nope.toml").string()), std::runtime_error);
}

}  // namespace
}  // namespace paygate::app
