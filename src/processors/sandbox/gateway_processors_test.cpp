#include "processors/sandbox/gateway_processors.h"

#include <gtest/gtest.h>

namespace paygate::processors {
namespace {

TEST(SandboxBank, AnAccountEndingFourZerosFails) {
  SandboxBank bank;
  orders::Payout p;
  p.account_number = "6222020000000000";
  auto failed = bank.decide(p);
  EXPECT_FALSE(failed.paid);
  EXPECT_NE(failed.message.find("************0000"), std::string::npos);
  EXPECT_EQ(failed.message.find("6222"), std::string::npos) << "the account number is masked";
  p.account_number = "6222020000000001";
  EXPECT_TRUE(bank.decide(p).paid);
  p.account_number = "62220200000010000";
  EXPECT_FALSE(bank.decide(p).paid);
}

TEST(SandboxPayInProcessor, LinksToTheHostedPage) {
  SandboxPayInProcessor sandbox;
  orders::PayIn p;
  p.id = PaymentId{"P1700000000000abcDEF123456"};
  p.channel_id = 2;
  EXPECT_EQ(sandbox.payment_link(p, "http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/api/Pay?id=P1700000000000abcDEF123456&channel=2");
  EXPECT_TRUE(sandbox.is_sandbox());
}

}  // namespace
}  // namespace paygate::processors
