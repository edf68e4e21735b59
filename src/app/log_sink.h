// The server's log sink when stderr is a file or a pipe (systemd, a supervisor, the benchmarks): lines are gathered
// in memory and written in large pieces instead of one write(2) per line. spdlog's console sinks flush stderr after
// every line: with the access log on, that was a system call per HTTP request, 4 % of the server's samples under
// the consign benchmark (7 % of its I/O thread). nginx's `access_log ... buffer= flush=` does the same.
//
// What is kept back, and for how long: info and debug lines, until kBufferBytesMax are waiting or a second has
// passed (spdlog's flush_every, set up by the caller). A warning or worse is written at once, with every line
// before it, so nothing that needs attention waits. On a normal exit (including SIGTERM's drain) the sink writes
// what it holds when it is destroyed, and a failed PG_ASSERT flushes it first (set_assertion_hook in main); after
// SIGKILL or a crash on a signal the last second of info lines may be missing.
// On a terminal, the server keeps spdlog's colour sink, line by line.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <cstddef>
#include <mutex>
#include <string>

namespace paygate::app {

class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr size_t kBufferBytesMax = 64 * 1024;

  explicit BufferedFdSink(int fd);
  ~BufferedFdSink() override;
  BufferedFdSink(const BufferedFdSink&) = delete;
  BufferedFdSink& operator=(const BufferedFdSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void write_out();  // caller holds the sink's mutex

  int fd_;
  std::string pending_;
};

}  // namespace paygate::app
