#include "app/log_sink.h"

#include <unistd.h>

#include <cerrno>

namespace paygate::app {

BufferedFdSink::BufferedFdSink(int fd) : fd_(fd) {
  pending_.reserve(kBufferBytesMax + 4096);
}

BufferedFdSink::~BufferedFdSink() {
  std::lock_guard lock(mutex_);
  write_out();
}

void BufferedFdSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  pending_.append(formatted.data(), formatted.size());
  if (msg.level >= spdlog::level::warn || pending_.size() >= kBufferBytesMax) write_out();
}

void BufferedFdSink::flush_() {
  write_out();
}

void BufferedFdSink::write_out() {
  size_t done = 0;
  while (done < pending_.size()) {
    ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // nowhere to report a failing log: drop what is left, as the console sink would
    done += static_cast<size_t>(n);
  }
  pending_.clear();
}

}  // namespace paygate::app
