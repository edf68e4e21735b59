// Expected failures are values. Result<T> holds either a T or an Error; exceptions are kept for start-up
// and configuration only.
#pragma once
#include <string>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace paygate {

enum class ErrorCode {
  kInvalidArgument,   // the caller sent something malformed or out of range
  kUnauthenticated,   // bad signature, unknown merchant
  kNotFound,
  kAlreadyExists,     // duplicate order id with different fields, card already live
  kFailedPrecondition,// state does not allow it (order not in review, balance too low, batch full)
  kResourceExhausted, // a limit or queue is full; retry later
  kUnavailable,       // storage not writable, shutting down
  kInternal,          // a bug or an environment failure; details go to the log, never to the client
};

std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;  // safe to show to the caller
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { PG_ASSERT(ok(), "value() on an error Result"); return std::get<0>(v_); }
  const T& value() const& { PG_ASSERT(ok(), "value() on an error Result"); return std::get<0>(v_); }
  T&& value() && { PG_ASSERT(ok(), "value() on an error Result"); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { PG_ASSERT(!ok(), "error() on an ok Result"); return std::get<1>(v_); }
  Error take_error() && { PG_ASSERT(!ok(), "error() on an ok Result"); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace paygate

// Propagates an error from an expression returning Result<...>.
#define PG_TRY(expr)                                   \
  do {                                                 \
    auto&& pg_try_result_ = (expr);                    \
    if (!pg_try_result_.ok()) return pg_try_result_.error(); \
  } while (0)
