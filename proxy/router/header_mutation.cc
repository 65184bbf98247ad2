#include "proxy/router/header_mutation.h"

#include "config/config_node.h"

namespace remora::router {

namespace {

using AppendAction = config::HeaderValueOption::AppendAction;

std::string modifiableHeaderName(std::string_view name, std::string_view verb) {
  std::string lower(name);
  http::toLowerAscii(lower);
  if (lower.empty()) throw config::ConfigError("empty header name may not be " + std::string(verb));
  if (lower.front() == ':' || lower == "host") {
    throw config::ConfigError(":-prefixed or host headers may not be " + std::string(verb) +
                              " (\"" + lower + "\")");
  }
  return lower;
}

// Resolves Envoy's "%%" escape; any other '%' would start a formatter, which is not
// implemented, and sending it literally would silently differ from Envoy.
std::string literalHeaderValue(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
    } else if (i + 1 < value.size() && value[i + 1] == '%') {
      out += '%';
      ++i;
    } else {
      throw config::ConfigError("header \"" + std::string(name) + "\": value \"" +
                                std::string(value) +
                                "\" uses a %VARIABLE% formatter, which is not supported (write a "
                                "literal % as %%)");
    }
  }
  return out;
}

bool isOverwrite(AppendAction action) {
  return action == AppendAction::OverwriteIfExistsOrAdd ||
         action == AppendAction::OverwriteIfExists;
}

}  // namespace

HeaderMutation::HeaderMutation(const std::vector<config::HeaderValueOption>& to_add,
                               const std::vector<std::string>& to_remove) {
  for (const std::string& name : to_remove) {
    to_remove_.push_back(modifiableHeaderName(name, "removed"));
  }
  for (const config::HeaderValueOption& option : to_add) {
    std::string name = modifiableHeaderName(option.key, "modified");
    std::string value = literalHeaderValue(name, option.value);
    if (value.empty()) continue;
    has_conditional_actions_ |= option.append_action == AppendAction::AddIfAbsent ||
                                option.append_action == AppendAction::OverwriteIfExists;
    to_add_.push_back({std::move(name), std::move(value), option.append_action});
  }
}

void HeaderMutation::apply(http::HeaderMap& headers) const {
  for (const std::string& name : to_remove_) headers.remove(name);
  if (to_add_.empty()) return;

  // Conditions are decided on the headers as they were before any addition. One
  // vector per thread keeps its storage, so conditional actions allocate nothing.
  thread_local std::vector<bool> condition_holds;
  condition_holds.clear();
  if (has_conditional_actions_) {
    for (const Addition& addition : to_add_) {
      switch (addition.action) {
        case AppendAction::AddIfAbsent:
          condition_holds.push_back(!headers.has(addition.name));
          break;
        case AppendAction::OverwriteIfExists:
          condition_holds.push_back(headers.has(addition.name));
          break;
        case AppendAction::AppendIfExistsOrAdd:
        case AppendAction::OverwriteIfExistsOrAdd:
          condition_holds.push_back(true);
          break;
      }
    }
  }
  const auto applies = [&](size_t i) { return !has_conditional_actions_ || condition_holds[i]; };

  for (size_t i = 0; i < to_add_.size(); ++i) {
    if (isOverwrite(to_add_[i].action) && applies(i)) {
      headers.set(to_add_[i].name, to_add_[i].value);
    }
  }
  for (size_t i = 0; i < to_add_.size(); ++i) {
    if (!isOverwrite(to_add_[i].action) && applies(i)) {
      headers.add(to_add_[i].name, to_add_[i].value);
    }
  }
}

}  // namespace remora::router
