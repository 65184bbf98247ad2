// Loads an Envoy v3 bootstrap (YAML or JSON) into the typed structs of bootstrap.h.
// Every problem, from a YAML syntax error to a route naming an undefined cluster, is
// a ConfigError "file:line:col: field.path: message".
#pragma once

#include <string>

#include "config/bootstrap.h"

namespace remora::config {

Bootstrap loadBootstrapFile(const std::string& path);
// `display_name` stands in for the file name in errors, e.g. "<config-yaml>".
Bootstrap loadBootstrapString(const std::string& text, const std::string& display_name);

// config.route.v3.HeaderMatcher, for filters whose typed_config holds header matchers
// (envoy.filters.http.health_check).
HeaderMatcher parseHeaderMatcher(const ConfigNode& node);

}  // namespace remora::config
