#include "config/config_loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "config/parsers.h"

namespace remora::config {
namespace {

using detail::checkFields;
using detail::ParseContext;

Admin parseAdmin(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"address", "access_log_path"}, {"access_log"});
  Admin admin;
  if (std::optional<ConfigNode> address = node.field("address")) {
    admin.address = detail::parseAddress(*address, ctx);
    if (!detail::isIpLiteral(admin.address->address)) {
      address->required("socket_address")
          .required("address")
          .fail("admin address must be an IP address, got \"" + admin.address->address + "\"");
    }
  }
  // Envoy's own examples set /dev/null here; any real path would expect an admin log.
  if (std::optional<ConfigNode> log_path = node.field("access_log_path")) {
    if (log_path->asString() != "/dev/null") {
      log_path->fail("unsupported value \"" + log_path->asString() +
                     "\" (only \"/dev/null\" is supported)");
    }
  }
  return admin;
}

void parseClusters(const ConfigNode& list, ParseContext& ctx, Bootstrap& bootstrap) {
  for (const ConfigNode& element : list.elements()) {
    Cluster cluster = detail::parseCluster(element, ctx);
    if (!ctx.cluster_names.insert(cluster.name).second) {
      element.required("name").fail("duplicate cluster '" + cluster.name + "'");
    }
    bootstrap.clusters.push_back(std::move(cluster));
  }
}

void parseListeners(const ConfigNode& list, const ParseContext& ctx, Bootstrap& bootstrap) {
  std::map<std::string, std::string, std::less<>> address_owner;
  for (const ConfigNode& element : list.elements()) {
    Listener listener = detail::parseListener(element, ctx);
    for (const Listener& earlier : bootstrap.listeners) {
      if (earlier.name == listener.name) {
        element.required("name").fail("duplicate listener name '" + listener.name + "'");
      }
    }
    // Port 0 asks the kernel for a fresh port, so those never collide.
    const std::string address =
        listener.address.address + ":" + std::to_string(listener.address.port_value);
    if (listener.address.port_value != 0) {
      const auto [owner, added] = address_owner.emplace(address, listener.name);
      if (!added) {
        element.required("address").fail("address " + address + " is already used by listener '" +
                                         owner->second + "'");
      }
    }
    bootstrap.listeners.push_back(std::move(listener));
  }
}

std::vector<HistogramBucketSetting> parseStatsConfig(const ConfigNode& node,
                                                     const ParseContext& ctx) {
  checkFields(node, ctx, {"histogram_bucket_settings"},
              {"stats_tags", "use_all_default_tags", "stats_matcher"});
  std::vector<HistogramBucketSetting> settings;
  const std::optional<ConfigNode> list = node.field("histogram_bucket_settings");
  if (!list) return settings;
  for (const ConfigNode& element : list->elements()) {
    checkFields(element, ctx, {"match", "buckets"});
    HistogramBucketSetting setting;
    setting.match = detail::parseStringMatcher(element.required("match"), ctx);
    const ConfigNode buckets = element.required("buckets");
    for (const ConfigNode& b : buckets.elements()) {
      const double bound = b.asDouble();
      if (!(bound > 0)) b.fail("bucket bounds must be greater than 0");
      if (!setting.buckets.empty() && bound <= setting.buckets.back()) {
        b.fail("bucket bounds must be strictly increasing");
      }
      setting.buckets.push_back(bound);
    }
    if (setting.buckets.empty()) buckets.fail("at least one bucket is required");
    settings.push_back(std::move(setting));
  }
  return settings;
}

void flattenRuntime(const ConfigNode& node, const std::string& prefix, Runtime& runtime) {
  if (node.isMap()) {
    for (auto it = node.yaml().begin(); it != node.yaml().end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (const std::optional<ConfigNode> child = node.field(key))
        flattenRuntime(*child, path, runtime);
    }
    return;
  }
  if (!node.isScalar()) node.fail("runtime values must be scalars or mappings");
  runtime.static_values.emplace_back(prefix, node.asString());
}

Runtime parseLayeredRuntime(const ConfigNode& node, const ParseContext& ctx) {
  checkFields(node, ctx, {"layers"});
  Runtime runtime;
  const std::optional<ConfigNode> layers = node.field("layers");
  if (!layers) return runtime;
  for (const ConfigNode& layer : layers->elements()) {
    checkFields(layer, ctx, {"name", "static_layer", "admin_layer"}, {"disk_layer", "rtds_layer"});
    layer.required("name");
    const std::string_view kind = layer.oneOf({"static_layer", "admin_layer"});
    if (kind == "admin_layer") {
      runtime.has_admin_layer = true;
    } else {
      flattenRuntime(layer.required("static_layer"), "", runtime);
    }
  }
  return runtime;
}

Bootstrap parseBootstrap(const ConfigNode& root, ParseContext& ctx) {
  if (!root.valid()) root.fail("the configuration is empty");
  checkFields(root, ctx, {"node", "static_resources", "admin", "stats_config", "layered_runtime"});
  Bootstrap bootstrap;
  bootstrap.root = root;
  if (std::optional<ConfigNode> stats = root.field("stats_config")) {
    bootstrap.histogram_bucket_settings = parseStatsConfig(*stats, ctx);
  }
  if (std::optional<ConfigNode> runtime = root.field("layered_runtime")) {
    bootstrap.runtime = parseLayeredRuntime(*runtime, ctx);
  }
  if (std::optional<ConfigNode> node = root.field("node")) {
    checkFields(*node, ctx, {"id", "cluster"});
    bootstrap.node_id = node->stringOr("id", "");
    bootstrap.node_cluster = node->stringOr("cluster", "");
  }
  if (std::optional<ConfigNode> resources = root.field("static_resources")) {
    checkFields(*resources, ctx, {"listeners", "clusters"});
    // Clusters first, whatever the document order, so routes can be checked against them.
    if (std::optional<ConfigNode> clusters = resources->field("clusters")) {
      parseClusters(*clusters, ctx, bootstrap);
    }
    if (std::optional<ConfigNode> listeners = resources->field("listeners")) {
      parseListeners(*listeners, ctx, bootstrap);
    }
  }
  if (std::optional<ConfigNode> admin = root.field("admin")) {
    bootstrap.admin = parseAdmin(*admin, ctx);
  }
  return bootstrap;
}

}  // namespace

Bootstrap loadBootstrapString(const std::string& text, const std::string& display_name) {
  ParseContext ctx;
  ctx.file = std::make_shared<const std::string>(display_name);
  YAML::Node document;
  try {
    document = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw ConfigError(display_name + ":" + std::to_string(error.mark.line + 1) + ":" +
                      std::to_string(error.mark.column + 1) + ": invalid YAML: " + error.msg);
  }
  return parseBootstrap(ConfigNode(document, "", ctx.file), ctx);
}

Bootstrap loadBootstrapFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  return loadBootstrapString(contents.str(), path);
}

}  // namespace remora::config
