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

Bootstrap parseBootstrap(const ConfigNode& root, ParseContext& ctx) {
  if (!root.valid()) root.fail("the configuration is empty");
  checkFields(root, ctx, {"node", "static_resources", "admin"},
              {"stats_config", "layered_runtime"});
  Bootstrap bootstrap;
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
