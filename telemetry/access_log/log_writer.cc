#include "telemetry/access_log/log_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

namespace remora::telemetry {

std::shared_ptr<LogSink> LogSink::file(std::string path, int fd, std::size_t index) {
  return std::shared_ptr<LogSink>(new LogSink(std::move(path), fd, index));
}

std::shared_ptr<LogSink> LogSink::standardStream(int fd, std::size_t index) {
  return std::shared_ptr<LogSink>(new LogSink(std::string(), fd, index));
}

LogSink::~LogSink() {
  if (!path_.empty()) ::close(fd_);
}

void LogWriter::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    // Signals belong to the main loop; a pipe whose reader went away reports EPIPE
    // here instead of killing the process with SIGPIPE.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    run();
  });
}

void LogWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wakeup_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started: write what was queued on this thread
  }
}

void LogWriter::submit(std::vector<LogBatch>& batches) {
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    for (LogBatch& batch : batches) {
      if (stopping_ || queued_bytes_ + batch.data.size() > max_queued_bytes_) {
        dropped_lines_ += batch.lines;
        continue;
      }
      queued_bytes_ += batch.data.size();
      queue_.emplace_back(std::move(batch));
      queued = true;
    }
  }
  batches.clear();
  if (queued) wakeup_.notify_one();
}

void LogWriter::reopen(std::vector<std::shared_ptr<LogSink>> sinks) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(Reopen{std::move(sinks)});
  }
  wakeup_.notify_one();
}

uint64_t LogWriter::droppedLines() const {
  std::lock_guard lock(mutex_);
  return dropped_lines_;
}

void LogWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wakeup_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, and everything is written
    std::deque<Item> items;
    items.swap(queue_);
    lock.unlock();
    for (const Item& item : items) {
      if (const auto* reopen = std::get_if<Reopen>(&item)) {
        reopenFiles(*reopen);
        continue;
      }
      const LogBatch& batch = std::get<LogBatch>(item);
      const uint64_t lost = write(batch);
      std::lock_guard done(mutex_);
      queued_bytes_ -= batch.data.size();
      dropped_lines_ += lost;
    }
    lock.lock();
  }
}

uint64_t LogWriter::write(const LogBatch& batch) {
  std::string_view rest = batch.data;
  while (!rest.empty()) {
    const ssize_t n = ::write(batch.sink->fd_, rest.data(), rest.size());
    if (n >= 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // stdout may be a non-blocking pipe; wait until it drains.
      pollfd writable{batch.sink->fd_, POLLOUT, 0};
      ::poll(&writable, 1, -1);
      continue;
    }
    // A partly written line is counted as lost with the rest.
    return static_cast<uint64_t>(std::count(rest.begin(), rest.end(), '\n'));
  }
  return 0;
}

void LogWriter::reopenFiles(const Reopen& reopen) {
  for (const std::shared_ptr<LogSink>& sink : reopen.sinks) {
    if (sink->path_.empty()) continue;
    const int fd = ::open(sink->path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    // If the path cannot be opened, keep writing to the old file rather than lose lines.
    if (fd < 0) continue;
    ::close(sink->fd_);
    sink->fd_ = fd;
  }
}

}  // namespace remora::telemetry
