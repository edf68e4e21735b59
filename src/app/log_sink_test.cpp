#include "app/log_sink.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

namespace paygate::app {
namespace {

// A temporary file the sink writes to, and what it holds so far.
class LogFile {
 public:
  LogFile() : file_(std::tmpfile()) {}
  ~LogFile() { std::fclose(file_); }
  int fd() const { return fileno(file_); }
  std::string contents() const {
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    off_t at = 0;
    while ((n = ::pread(fd(), buf, sizeof buf, at)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      at += n;
    }
    return out;
  }

 private:
  FILE* file_;
};

std::shared_ptr<spdlog::logger> logger_on(int fd) {
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<BufferedFdSink>(fd));
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::debug);
  return logger;
}

TEST(BufferedFdSink, InfoLinesWaitForAFlush) {
  LogFile file;
  auto logger = logger_on(file.fd());
  logger->info("one");
  logger->debug("two");
  EXPECT_EQ(file.contents(), "");
  logger->flush();
  EXPECT_EQ(file.contents(), "info one\ndebug two\n");
}

TEST(BufferedFdSink, AWarningGoesOutAtOnceAfterEveryLineBeforeIt) {
  LogFile file;
  auto logger = logger_on(file.fd());
  logger->info("before");
  logger->warn("attention");
  EXPECT_EQ(file.contents(), "info before\nwarning attention\n");
  logger->error("worse");
  EXPECT_EQ(file.contents(), "info before\nwarning attention\nerror worse\n");
}

TEST(BufferedFdSink, AFullBufferIsWrittenWithoutAFlush) {
  LogFile file;
  auto logger = logger_on(file.fd());
  const std::string line(999, 'x');  // 1 005 bytes a line, with "info " and the newline
  size_t lines = 0;
  while (file.contents().empty()) {
    logger->info(line);
    ++lines;
    ASSERT_LE(lines * 1000, 2 * BufferedFdSink::kBufferBytesMax) << "nothing written after twice the buffer";
  }
  EXPECT_GE(file.contents().size(), BufferedFdSink::kBufferBytesMax);
  EXPECT_EQ(file.contents().size() % (line.size() + 6), 0u) << "whole lines only";
}

TEST(BufferedFdSink, WhatIsLeftIsWrittenWhenTheSinkGoes) {
  LogFile file;
  {
    auto logger = logger_on(file.fd());
    logger->info("last words");
  }
  EXPECT_EQ(file.contents(), "info last words\n");
}

}  // namespace
}  // namespace paygate::app
