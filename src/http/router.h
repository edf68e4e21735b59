#pragma once
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/http.h"

namespace paygate::http {

// Exact-path routing (the protocols use fixed paths). A path with a different method answers 405.
class Router {
 public:
  // `route_name` labels metrics and logs (e.g. "consign.submit").
  void add(bhttp::verb method, std::string path, std::string route_name, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route
    std::string_view route_name;       // "unmatched" when none
    bool method_not_allowed = false;
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
  };
  std::unordered_map<std::string, Entry> routes_;
};

}  // namespace paygate::http
