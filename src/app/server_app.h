// Wires the parts into a running server: storage, the protocol handlers, the processor loop, the notify
// dispatcher, /healthz and /metrics, signal handling and graceful drain.
#pragma once
#include <optional>
#include <string>

#include "app/config.h"

namespace paygate::app {

struct ServeOptions {
  std::string port_file;  // written with the bound port once listening
};

// Runs until SIGTERM/SIGINT. Returns the process exit code.
int serve(const Config& config, const ServeOptions& options);

}  // namespace paygate::app
