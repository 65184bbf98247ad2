#include "telemetry/access_log/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string_view>

#include "telemetry/access_log/config_fields.h"

namespace remora::telemetry {
namespace {

constexpr std::string_view kFileAccessLogType =
    "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
constexpr std::string_view kStdoutAccessLogType =
    "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
constexpr std::string_view kStderrAccessLogType =
    "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog";

std::unique_ptr<const SubstitutionFormatter> defaultFormatter() {
  return SubstitutionFormatter::createText(kDefaultAccessLogFormat, false, config::ConfigNode());
}

// config.core.v3.DataSource holding a format string: inline_string or filename.
std::unique_ptr<const SubstitutionFormatter> parseTextFormatSource(const config::ConfigNode& node,
                                                                   bool omit_empty_values) {
  checkFields(node, {"inline_string", "filename"}, {"inline_bytes", "environment_variable"});
  const config::ConfigNode source = node.required(node.oneOf({"inline_string", "filename"}));
  if (node.has("inline_string")) {
    return SubstitutionFormatter::createText(source.asString(), omit_empty_values, source);
  }
  const std::string path = source.asString();
  std::ifstream file(path, std::ios::binary);
  if (!file) source.fail("cannot read \"" + path + "\": " + strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  return SubstitutionFormatter::createText(contents.str(), omit_empty_values, source);
}

// config.core.v3.SubstitutionFormatString
std::unique_ptr<const SubstitutionFormatter> parseLogFormat(const config::ConfigNode& node) {
  checkFields(node, {"text_format", "json_format", "text_format_source", "omit_empty_values"},
              {"content_type", "formatters", "json_format_options"});
  const bool omit_empty_values = node.boolOr("omit_empty_values", false);
  const std::string_view kind = node.oneOf({"text_format", "json_format", "text_format_source"});
  const config::ConfigNode format = node.required(kind);
  if (kind == "text_format") {
    return SubstitutionFormatter::createText(format.asString(), omit_empty_values, format);
  }
  if (kind == "json_format") return SubstitutionFormatter::createJson(format, omit_empty_values);
  return parseTextFormatSource(format, omit_empty_values);
}

// FileAccessLog's format: log_format, or one of the deprecated format / json_format /
// typed_json_format fields (Remora's json_format output is always typed).
std::unique_ptr<const SubstitutionFormatter> parseFileFormat(const config::ConfigNode& node) {
  const std::string_view kind =
      node.oneOf({"log_format", "format", "json_format", "typed_json_format"}, true);
  if (kind.empty()) return defaultFormatter();
  const config::ConfigNode format = node.required(kind);
  if (kind == "log_format") return parseLogFormat(format);
  if (kind == "format") {
    // Envoy treats an empty format string as "use the default".
    const std::string text = format.asString();
    if (text.empty()) return defaultFormatter();
    return SubstitutionFormatter::createText(text, false, format);
  }
  return SubstitutionFormatter::createJson(format, false);
}

}  // namespace

AccessLogManager::AccessLogManager(AccessLogOptions options)
    : options_(options), writer_(options.max_queued_bytes) {}

AccessLogManager::~AccessLogManager() { stop(); }

std::shared_ptr<const AccessLog> AccessLogManager::create(const config::AccessLogEntry& entry) {
  const config::ConfigNode& typed_config = entry.typed_config;
  if (!typed_config.valid()) entry.source.required("typed_config");  // raises the error
  std::unique_ptr<const AccessLogFilter> filter;
  if (entry.filter.valid()) filter = AccessLogFilter::create(entry.filter);

  if (entry.type_url == kFileAccessLogType) {
    checkFields(typed_config,
                {"@type", "path", "log_format", "format", "json_format", "typed_json_format"});
    std::unique_ptr<const SubstitutionFormatter> formatter = parseFileFormat(typed_config);
    return std::make_shared<AccessLog>(std::move(filter), std::move(formatter),
                                       fileSink(typed_config.required("path")));
  }
  if (entry.type_url == kStdoutAccessLogType || entry.type_url == kStderrAccessLogType) {
    checkFields(typed_config, {"@type", "log_format"});
    std::optional<config::ConfigNode> log_format = typed_config.field("log_format");
    std::unique_ptr<const SubstitutionFormatter> formatter =
        log_format ? parseLogFormat(*log_format) : defaultFormatter();
    const int fd = entry.type_url == kStdoutAccessLogType ? STDOUT_FILENO : STDERR_FILENO;
    return std::make_shared<AccessLog>(std::move(filter), std::move(formatter),
                                       standardStreamSink(fd));
  }
  typed_config.required("@type").fail("unsupported access logger type '" + entry.type_url +
                                      "' (supported: " + std::string(kFileAccessLogType) + ", " +
                                      std::string(kStdoutAccessLogType) + ", " +
                                      std::string(kStderrAccessLogType) + ")");
}

std::shared_ptr<LogSink> AccessLogManager::fileSink(const config::ConfigNode& path_node) {
  const std::string path = path_node.asString();
  if (path.empty()) path_node.fail("path must not be empty");
  std::lock_guard lock(sinks_mutex_);
  for (const std::shared_ptr<LogSink>& sink : sinks_) {
    if (sink->path() == path) return sink;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) path_node.fail("cannot open access log file \"" + path + "\": " + strerror(errno));
  sinks_.push_back(LogSink::file(path, fd, sinks_.size()));
  return sinks_.back();
}

std::shared_ptr<LogSink> AccessLogManager::standardStreamSink(int fd) {
  std::lock_guard lock(sinks_mutex_);
  for (const std::shared_ptr<LogSink>& sink : sinks_) {
    if (sink->path().empty() && sink->fd() == fd) return sink;
  }
  sinks_.push_back(LogSink::standardStream(fd, sinks_.size()));
  return sinks_.back();
}

void AccessLogManager::start() { writer_.start(); }

void AccessLogManager::stop() { writer_.stop(); }

void AccessLogManager::reopen() {
  std::lock_guard lock(sinks_mutex_);
  writer_.reopen(sinks_);
}

std::unique_ptr<WorkerAccessLogs> AccessLogManager::createWorkerLogs(uv_loop_t* loop) {
  return std::make_unique<WorkerAccessLogs>(writer_, loop, options_);
}

WorkerAccessLogs::WorkerAccessLogs(LogWriter& writer, uv_loop_t* loop,
                                   const AccessLogOptions& options)
    : writer_(writer), options_(options), flush_timer_(loop, [this] { flush(); }) {}

WorkerAccessLogs::~WorkerAccessLogs() { flush(); }

void WorkerAccessLogs::log(const AccessLog& log, const LogContext& context) {
  if (!log.shouldLog(context)) return;
  const std::shared_ptr<LogSink>& sink = log.sink();
  if (sink->index() >= buffers_.size()) buffers_.resize(sink->index() + 1);
  Buffer& buffer = buffers_[sink->index()];
  if (buffer.sink == nullptr) buffer.sink = sink;
  log.format(context, buffer.data);
  ++buffer.lines;
  if (buffer.data.size() >= options_.flush_threshold_bytes) {
    flush();
  } else if (!flush_timer_.armed()) {
    flush_timer_.arm(options_.flush_interval);
  }
}

void WorkerAccessLogs::flush() {
  flush_timer_.disarm();
  for (Buffer& buffer : buffers_) {
    if (buffer.lines == 0) continue;
    batches_.push_back(LogBatch{buffer.sink, std::move(buffer.data), buffer.lines});
    buffer.data.clear();
    buffer.lines = 0;
  }
  if (!batches_.empty()) writer_.submit(batches_);
}

}  // namespace remora::telemetry
