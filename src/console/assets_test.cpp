#include "console/assets.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <set>
#include <string>

#include "http/testing.h"

namespace paygate::console {
namespace {

namespace bhttp = http::bhttp;

http::Response get(const http::Router& router, const std::string& path, std::string_view if_none_match = {}) {
  auto match = router.find(bhttp::verb::get, path);
  if (match.handler == nullptr) {
    ADD_FAILURE() << "no route for " << path;
    return {};
  }
  http::Request req;
  req.raw.method(bhttp::verb::get);
  req.raw.target(path);
  req.raw.version(11);
  if (!if_none_match.empty()) req.raw.set(bhttp::field::if_none_match, if_none_match);
  req.path = path;
  boost::asio::io_context io;
  const http::Handler& handler = *match.handler;
  auto future = boost::asio::co_spawn(io, handler(req), boost::asio::use_future);
  io.run();
  return future.get();
}

void expect_security_headers(const http::Response& res, const std::string& what) {
  EXPECT_EQ(res["Content-Security-Policy"], kConsoleCsp) << what;
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff") << what;
  EXPECT_EQ(res["X-Frame-Options"], "DENY") << what;
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer") << what;
}

std::string expected_type(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "?";
}

TEST(ConsoleAssets, EveryEmbeddedAssetIsServedWithItsTypeAndHeaders) {
  http::Router router;
  register_asset_routes(router);
  std::set<std::string> paths;
  for (const Asset& asset : embedded_assets()) {
    std::string path = "/console/" + std::string(asset.path);
    paths.insert(std::string(asset.path));
    http::Response res = get(router, path);
    EXPECT_EQ(res.result(), bhttp::status::ok) << path;
    EXPECT_EQ(res[bhttp::field::content_type], expected_type(asset.path)) << path;
    EXPECT_EQ(res.body(), asset.body) << path;
    EXPECT_FALSE(asset.body.empty()) << path;
    EXPECT_EQ(res[bhttp::field::cache_control], "no-cache") << path;
    EXPECT_EQ(res[bhttp::field::etag], asset.etag) << path;
    EXPECT_EQ(asset.etag.size(), 22u) << path;  // "..." around 20 hex digits
    expect_security_headers(res, path);

    http::Response again = get(router, path, asset.etag);
    EXPECT_EQ(again.result(), bhttp::status::not_modified) << path;
    EXPECT_TRUE(again.body().empty()) << path;
    EXPECT_EQ(again[bhttp::field::etag], asset.etag) << path;
  }
  // The app, its styles, its translations and uPlot from npm are all there.
  for (const char* needed : {"index.html", "app.js", "app.css", "i18n.js", "vendor/uPlot.iife.min.js",
                             "vendor/uPlot.min.css"}) {
    EXPECT_TRUE(paths.contains(needed)) << needed;
  }
}

TEST(ConsoleAssets, IndexAtConsoleAndRootRedirects) {
  http::Router router;
  register_asset_routes(router);
  std::string_view index_body;
  for (const Asset& asset : embedded_assets()) {
    if (asset.path == "index.html") index_body = asset.body;
  }
  for (std::string path : {"/console", "/console/"}) {
    http::Response res = get(router, path);
    EXPECT_EQ(res.result(), bhttp::status::ok) << path;
    EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=utf-8") << path;
    EXPECT_EQ(res.body(), index_body) << path;
    EXPECT_EQ(res[bhttp::field::cache_control], "no-cache") << path;
    expect_security_headers(res, path);
  }
  http::Response root = get(router, "/");
  EXPECT_EQ(root.result(), bhttp::status::found);
  EXPECT_EQ(root[bhttp::field::location], "/console/");
  expect_security_headers(root, "/");
  // The page never runs inline script: every <script> has a src.
  EXPECT_EQ(std::string(index_body).find("<script>"), std::string::npos);
  EXPECT_EQ(router.find(bhttp::verb::get, "/console/nope.js").handler, nullptr);
}

}  // namespace
}  // namespace paygate::console
