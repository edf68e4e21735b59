#include "runtime/waker.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace paygate::runtime {

namespace asio = boost::asio;

Waker::Waker(asio::io_context& io) : strand_(asio::make_strand(io)), timer_(strand_) {}

void Waker::wake() {
  if (pending_.exchange(true)) return;  // already pending: the sleeper will see it
  asio::post(strand_, [this] { timer_.cancel(); });
}

asio::awaitable<void> Waker::sleep(std::chrono::milliseconds duration) {
  if (pending_.exchange(false)) co_return;
  timer_.expires_after(duration);
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  pending_.store(false);
}

}  // namespace paygate::runtime
