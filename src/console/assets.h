// The console's web app, compiled into the binary (cmake/embed_console_assets.cmake embeds src/console/web and
// uPlot's distribution files) and served at /console/.
#pragma once
#include <span>
#include <string_view>

#include "http/router.h"

namespace paygate::console {

struct Asset {
  std::string_view path;          // relative to /console/: "index.html", "views/orders.js", "vendor/uPlot.min.css"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view etag;          // strong, quoted: the first 80 bits of the body's SHA-256 in hex
};

// Every embedded file (generated).
std::span<const Asset> embedded_assets();

// The Content-Security-Policy of every console response: only the console's own scripts, styles and API (uPlot
// styles its elements through the CSSOM, which style-src does not restrict), never framed.
inline constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// GET /console and /console/ (index.html, Cache-Control no-cache), GET /console/<path> for every asset (its
// Content-Type; Cache-Control no-cache with its content-hash ETag, so a browser revalidates and gets 304 until the
// binary changes), and GET / redirecting to /console/ (nothing else is served at /). Every answer carries the CSP
// above, X-Content-Type-Options nosniff, X-Frame-Options DENY and Referrer-Policy no-referrer.
void register_asset_routes(http::Router& router);

}  // namespace paygate::console
