// Field-name checks for the access log's typed configs, with the config loader's
// wording: "unknown field 'x'" for a name Envoy does not have, "unsupported field 'x'"
// for an Envoy field Remora does not implement.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_node.h"

namespace remora::telemetry {

inline void checkFields(const config::ConfigNode& node,
                        std::initializer_list<std::string_view> known,
                        std::initializer_list<std::string_view> unsupported = {}) {
  for (std::string_view name : unsupported) {
    if (std::optional<config::ConfigNode> value = node.field(name)) {
      value->fail("unsupported field '" + std::string(name) + "'");
    }
  }
  node.expectFields(known);
}

}  // namespace remora::telemetry
