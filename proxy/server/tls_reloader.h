// Certificate rotation without dropping connections. The main thread stats the
// certificate, key and CA files of every TLS context once a second; when one of a
// context's files changed it parses that listener's or cluster's TLS config again
// and builds a new context. A context that builds is published (the workers give it
// to their new connections; open connections keep the one they started with); one
// that does not is logged and the previous context stays in use.
//
// Files are compared by stat() of their path (device, inode, size, mtime): Kubernetes
// updates a mounted Secret by swapping a symlink, which an open descriptor or an
// inotify watch on the old file would miss.
#pragma once

#include <sys/stat.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "proxy/common/timer.h"
#include "proxy/network/tls/tls_context.h"
#include "telemetry/stats/stat_types.h"

namespace remora::server {

class TlsReloader {
 public:
  // Hands a rebuilt context to the workers; `configured` is the context the listener
  // or cluster was built with, which the workers key their replacements by.
  using Publish = std::function<void(const network::tls::TlsContext& configured,
                                     std::shared_ptr<const network::tls::TlsContext> current)>;

  // `reloads` counts the contexts rebuilt (server.tls_context_reloads).
  TlsReloader(uv_loop_t* loop, Publish publish, stats::Counter& reloads);

  // Registers a context built from an envoy.transport_sockets.tls typed_config
  // (DownstreamTlsContext or UpstreamTlsContext). `owner` names it in logs, e.g.
  // "listener 'ingress'". Reads the config's files once to learn which to watch.
  // Throws config::ConfigError if the config no longer loads.
  void watchDownstream(std::string owner,
                       std::shared_ptr<const network::tls::TlsContext> configured,
                       config::ConfigNode typed_config);
  void watchUpstream(std::string owner, std::shared_ptr<const network::tls::TlsContext> configured,
                     config::ConfigNode typed_config);

  // Polls every `interval` until stop().
  void start(std::chrono::milliseconds interval);
  void stop();
  // One round: rebuilds and publishes every context whose files changed. Returns
  // how many were replaced.
  size_t poll();

  // The contexts in use for new connections, in registration order.
  std::vector<std::shared_ptr<const network::tls::TlsContext>> currentContexts() const;

 private:
  // What stat() said about a file; a missing file is a state of its own.
  struct FileStamp {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    timespec modified{};
    bool operator==(const FileStamp& other) const;
  };
  struct WatchedFile {
    std::string path;
    FileStamp stamp;
  };
  struct Watched {
    std::string owner;
    // Kept alive so no other context can take its address, which the workers use
    // as the key of the replacement.
    std::shared_ptr<const network::tls::TlsContext> configured;
    std::shared_ptr<const network::tls::TlsContext> current;
    std::vector<WatchedFile> files;
    // Parses the typed_config again (reading the files) and builds a context;
    // throws config::ConfigError.
    std::function<std::shared_ptr<const network::tls::TlsContext>()> rebuild;
  };

  static FileStamp stampOf(const std::string& path);
  void watch(std::string owner, std::shared_ptr<const network::tls::TlsContext> configured,
             std::vector<std::string> files,
             std::function<std::shared_ptr<const network::tls::TlsContext>()> rebuild);
  // True if any file changed since the last look; records the new stamps.
  static bool refreshStamps(Watched& watched);

  Publish publish_;
  stats::Counter& reloads_;
  std::vector<Watched> watched_;
  std::chrono::milliseconds interval_{0};
  Timer timer_;
};

}  // namespace remora::server
