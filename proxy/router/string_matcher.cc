#include "proxy/router/string_matcher.h"

#include <algorithm>

#include "proxy/http/message.h"

namespace remora::router {

namespace {

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool startsWith(std::string_view value, std::string_view prefix, bool ignore_case) {
  if (value.size() < prefix.size()) return false;
  const std::string_view head = value.substr(0, prefix.size());
  return ignore_case ? http::equalsIgnoreCase(head, prefix) : head == prefix;
}

bool endsWith(std::string_view value, std::string_view suffix, bool ignore_case) {
  if (value.size() < suffix.size()) return false;
  const std::string_view tail = value.substr(value.size() - suffix.size());
  return ignore_case ? http::equalsIgnoreCase(tail, suffix) : tail == suffix;
}

bool contains(std::string_view value, std::string_view needle, bool ignore_case) {
  if (!ignore_case) return value.find(needle) != std::string_view::npos;
  return std::search(value.begin(), value.end(), needle.begin(), needle.end(),
                     [](char a, char b) { return lowerAscii(a) == lowerAscii(b); }) != value.end();
}

}  // namespace

std::unique_ptr<const RE2> compileRegex(std::string_view pattern) {
  auto regex = std::make_unique<const RE2>(pattern, RE2::Quiet);
  if (!regex->ok()) {
    throw config::ConfigError("invalid regex \"" + std::string(pattern) + "\": " + regex->error());
  }
  return regex;
}

StringMatcher::StringMatcher(const config::StringMatcher& config)
    : kind_(config.kind), value_(config.value), ignore_case_(config.ignore_case) {
  if (kind_ == config::StringMatcher::Kind::SafeRegex) regex_ = compileRegex(value_);
}

bool StringMatcher::matches(std::string_view value) const {
  switch (kind_) {
    case config::StringMatcher::Kind::Exact:
      return ignore_case_ ? http::equalsIgnoreCase(value, value_) : value == value_;
    case config::StringMatcher::Kind::Prefix:
      return startsWith(value, value_, ignore_case_);
    case config::StringMatcher::Kind::Suffix:
      return endsWith(value, value_, ignore_case_);
    case config::StringMatcher::Kind::Contains:
      return contains(value, value_, ignore_case_);
    case config::StringMatcher::Kind::SafeRegex:
      return RE2::FullMatch(value, *regex_);
  }
  return false;
}

}  // namespace remora::router
