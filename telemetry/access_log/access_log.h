// Envoy-compatible access logging (config.accesslog.v3.AccessLog with the file, stdout
// and stderr loggers).
//
// Threads: the AccessLogManager lives on the main thread and parses each configured
// logger into an immutable AccessLog shared by all workers. Each worker owns one
// WorkerAccessLogs: it filters and formats lines into its own buffer per destination
// (no lock per line) and hands the buffers to the manager's writer thread every
// flush_interval, or sooner when a buffer passes flush_threshold_bytes. The writer
// thread does every write(2); when it falls behind by more than max_queued_bytes, new
// lines are dropped and counted instead of blocking the worker.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "proxy/common/timer.h"
#include "telemetry/access_log/access_log_filter.h"
#include "telemetry/access_log/log_context.h"
#include "telemetry/access_log/log_writer.h"
#include "telemetry/access_log/substitution_formatter.h"

namespace remora::telemetry {

struct AccessLogOptions {
  std::chrono::milliseconds flush_interval{100};
  std::size_t flush_threshold_bytes = 64 * 1024;
  std::size_t max_queued_bytes = 8 * 1024 * 1024;
};

// One configured logger: filter, format and destination. Immutable.
class AccessLog {
 public:
  AccessLog(std::unique_ptr<const AccessLogFilter> filter,
            std::unique_ptr<const SubstitutionFormatter> formatter, std::shared_ptr<LogSink> sink)
      : filter_(std::move(filter)), formatter_(std::move(formatter)), sink_(std::move(sink)) {}

  // False when the logger's filter rejects the stream.
  bool shouldLog(const LogContext& context) const {
    return filter_ == nullptr || filter_->evaluate(context);
  }
  // Appends the formatted line to `out`.
  void format(const LogContext& context, std::string& out) const {
    formatter_->format(context, out);
  }
  const std::shared_ptr<LogSink>& sink() const { return sink_; }

 private:
  std::unique_ptr<const AccessLogFilter> filter_;  // null: log everything
  std::unique_ptr<const SubstitutionFormatter> formatter_;
  std::shared_ptr<LogSink> sink_;
};

class WorkerAccessLogs;

// One per process, created on the main thread; outlives every WorkerAccessLogs.
class AccessLogManager {
 public:
  explicit AccessLogManager(AccessLogOptions options = {});
  ~AccessLogManager();  // stop()
  AccessLogManager(const AccessLogManager&) = delete;
  AccessLogManager& operator=(const AccessLogManager&) = delete;

  // Parses one entry: envoy.extensions.access_loggers.file.v3.FileAccessLog (the file
  // is opened for append, created if needed; loggers naming the same path share it) or
  // envoy.extensions.access_loggers.stream.v3.Stdout/StderrAccessLog, chosen by the
  // typed_config's @type as Envoy does. Throws config::ConfigError with the position
  // for anything unsupported or invalid.
  std::shared_ptr<const AccessLog> create(const config::AccessLogEntry& entry);

  void start();  // starts the writer thread
  void stop();   // writes everything handed over so far and joins the writer thread
  // Thread-safe: the writer reopens every file at its path (logrotate, SIGUSR1,
  // POST /reopen_logs) after writing the lines handed over before this call.
  void reopen();
  // Lines dropped because the writer fell behind or a write failed
  // (the access_log.dropped counter).
  uint64_t droppedLines() const { return writer_.droppedLines(); }

  // Call on the worker thread that runs `loop`.
  std::unique_ptr<WorkerAccessLogs> createWorkerLogs(uv_loop_t* loop);

 private:
  std::shared_ptr<LogSink> fileSink(const config::ConfigNode& path_node);
  std::shared_ptr<LogSink> standardStreamSink(int fd);

  const AccessLogOptions options_;
  LogWriter writer_;
  std::mutex sinks_mutex_;
  std::vector<std::shared_ptr<LogSink>> sinks_;  // by LogSink::index(); guarded by sinks_mutex_
};

// One per worker; used only on that worker's thread.
class WorkerAccessLogs {
 public:
  WorkerAccessLogs(LogWriter& writer, uv_loop_t* loop, const AccessLogOptions& options);
  ~WorkerAccessLogs();  // flush()
  WorkerAccessLogs(const WorkerAccessLogs&) = delete;
  WorkerAccessLogs& operator=(const WorkerAccessLogs&) = delete;

  // Filters, then formats into this worker's buffer for the log's destination.
  void log(const AccessLog& log, const LogContext& context);
  // Hands every buffered line to the writer thread now.
  void flush();

 private:
  struct Buffer {
    std::shared_ptr<LogSink> sink;
    std::string data;
    uint64_t lines = 0;
  };

  LogWriter& writer_;
  const AccessLogOptions options_;
  Timer flush_timer_;
  std::vector<Buffer> buffers_;    // by LogSink::index()
  std::vector<LogBatch> batches_;  // reused by flush()
};

}  // namespace remora::telemetry
