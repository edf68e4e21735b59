#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/http.h"

namespace paygate::http {

// Exact-path routing (the protocols use fixed paths), plus pattern paths whose `{name}` segments match one
// non-empty path segment each (e.g. /sandbox/payments/{id}/complete). Exact paths win over patterns. A path with
// a different method answers 405.
class Router {
 public:
  // `route_name` labels metrics and logs (e.g. "consign.submit").
  void add(bhttp::verb method, std::string path, std::string route_name, Handler handler);

  // A read-only GET route that also answers HEAD: the same handler, and the server sends the answer's head alone
  // (RFC 9110, 9.3.2). Only for routes without side effects: a protocol's GET may create an order, and a HEAD from
  // a link checker must not. Monitoring and `curl -I` use HEAD on /healthz, /metrics and the console's pages.
  void add_get_and_head(const std::string& path, const std::string& route_name, const Handler& handler);

  // Answers every request under `prefix` (e.g. "/admin/api/") that no route takes: unknown paths and known paths
  // with another method, so an API can answer those in its own format. The handler may call find() to tell which.
  void add_fallback(std::string prefix, std::string route_name, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route
    std::string_view route_name;       // "unmatched" when none
    bool method_not_allowed = false;
    std::string allow;  // with method_not_allowed: the path's methods, for the 405's Allow header ("GET, POST")
    std::vector<std::pair<std::string, std::string>> params;  // a pattern's segments
  };
  Match find(bhttp::verb method, std::string_view path) const;

 private:
  struct Route {
    std::string route_name;
    Handler handler;
  };
  struct Entry {
    std::string route_name;  // the first name registered for the path; labels its 405 answers
    std::unordered_map<int, Route> by_method;
    std::string allow;  // its methods by name, comma-separated, kept as routes are added
  };
  std::unordered_map<std::string, Entry> routes_;
  struct Fallback {
    std::string prefix;
    std::string route_name;
    Handler handler;
  };
  std::vector<Fallback> fallbacks_;
  Match no_route(std::string_view path, std::string_view route_name, const Entry* wrong_method_of) const;
  // Pattern paths, split into segments ("{id}" marks a parameter), tried in registration order.
  std::vector<std::pair<std::vector<std::string>, std::string>> patterns_;  // segments, key into routes_
};

}  // namespace paygate::http
