#include "processors/sandbox/card_processor.h"

#include <gtest/gtest.h>

namespace paygate::processors {
namespace {

using orders::ConsignOutcome;

orders::ConsignOrder order_with(std::string password, int product_type = 0) {
  orders::ConsignOrder o;
  o.card_password = std::move(password);
  o.product_type = product_type;
  o.face_money_yuan = 100;
  return o;
}

TEST(SandboxCardProcessor, DecidesByPassword) {
  SandboxCardProcessor p;
  EXPECT_EQ(p.decide(order_with("FAIL-1")).kind, ConsignOutcome::Kind::kFail);
  EXPECT_EQ(p.decide(order_with("HOLD-1")).kind, ConsignOutcome::Kind::kReview);
  auto real = p.decide(order_with("REAL50-abc"));
  EXPECT_EQ(real.kind, ConsignOutcome::Kind::kSuccess);
  EXPECT_EQ(real.real_money_yuan, 50);
  auto plain = p.decide(order_with("123456"));
  EXPECT_EQ(plain.kind, ConsignOutcome::Kind::kSuccess);
  EXPECT_EQ(plain.real_money_yuan, 100);
}

TEST(SandboxCardProcessor, MalformedRealIsAnOrdinaryCard) {
  SandboxCardProcessor p;
  EXPECT_EQ(p.decide(order_with("REALabc-1")).real_money_yuan, 100);
  EXPECT_EQ(p.decide(order_with("REAL50")).real_money_yuan, 100);
  EXPECT_EQ(p.decide(order_with("REAL0-x")).real_money_yuan, 100);
}

TEST(SandboxCardProcessor, ImagesAndLinksGoToReview) {
  SandboxCardProcessor p;
  EXPECT_EQ(p.decide(order_with("http://img", 1)).kind, ConsignOutcome::Kind::kReview);
  EXPECT_EQ(p.decide(order_with("FAIL", 2)).kind, ConsignOutcome::Kind::kReview);
}

}  // namespace
}  // namespace paygate::processors
