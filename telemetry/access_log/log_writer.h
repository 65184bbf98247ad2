// The access log's writer thread: workers hand it batches of formatted lines through
// one mutex-protected queue, and it alone makes the write(2) calls, so a slow disk
// never stalls a worker loop. Internal to telemetry/access_log.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace remora::telemetry {

// One open destination. Only the writer thread writes to or reopens its descriptor
// once the sink is published.
class LogSink {
 public:
  // A file opened by path: reopen() opens the path again. Owns `fd`.
  static std::shared_ptr<LogSink> file(std::string path, int fd, std::size_t index);
  // stdout or stderr: never reopened, never closed.
  static std::shared_ptr<LogSink> standardStream(int fd, std::size_t index);
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  const std::string& path() const { return path_; }  // empty for stdout/stderr
  int fd() const { return fd_; }
  // The slot of this sink in every worker's buffer table.
  std::size_t index() const { return index_; }

 private:
  friend class LogWriter;
  LogSink(std::string path, int fd, std::size_t index)
      : path_(std::move(path)), fd_(fd), index_(index) {}

  std::string path_;
  int fd_;
  std::size_t index_;
};

// Whole lines for one sink.
struct LogBatch {
  std::shared_ptr<LogSink> sink;
  std::string data;
  uint64_t lines = 0;
};

class LogWriter {
 public:
  // More than `max_queued_bytes` handed over and not yet written: new batches are
  // dropped and their lines counted.
  explicit LogWriter(std::size_t max_queued_bytes) : max_queued_bytes_(max_queued_bytes) {}
  ~LogWriter() { stop(); }
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  void start();
  // Writes everything queued, then joins. Batches submitted afterwards are dropped.
  void stop();
  // Thread-safe; one lock for all of `batches`, which are left empty.
  void submit(std::vector<LogBatch>& batches);
  // Thread-safe. Batches submitted before this call go to the old files, later ones
  // to the files opened again at the same paths.
  void reopen(std::vector<std::shared_ptr<LogSink>> sinks);
  uint64_t droppedLines() const;

 private:
  struct Reopen {
    std::vector<std::shared_ptr<LogSink>> sinks;
  };
  using Item = std::variant<LogBatch, Reopen>;

  void run();
  // Returns how many lines could not be written.
  static uint64_t write(const LogBatch& batch);
  static void reopenFiles(const Reopen& reopen);

  const std::size_t max_queued_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  std::deque<Item> queue_;        // guarded by mutex_
  std::size_t queued_bytes_ = 0;  // queued or being written; guarded by mutex_
  uint64_t dropped_lines_ = 0;    // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::thread thread_;
};

}  // namespace remora::telemetry
