// A sleep that another thread can cut short. Background loops (the processor, the notify dispatcher) sleep
// until their next due time or a poll interval, and are woken early when a commit gives them new work.
#pragma once
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>

namespace paygate::runtime {

class Waker {
 public:
  explicit Waker(boost::asio::io_context& io);
  // Thread-safe. A wake that arrives while nobody sleeps makes the next sleep return at once.
  void wake();
  // Sleeps up to `duration`; returns early on wake(). Must run on strand().
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds duration);
  boost::asio::strand<boost::asio::io_context::executor_type>& strand() { return strand_; }

 private:
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  std::atomic<bool> pending_{false};
};

}  // namespace paygate::runtime
