#include "proxy/server/tls_reloader.h"

#include <algorithm>
#include <exception>

#include "proxy/common/logger.h"
#include "proxy/network/tls/tls_config.h"

namespace remora::server {

using network::tls::TlsContext;

namespace {
// The files a TLS config was read from; inline PEM has nothing to watch.
std::vector<std::string> filesOf(const network::tls::CommonTlsConfig& common) {
  std::vector<std::string> files;
  auto add = [&](const network::tls::LoadedDataSource& source) {
    if (source.origin == "<inline>") return;
    if (std::find(files.begin(), files.end(), source.origin) == files.end()) {
      files.push_back(source.origin);
    }
  };
  for (const network::tls::TlsCertificateConfig& certificate : common.certificates) {
    add(certificate.certificate_chain);
    add(certificate.private_key);
  }
  if (common.has_validation) add(common.validation.trusted_ca);
  return files;
}
}  // namespace

bool TlsReloader::FileStamp::operator==(const FileStamp& other) const {
  return exists == other.exists && device == other.device && inode == other.inode &&
         size == other.size && modified.tv_sec == other.modified.tv_sec &&
         modified.tv_nsec == other.modified.tv_nsec;
}

TlsReloader::TlsReloader(uv_loop_t* loop, Publish publish, stats::Counter& reloads)
    : publish_(std::move(publish)), reloads_(reloads), timer_(loop, [this] {
        poll();
        timer_.arm(interval_);
      }) {}

void TlsReloader::watchDownstream(std::string owner, std::shared_ptr<const TlsContext> configured,
                                  config::ConfigNode typed_config) {
  std::vector<std::string> files =
      filesOf(network::tls::parseDownstreamTlsContext(typed_config).common);
  watch(std::move(owner), std::move(configured), std::move(files), [typed_config] {
    return TlsContext::create(network::tls::parseDownstreamTlsContext(typed_config));
  });
}

void TlsReloader::watchUpstream(std::string owner, std::shared_ptr<const TlsContext> configured,
                                config::ConfigNode typed_config) {
  std::vector<std::string> files =
      filesOf(network::tls::parseUpstreamTlsContext(typed_config).common);
  watch(std::move(owner), std::move(configured), std::move(files), [typed_config] {
    return TlsContext::create(network::tls::parseUpstreamTlsContext(typed_config));
  });
}

void TlsReloader::watch(std::string owner, std::shared_ptr<const TlsContext> configured,
                        std::vector<std::string> files,
                        std::function<std::shared_ptr<const TlsContext>()> rebuild) {
  Watched& watched = watched_.emplace_back();
  watched.owner = std::move(owner);
  watched.current = configured;
  watched.configured = std::move(configured);
  for (std::string& path : files) {
    FileStamp stamp = stampOf(path);
    watched.files.push_back({std::move(path), stamp});
  }
  watched.rebuild = std::move(rebuild);
}

void TlsReloader::start(std::chrono::milliseconds interval) {
  interval_ = interval;
  timer_.arm(interval_);
}

void TlsReloader::stop() {
  interval_ = std::chrono::milliseconds(0);
  timer_.disarm();
}

TlsReloader::FileStamp TlsReloader::stampOf(const std::string& path) {
  struct stat info {};
  FileStamp stamp;
  if (::stat(path.c_str(), &info) != 0) return stamp;
  stamp.exists = true;
  stamp.device = info.st_dev;
  stamp.inode = info.st_ino;
  stamp.size = info.st_size;
  stamp.modified = info.st_mtim;
  return stamp;
}

bool TlsReloader::refreshStamps(Watched& watched) {
  bool changed = false;
  for (WatchedFile& file : watched.files) {
    const FileStamp now = stampOf(file.path);
    if (now == file.stamp) continue;
    file.stamp = now;
    changed = true;
  }
  return changed;
}

size_t TlsReloader::poll() {
  size_t replaced = 0;
  for (Watched& watched : watched_) {
    // Stamps are taken before the files are read: a write that lands during the
    // rebuild changes them again and is picked up next round. A failed rebuild
    // (say the certificate was replaced but not yet its key) is retried once any
    // file changes again.
    if (!refreshStamps(watched)) continue;
    std::shared_ptr<const TlsContext> rebuilt;
    try {
      rebuilt = watched.rebuild();
    } catch (const std::exception& error) {
      REMORA_LOG(Error, watched.owner +
                            ": cannot reload TLS certificates, keeping the previous ones: " +
                            error.what());
      continue;
    }
    watched.current = rebuilt;
    publish_(*watched.configured, std::move(rebuilt));
    reloads_.inc();
    ++replaced;
    REMORA_LOG(Info, watched.owner + ": TLS certificates reloaded");
  }
  return replaced;
}

std::vector<std::shared_ptr<const TlsContext>> TlsReloader::currentContexts() const {
  std::vector<std::shared_ptr<const TlsContext>> contexts;
  contexts.reserve(watched_.size());
  for (const Watched& watched : watched_) contexts.push_back(watched.current);
  return contexts;
}

}  // namespace remora::server
