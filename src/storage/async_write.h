// Bridges the store's writer thread to coroutines: `co_await async_write<T>(store, std::move(fn))` runs fn
// inside a group-commit transaction and resumes the coroutine, on its own executor, only after the commit is
// durable.
//
// Always pass a named std::function (moved), never a lambda temporary: GCC 12 destroys some temporaries
// of a co_await full-expression twice (a double free seen here with a capturing lambda).
#pragma once
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>

#include "storage/store.h"

namespace paygate::storage {

template <typename T>
boost::asio::awaitable<Result<T>> async_write(Store& store, std::function<Result<T>(Tx&)>&& fn) {
  namespace asio = boost::asio;
  auto initiate = [&store, fn = std::move(fn)](auto handler) mutable {
    using Handler = decltype(handler);
    struct State {
      std::optional<Result<T>> result;
      Handler handler;
    };
    auto state = std::make_shared<State>(State{std::nullopt, std::move(handler)});
    store.submit(
        [state, fn = std::move(fn)](Tx& tx) -> Status {
          state->result.emplace(fn(tx));
          if (!state->result->ok()) return state->result->error();
          return ok_status();
        },
        [state](Status commit_status) {
          // The closure's result stands when it failed (nothing was written either way) or when the commit
          // succeeded; otherwise (queue full, shutting down, commit failed) the store's error does.
          bool closure_stands = state->result && (!state->result->ok() || commit_status.ok());
          Result<T> out = closure_stands ? std::move(*state->result) : Result<T>(commit_status.error());
          auto ex = asio::get_associated_executor(state->handler);
          asio::post(ex, [state, out = std::move(out)]() mutable { std::move(state->handler)(std::move(out)); });
        });
  };
  return asio::async_initiate<decltype(asio::use_awaitable), void(Result<T>)>(std::move(initiate),
                                                                             asio::use_awaitable);
}

}  // namespace paygate::storage
