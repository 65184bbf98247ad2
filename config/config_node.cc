#include "config/config_node.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <set>

namespace remora::config {
namespace {

std::string childPath(const std::string& parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string path = parent;
  path += '.';
  path += name;
  return path;
}

std::string quoteList(std::initializer_list<std::string_view> names) {
  std::string list;
  for (std::string_view name : names) {
    if (!list.empty()) list += ", ";
    list += '\'';
    list += name;
    list += '\'';
  }
  return list;
}

const char* describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "null";
  }
}

// Only unsigned decimal digits: proto JSON also takes the quoted form, and refusing
// signs, fractions and exponents keeps "-1" or "1e9" from silently meaning something.
std::optional<uint64_t> parseUnsigned(const std::string& text, bool& overflow) {
  overflow = false;
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return std::nullopt;
  }
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// google.protobuf.Duration in its JSON form: decimal seconds with at most 9 fractional
// digits, suffixed by "s", up to 315576000000 seconds.
std::optional<uint64_t> parseDurationMillis(const std::string& text) {
  if (text.size() < 2 || text.back() != 's') return std::nullopt;
  const std::string number = text.substr(0, text.size() - 1);
  const std::size_t dot = number.find('.');
  bool overflow = false;
  const std::optional<uint64_t> seconds = parseUnsigned(number.substr(0, dot), overflow);
  constexpr uint64_t kMaxSeconds = 315'576'000'000;
  if (!seconds || *seconds > kMaxSeconds) return std::nullopt;
  uint64_t nanos = 0;
  if (dot != std::string::npos) {
    const std::string fraction = number.substr(dot + 1);
    const std::optional<uint64_t> digits = parseUnsigned(fraction, overflow);
    if (!digits || fraction.size() > 9) return std::nullopt;
    nanos = *digits;
    for (std::size_t i = fraction.size(); i < 9; ++i) nanos *= 10;
  }
  // Round a sub-millisecond remainder up so a tiny non-zero timeout never becomes 0,
  // which means "disabled" for most Envoy timeouts.
  return *seconds * 1000 + (nanos + 999'999) / 1'000'000;
}

}  // namespace

ConfigNode::ConfigNode(YAML::Node node, std::string path, std::shared_ptr<const std::string> file)
    : node_(std::move(node)), path_(std::move(path)), file_(std::move(file)) {}

std::string ConfigNode::location() const {
  std::string where = file_ ? *file_ : std::string("<unknown>");
  const YAML::Mark mark = node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  if (mark.is_null()) return where;
  return where + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

void ConfigNode::fail(std::string_view message) const {
  throw ConfigError(location() + ": " + (path_.empty() ? std::string("<root>") : path_) + ": " +
                    std::string(message));
}

std::optional<ConfigNode> ConfigNode::field(std::string_view name) const {
  if (!valid()) return std::nullopt;
  if (!isMap()) fail(std::string("expected a mapping, got ") + describe(node_));
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == name) {
      // Proto JSON treats an explicit null like an absent field.
      if (!it->second.IsDefined() || it->second.IsNull()) return std::nullopt;
      return ConfigNode(it->second, childPath(path_, name), file_);
    }
  }
  return std::nullopt;
}

ConfigNode ConfigNode::required(std::string_view name) const {
  std::optional<ConfigNode> value = field(name);
  if (!value) {
    ConfigNode(node_, childPath(path_, name), file_)
        .fail("missing required field '" + std::string(name) + "'");
  }
  return *value;
}

void ConfigNode::expectFields(std::initializer_list<std::string_view> known) const {
  if (!valid()) return;
  if (!isMap()) fail(std::string("expected a mapping, got ") + describe(node_));
  std::set<std::string, std::less<>> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    const ConfigNode key_node(it->first, childPath(path_, key), file_);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      key_node.fail("unknown field '" + key + "'");
    }
    // yaml-cpp keeps both entries of a repeated key but lookups see only the first.
    if (!seen.insert(key).second) key_node.fail("duplicate field '" + key + "'");
  }
}

std::string_view ConfigNode::oneOf(std::initializer_list<std::string_view> names,
                                   bool allow_none) const {
  std::string_view found;
  for (std::string_view name : names) {
    if (!has(name)) continue;
    if (!found.empty()) {
      fail("only one of " + quoteList(names) + " may be set, found '" + std::string(found) +
           "' and '" + std::string(name) + "'");
    }
    found = name;
  }
  if (found.empty() && !allow_none) fail("exactly one of " + quoteList(names) + " must be set");
  return found;
}

std::vector<ConfigNode> ConfigNode::elements() const {
  std::vector<ConfigNode> result;
  if (!valid()) return result;
  if (!isSequence()) fail(std::string("expected a list, got ") + describe(node_));
  result.reserve(node_.size());
  for (std::size_t i = 0; i < node_.size(); ++i) {
    result.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", file_);
  }
  return result;
}

std::string ConfigNode::asString() const {
  if (!isScalar()) fail(std::string("expected a string, got ") + describe(node_));
  return node_.Scalar();
}

bool ConfigNode::asBool() const {
  if (isScalar()) {
    // Only JSON's spellings: YAML 1.1's yes/no/on/off are not booleans to Envoy.
    if (node_.Scalar() == "true") return true;
    if (node_.Scalar() == "false") return false;
    fail("expected a boolean (true or false), got \"" + node_.Scalar() + "\"");
  }
  fail(std::string("expected a boolean (true or false), got ") + describe(node_));
}

uint64_t ConfigNode::asUint64() const {
  if (!isScalar()) fail(std::string("expected a non-negative integer, got ") + describe(node_));
  const std::string& text = node_.Scalar();
  bool overflow = false;
  std::optional<uint64_t> value = parseUnsigned(text, overflow);
  if (overflow) {
    fail("integer " + text + " is out of range (max " +
         std::to_string(std::numeric_limits<uint64_t>::max()) + ")");
  }
  if (!value) fail("expected a non-negative integer, got \"" + text + "\"");
  return *value;
}

uint32_t ConfigNode::asUint32() const {
  const uint64_t value = asUint64();
  if (value > std::numeric_limits<uint32_t>::max()) {
    fail("integer " + std::to_string(value) + " is out of range (max " +
         std::to_string(std::numeric_limits<uint32_t>::max()) + ")");
  }
  return static_cast<uint32_t>(value);
}

double ConfigNode::asDouble() const {
  if (!isScalar()) fail(std::string("expected a number, got ") + describe(node_));
  const std::string& text = node_.Scalar();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    fail("expected a number, got \"" + text + "\"");
  }
  return value;
}

std::chrono::milliseconds ConfigNode::asDuration() const {
  if (!isScalar())
    fail(std::string("expected a duration such as \"0.25s\", got ") + describe(node_));
  const std::optional<uint64_t> millis = parseDurationMillis(node_.Scalar());
  if (!millis) fail("invalid duration \"" + node_.Scalar() + "\" (expected e.g. \"0.25s\")");
  return std::chrono::milliseconds(static_cast<int64_t>(*millis));
}

std::string ConfigNode::stringOr(std::string_view name, std::string_view dflt) const {
  std::optional<ConfigNode> value = field(name);
  return value ? value->asString() : std::string(dflt);
}

bool ConfigNode::boolOr(std::string_view name, bool dflt) const {
  std::optional<ConfigNode> value = field(name);
  return value ? value->asBool() : dflt;
}

uint32_t ConfigNode::uint32Or(std::string_view name, uint32_t dflt) const {
  std::optional<ConfigNode> value = field(name);
  return value ? value->asUint32() : dflt;
}

std::chrono::milliseconds ConfigNode::durationOr(std::string_view name,
                                                 std::chrono::milliseconds dflt) const {
  std::optional<ConfigNode> value = field(name);
  return value ? value->asDuration() : dflt;
}

}  // namespace remora::config
