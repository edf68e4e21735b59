// The bytes of a response's start line and header fields, as Beast's serializer writes them, in one string.
//
// The server writes a response as this string and the body, two buffers in one gathered write, instead of
// through bhttp::async_write: Beast's serializer is a chain of composed operations and buffer views that cost
// the I/O thread about a tenth of its time at the consign benchmark's rate (perf), for output this simple.
#pragma once
#include <string>

#include "http/http.h"

namespace paygate::http {

// Start line ("HTTP/1.1 200 OK"), each field as stored ("Name: value"), each line ended by CRLF, then the empty
// line. The caller has prepared the payload (Content-Length set, not chunked).
std::string response_head(const Response& res);

}  // namespace paygate::http
