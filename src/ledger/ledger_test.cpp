#include "ledger/ledger.h"

#include <gtest/gtest.h>

namespace paygate::ledger {
namespace {

Money sum(const Entry& e) {
  Money s;
  for (const auto& p : e.postings) s = *s.checked_add(p.amount);
  return s;
}

TEST(Ledger, ConsignSettlementBalances) {
  auto e = consign_settlement(MerchantId{7}, SysOrderId{"C1"}, Money::from_fen(10000), Money::from_fen(9650));
  ASSERT_TRUE(validate(e).ok());
  EXPECT_TRUE(sum(e).is_zero());
  ASSERT_EQ(e.postings.size(), 3u);
  EXPECT_EQ(e.postings[0].account.code, "platform:consign_clearing");
  EXPECT_EQ(e.postings[0].amount.fen(), -10000);
  EXPECT_EQ(e.postings[1].account.code, "merchant:7:available");
  EXPECT_EQ(e.postings[1].amount.fen(), 9650);
  EXPECT_EQ(e.postings[2].account.code, "platform:revenue");
  EXPECT_EQ(e.postings[2].amount.fen(), 350);
}

TEST(Ledger, FullRateHasNoRevenuePosting) {
  auto e = consign_settlement(MerchantId{7}, SysOrderId{"C1"}, Money::from_fen(5000), Money::from_fen(5000));
  ASSERT_TRUE(validate(e).ok());
  EXPECT_EQ(e.postings.size(), 2u);
}

TEST(Ledger, ValidateRejectsBrokenEntries) {
  Entry unbalanced{"x", "r", {{merchant_available(MerchantId{1}), Money::from_fen(5)},
                              {platform_revenue(), Money::from_fen(-4)}}};
  EXPECT_FALSE(validate(unbalanced).ok());
  Entry single{"x", "r", {{merchant_available(MerchantId{1}), Money::from_fen(0)}}};
  EXPECT_FALSE(validate(single).ok());
  Entry twice{"x", "r", {{platform_revenue(), Money::from_fen(5)}, {platform_revenue(), Money::from_fen(-5)}}};
  EXPECT_FALSE(validate(twice).ok());
  Entry zero{"x", "r", {{platform_revenue(), Money::from_fen(0)}, {consign_clearing(), Money::from_fen(0)}}};
  EXPECT_FALSE(validate(zero).ok());
  Entry overflow{"x", "r", {{platform_revenue(), Money::from_fen(INT64_MAX)},
                            {consign_clearing(), Money::from_fen(INT64_MAX)},
                            {merchant_available(MerchantId{1}), Money::from_fen(2)}}};
  EXPECT_FALSE(validate(overflow).ok());
  // At most kEntryPostingsMax postings (storage keeps an entry's balances in an array that long).
  Entry many{"x", "r", {}};
  for (int i = 1; i <= static_cast<int>(kEntryPostingsMax); ++i) {
    many.postings.push_back({merchant_available(MerchantId{i}), Money::from_fen(i == 1 ? -7 : 1)});
  }
  EXPECT_TRUE(validate(many).ok());
  many.postings.front().amount = Money::from_fen(-8);
  many.postings.push_back({merchant_available(MerchantId{99}), Money::from_fen(1)});
  EXPECT_FALSE(validate(many).ok());
}

}  // namespace
}  // namespace paygate::ledger
