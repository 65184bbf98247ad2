// Compiled request_headers_to_add/remove and response_headers_to_add/remove of one
// configuration level (route config, virtual host, route or weighted cluster entry).
//
// Values are literal text only: Envoy's %VARIABLE% formatters are not implemented, so
// a value containing '%' other than the "%%" escape is refused at config load rather
// than sent verbatim. As in Envoy (keep_empty_value defaults to false), an entry whose
// value is empty is never added.
#pragma once

#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "proxy/http/message.h"

namespace remora::router {

class HeaderMutation {
 public:
  HeaderMutation() = default;
  // Throws config::ConfigError for a pseudo-header, "host", an empty name or a
  // formatter value (Envoy refuses the first three too).
  HeaderMutation(const std::vector<config::HeaderValueOption>& to_add,
                 const std::vector<std::string>& to_remove);

  // Removes first, then applies the additions the way Envoy's HeaderParser does: the
  // ADD_IF_ABSENT and OVERWRITE_IF_EXISTS conditions are judged on the headers as they
  // were before this level added anything, and every overwrite happens before every
  // append.
  void apply(http::HeaderMap& headers) const;

  bool empty() const { return to_add_.empty() && to_remove_.empty(); }

 private:
  struct Addition {
    std::string name;  // lower-case
    std::string value;
    config::HeaderValueOption::AppendAction action;
  };
  std::vector<Addition> to_add_;
  std::vector<std::string> to_remove_;  // lower-case
  bool has_conditional_actions_ = false;
};

// Both directions of one level, compiled from config::HeaderMutations.
struct HeaderMutations {
  HeaderMutations() = default;
  explicit HeaderMutations(const config::HeaderMutations& config)
      : request(config.request_headers_to_add, config.request_headers_to_remove),
        response(config.response_headers_to_add, config.response_headers_to_remove) {}

  HeaderMutation request;
  HeaderMutation response;
};

}  // namespace remora::router
