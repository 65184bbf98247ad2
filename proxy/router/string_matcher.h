// Compiled envoy.type.matcher.v3.StringMatcher, shared by route, header and query
// parameter matching. Immutable after construction, so one instance may be used by
// every worker thread at once (RE2 matching is thread-safe on a const object).
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/bootstrap.h"

namespace remora::router {

// Compiles an RE2 pattern once at config load; throws config::ConfigError naming the
// pattern and RE2's reason when it does not compile.
std::unique_ptr<const RE2> compileRegex(std::string_view pattern);

class StringMatcher {
 public:
  // Throws config::ConfigError when a SafeRegex pattern does not compile.
  explicit StringMatcher(const config::StringMatcher& config);

  // Exact/prefix/suffix/contains honour ignore_case; SafeRegex must match the whole
  // value and ignores ignore_case, as in Envoy.
  bool matches(std::string_view value) const;

 private:
  config::StringMatcher::Kind kind_;
  std::string value_;
  bool ignore_case_;
  std::unique_ptr<const RE2> regex_;
};

}  // namespace remora::router
