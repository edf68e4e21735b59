#include "http/router.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace paygate::http {

namespace {

std::vector<std::string> split_segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(bhttp::verb method, std::string path, std::string route_name, Handler handler) {
  PG_ASSERT(handler != nullptr, "route without a handler");
  PG_ASSERT(!path.empty() && path.front() == '/', "route paths start with '/'");
  if (path.find('{') != std::string::npos && !routes_.contains(path)) {
    patterns_.emplace_back(split_segments(path), path);
  }
  Entry& entry = routes_[std::move(path)];
  // The path-level name labels 405 answers; each method keeps its own name for matches.
  if (entry.route_name.empty()) entry.route_name = route_name;
  auto [it, inserted] =
      entry.by_method.emplace(static_cast<int>(method), Route{std::move(route_name), std::move(handler)});
  PG_ASSERT(inserted, "the same method and path registered twice");
  std::vector<std::string_view> names;
  for (const auto& [verb, _] : entry.by_method) names.push_back(bhttp::to_string(static_cast<bhttp::verb>(verb)));
  std::sort(names.begin(), names.end());
  entry.allow.clear();
  for (auto name : names) {
    if (!entry.allow.empty()) entry.allow += ", ";
    entry.allow += name;
  }
}

void Router::add_get_and_head(const std::string& path, const std::string& route_name, const Handler& handler) {
  add(bhttp::verb::get, path, route_name, handler);
  add(bhttp::verb::head, path, route_name, handler);
}

void Router::add_fallback(std::string prefix, std::string route_name, Handler handler) {
  PG_ASSERT(!prefix.empty() && prefix.front() == '/', "a fallback prefix is an absolute path");
  fallbacks_.push_back(Fallback{std::move(prefix), std::move(route_name), std::move(handler)});
}

Router::Match Router::no_route(std::string_view path, std::string_view route_name, const Entry* wrong_method_of) const {
  Match m{nullptr, route_name, wrong_method_of != nullptr, {}, {}};
  if (wrong_method_of != nullptr) m.allow = wrong_method_of->allow;
  for (const auto& f : fallbacks_) {
    if (path.starts_with(f.prefix)) {
      m.handler = &f.handler;
      m.route_name = f.route_name;
      break;
    }
  }
  return m;
}

Router::Match Router::find(bhttp::verb method, std::string_view path) const {
  // unordered_map<std::string> has no heterogeneous lookup in C++20 without a custom hash; paths are short.
  auto entry = routes_.find(std::string(path));
  std::vector<std::pair<std::string, std::string>> params;
  if (entry == routes_.end() && !patterns_.empty() && !path.empty() && path.front() == '/') {
    auto segments = split_segments(path);
    for (const auto& [pattern, key] : patterns_) {
      if (pattern.size() != segments.size()) continue;
      params.clear();
      bool matches = true;
      for (size_t i = 0; i < pattern.size() && matches; ++i) {
        if (is_param(pattern[i])) {
          if (segments[i].empty())
            matches = false;
          else
            params.emplace_back(pattern[i].substr(1, pattern[i].size() - 2), segments[i]);
        } else {
          matches = pattern[i] == segments[i];
        }
      }
      if (matches) {
        entry = routes_.find(key);
        break;
      }
    }
  }
  if (entry == routes_.end()) return no_route(path, "unmatched", nullptr);
  auto route = entry->second.by_method.find(static_cast<int>(method));
  if (route == entry->second.by_method.end()) return no_route(path, entry->second.route_name, &entry->second);
  return Match{&route->second.handler, route->second.route_name, false, {}, std::move(params)};
}

}  // namespace paygate::http
