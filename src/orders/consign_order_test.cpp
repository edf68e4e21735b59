#include "orders/consign_order.h"

#include <gtest/gtest.h>

namespace paygate::orders {
namespace {

ConsignOrder processing_order() {
  ConsignOrder o;
  o.merchant_id = MerchantId{1};
  o.sys_order_id = SysOrderId{"C1"};
  o.face_money_yuan = 100;
  o.rate = RatePermille{965};
  return o;
}

TEST(ConsignOrder, SuccessComputesAmountHalfUp) {
  auto next = apply_outcome(processing_order(), {ConsignOutcome::Kind::kSuccess, 100, ""}, 5'000);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->state, ConsignState::kSuccess);
  EXPECT_EQ(next->amount.fen(), 9650);
  EXPECT_EQ(next->success_time_s, 5);
  EXPECT_EQ(protocol_status(next->state), "2");
}

TEST(ConsignOrder, PartialValue) {
  auto next = apply_outcome(processing_order(), {ConsignOutcome::Kind::kSuccess, 33, ""}, 0);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->amount.fen(), 3185);  // 33 * 0.965 = 31.845 -> 31.85
}

TEST(ConsignOrder, FailAndReview) {
  auto failed = apply_outcome(processing_order(), {ConsignOutcome::Kind::kFail, 0, "bad card"}, 1'000);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state, ConsignState::kFailed);
  EXPECT_EQ(failed->message, "bad card");
  EXPECT_EQ(protocol_status(failed->state), "3");
  EXPECT_FALSE(card_is_live(failed->state));

  auto review = apply_outcome(processing_order(), {ConsignOutcome::Kind::kReview, 0, ""}, 0);
  ASSERT_TRUE(review.ok());
  EXPECT_EQ(protocol_status(review->state), "1");
  EXPECT_EQ(review->success_time_s, 0);
  // An operator resolves a review.
  EXPECT_TRUE(apply_outcome(*review, {ConsignOutcome::Kind::kSuccess, 80, ""}, 0).ok());
  // Review cannot go to review again.
  EXPECT_FALSE(apply_outcome(*review, {ConsignOutcome::Kind::kReview, 0, ""}, 0).ok());
}

TEST(ConsignOrder, FinalStatesAreFinal) {
  auto done = apply_outcome(processing_order(), {ConsignOutcome::Kind::kSuccess, 100, ""}, 0);
  EXPECT_FALSE(apply_outcome(*done, {ConsignOutcome::Kind::kFail, 0, ""}, 0).ok());
  EXPECT_FALSE(apply_outcome(*done, {ConsignOutcome::Kind::kSuccess, 100, ""}, 0).ok());
}

TEST(ConsignOrder, RejectsBadRealMoney) {
  EXPECT_FALSE(apply_outcome(processing_order(), {ConsignOutcome::Kind::kSuccess, 0, ""}, 0).ok());
  EXPECT_FALSE(apply_outcome(processing_order(), {ConsignOutcome::Kind::kSuccess, -5, ""}, 0).ok());
  EXPECT_FALSE(apply_outcome(processing_order(), {ConsignOutcome::Kind::kSuccess, INT64_MAX, ""}, 0).ok());
}

TEST(ConsignOrder, MasksSecrets) {
  EXPECT_EQ(mask_secret("1234567890"), "12******90");
  EXPECT_EQ(mask_secret("abc"), "***");
  EXPECT_EQ(mask_secret(""), "");
}

}  // namespace
}  // namespace paygate::orders
