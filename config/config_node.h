// A position-aware view of one YAML/JSON value: every error it raises names the
// file, line, column and field path, e.g.
//   envoy.yaml:12:9: static_resources.clusters[0].connect_timeout: invalid duration "5x"
// Filter factories use it to parse their own typed_config.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace remora::config {

// Thrown while loading configuration only (never on the data plane).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigNode {
 public:
  ConfigNode() = default;
  ConfigNode(YAML::Node node, std::string path, std::shared_ptr<const std::string> file);

  bool valid() const { return node_.IsDefined() && !node_.IsNull(); }
  bool isMap() const { return node_.IsMap(); }
  bool isSequence() const { return node_.IsSequence(); }
  bool isScalar() const { return node_.IsScalar(); }
  const std::string& path() const { return path_; }
  // "file:line:col" of this value (1-based), or "file" if unknown.
  std::string location() const;

  // Raises a ConfigError "location: path: message".
  [[noreturn]] void fail(std::string_view message) const;

  // Mapping access. Fails if this value is not a mapping.
  std::optional<ConfigNode> field(std::string_view name) const;
  ConfigNode required(std::string_view name) const;  // fails if absent or null
  bool has(std::string_view name) const { return field(name).has_value(); }
  // Fails naming the first key that is not in `known` ("unknown field 'x'").
  void expectFields(std::initializer_list<std::string_view> known) const;
  // Fails unless exactly one (or, with allow_none, at most one) of `names` is set.
  // Returns the one that is set, or an empty view.
  std::string_view oneOf(std::initializer_list<std::string_view> names, bool allow_none = false) const;

  // Sequence access; fails if this value is not a sequence.
  std::vector<ConfigNode> elements() const;

  // Scalars; each fails with the expected type on a mismatch.
  std::string asString() const;
  bool asBool() const;
  uint32_t asUint32() const;
  uint64_t asUint64() const;
  double asDouble() const;
  // Protobuf JSON duration: "1.5s", "0.25s", "300s" (also "5m"/"100ms" are refused:
  // Envoy accepts only the seconds form).
  std::chrono::milliseconds asDuration() const;
  // Enum by name; fails listing the accepted names.
  template <typename E>
  E asEnum(std::initializer_list<std::pair<std::string_view, E>> names) const {
    const std::string v = asString();
    for (const auto& [name, value] : names) {
      if (v == name) return value;
    }
    std::string accepted;
    for (const auto& [name, value] : names) {
      if (!accepted.empty()) accepted += ", ";
      accepted += name;
    }
    fail("invalid value \"" + v + "\" (expected one of: " + accepted + ")");
  }

  // Convenience: value of an optional field or the default.
  std::string stringOr(std::string_view name, std::string_view dflt) const;
  bool boolOr(std::string_view name, bool dflt) const;
  uint32_t uint32Or(std::string_view name, uint32_t dflt) const;
  std::chrono::milliseconds durationOr(std::string_view name, std::chrono::milliseconds dflt) const;

  const YAML::Node& yaml() const { return node_; }

 private:
  YAML::Node node_;
  std::string path_;
  std::shared_ptr<const std::string> file_;
};

}  // namespace remora::config
