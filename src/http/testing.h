// Test support for the HTTP tests: an io_context on worker threads and a way to run a coroutine on it from a
// test body. Test-only; not used by production code.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

namespace paygate::http::testing {

// An io_context run on `threads` threads, as the app runs it.
class IoThreads {
 public:
  explicit IoThreads(int threads = 2) : guard_(boost::asio::make_work_guard(io)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io.run(); });
  }
  ~IoThreads() { stop(); }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  void stop() {
    guard_.reset();
    io.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

// Runs the coroutine returned by `make` on `ex` and waits for its result. The generous limit only turns a hang
// into a failure; the coroutines bound their own I/O much more tightly.
template <typename Executor, typename F>
auto run_on(const Executor& ex, F make, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto future = boost::asio::co_spawn(ex, std::move(make), boost::asio::use_future);
  if (future.wait_for(limit) != std::future_status::ready) {
    throw std::runtime_error("test coroutine did not finish in time");
  }
  return future.get();
}

}  // namespace paygate::http::testing
