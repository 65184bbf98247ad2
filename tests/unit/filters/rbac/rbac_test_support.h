// Shared by the RBAC tests: typed_config from YAML, errors as text, requests.
#pragma once

#include <memory>
#include <string>

#include "config/config_node.h"
#include "filters/rbac/rbac_config.h"
#include "proxy/http/message.h"
#include "proxy/stream/stream_info.h"

namespace remora::filters::rbac::testing {

inline config::ConfigNode typedConfig(const std::string& yaml) {
  return config::ConfigNode(YAML::Load(yaml), "typed_config",
                            std::make_shared<const std::string>("rbac.yaml"));
}

inline RbacConfig parse(const std::string& yaml) { return parseRbacConfig(typedConfig(yaml)); }

// The message of the ConfigError parsing `yaml` throws, or "no error".
inline std::string parseError(const std::string& yaml) {
  try {
    parseRbacConfig(typedConfig(yaml));
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

// GET / from 10.0.0.1, unless the test changes it.
struct Request {
  Request() {
    head.method = "GET";
    head.path = "/";
    head.authority = "example.com";
    info.downstream_remote_address = "10.0.0.1:40000";
  }
  http::RequestHead head;
  stream::StreamInfo info;
};

}  // namespace remora::filters::rbac::testing
