#include "console/assets.h"

#include <string>

#include "base/assert.h"
#include "http/pages.h"

namespace paygate::console {

namespace {

namespace asio = http::asio;
namespace bhttp = http::bhttp;

void set_console_headers(http::Response& res) {
  res.set("Content-Security-Policy", kConsoleCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
}

http::Response serve(const http::Request& req, const Asset& asset) {
  // If-None-Match may list several tags; a weak comparison is enough for GET (RFC 9110 13.1.2).
  std::string if_none_match = http::header_value(req, bhttp::field::if_none_match);
  bool fresh = !if_none_match.empty() && (if_none_match == "*" || if_none_match.find(asset.etag) != std::string::npos);
  http::Response res = fresh ? http::make_response(req, bhttp::status::not_modified, asset.content_type, "")
                             : http::make_response(req, bhttp::status::ok, asset.content_type, std::string(asset.body));
  if (fresh) res.erase(bhttp::field::content_type);
  res.set(bhttp::field::etag, asset.etag);
  res.set(bhttp::field::cache_control, "no-cache");
  set_console_headers(res);
  return res;
}

}  // namespace

void register_asset_routes(http::Router& router) {
  const Asset* index = nullptr;
  for (const Asset& asset : embedded_assets()) {
    if (asset.path == "index.html") index = &asset;
    router.add_get_and_head(
        "/console/" + std::string(asset.path), "console.asset",
        [&asset](http::Request& req) -> asio::awaitable<http::Response> { co_return serve(req, asset); });
  }
  PG_ASSERT(index != nullptr, "the console's index.html is not embedded");
  for (std::string path : {"/console", "/console/"}) {
    router.add_get_and_head(path, "console.index", [index](http::Request& req) -> asio::awaitable<http::Response> {
      co_return serve(req, *index);
    });
  }
  router.add_get_and_head("/", "console.root", [](http::Request& req) -> asio::awaitable<http::Response> {
    http::Response res = http::make_response(req, bhttp::status::found, "text/plain; charset=utf-8", "see /console/\n");
    res.set(bhttp::field::location, "/console/");
    res.set(bhttp::field::cache_control, "no-store");
    set_console_headers(res);
    co_return res;
  });
}

}  // namespace paygate::console
