// remora: the sidecar proxy's entry point. Exit codes: 0 ok, 1 bad config or usage.
#include <csignal>
#include <iostream>

#include "config/config_node.h"
#include "proxy/common/logger.h"
#include "proxy/server/options.h"
#include "proxy/server/server.h"
#include "proxy/server/version.h"

int main(int argc, char** argv) {
  using namespace remora;
  std::signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto options = server::parseOptions(argc, argv, error);
  if (!options) {
    std::cerr << "remora: " << error << "\n\n" << server::usage();
    return 1;
  }
  if (options->show_help) {
    std::cout << server::usage();
    return 0;
  }
  if (options->show_version) {
    std::cout << "remora version: " << server::kVersion << "/RELEASE\n";
    return 0;
  }
  log::setLevel(options->log_level);

  std::optional<server::ServerConfig> config;
  try {
    config.emplace(server::loadServerConfig(*options));
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  if (options->mode == server::Options::Mode::Validate) {
    const std::string name = options->config_path.empty() ? "<config-yaml>" : options->config_path;
    std::cout << "configuration '" << name << "' OK\n";
    return 0;
  }
  server::Server server(std::move(*options), std::move(*config));
  return server.run();
}
