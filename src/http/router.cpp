#include "http/router.h"

#include <utility>

#include "base/assert.h"

namespace paygate::http {

void Router::add(bhttp::verb method, std::string path, std::string route_name, Handler handler) {
  PG_ASSERT(handler != nullptr, "route without a handler");
  Entry& entry = routes_[std::move(path)];
  // The path-level name labels 405 answers; each method keeps its own name for matches.
  if (entry.route_name.empty()) entry.route_name = route_name;
  auto [it, inserted] =
      entry.by_method.emplace(static_cast<int>(method), Route{std::move(route_name), std::move(handler)});
  PG_ASSERT(inserted, "the same method and path registered twice");
}

Router::Match Router::find(bhttp::verb method, std::string_view path) const {
  // unordered_map<std::string> has no heterogeneous lookup in C++20 without a custom hash; paths are short.
  auto entry = routes_.find(std::string(path));
  if (entry == routes_.end()) return Match{nullptr, "unmatched", false};
  auto route = entry->second.by_method.find(static_cast<int>(method));
  if (route == entry->second.by_method.end()) return Match{nullptr, entry->second.route_name, true};
  return Match{&route->second.handler, route->second.route_name, false};
}

}  // namespace paygate::http
