#include "processors/sandbox/gateway_processors.h"

#include "protocols/gateway/codec.h"

namespace paygate::processors {

std::string SandboxPayInProcessor::payment_link(const orders::PayIn& payin, std::string_view base_url) const {
  return std::string(base_url) + gateway::pay_url(payin.id.value(), payin.channel_id);
}

PayoutDecision SandboxBank::decide(const orders::Payout& payout) const {
  if (payout.account_number.ends_with("0000")) {
    return PayoutDecision{false, "sandbox bank: account " + orders::mask_account_number(payout.account_number) +
                                     " rejected the transfer"};
  }
  return PayoutDecision{true, "paid"};
}

}  // namespace paygate::processors
