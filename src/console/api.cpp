#include "console/api.h"

namespace paygate::console {

void register_routes(http::Router& router, ApiDeps& deps) {
  register_session_routes(router, deps);
}

}  // namespace paygate::console
