#include "telemetry/access_log/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/config_loader.h"
#include "tests/unit/telemetry/access_log_test_support.h"

namespace remora::telemetry {
namespace {

using testing::SampleStream;

constexpr std::string_view kFileType =
    "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";

// An access_log list entry as the config loader keeps it, from the YAML of one element.
config::AccessLogEntry entryFrom(std::string_view yaml) {
  const config::ConfigNode source = testing::yamlField(yaml, "access_log");
  config::AccessLogEntry entry;
  entry.name = source.stringOr("name", "");
  if (std::optional<config::ConfigNode> typed_config = source.field("typed_config")) {
    entry.type_url = typed_config->stringOr("@type", "");
    entry.typed_config = *typed_config;
  }
  if (std::optional<config::ConfigNode> filter = source.field("filter")) entry.filter = *filter;
  entry.source = source;
  return entry;
}

std::string fileEntry(const std::string& path, std::string_view extra = "") {
  return "access_log:\n  name: envoy.access_loggers.file\n  typed_config:\n    \"@type\": " +
         std::string(kFileType) + "\n    path: " + path + "\n" + std::string(extra);
}

std::string readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

class AccessLogTest : public ::testing::Test {
 protected:
  AccessLogTest() {
    std::string pattern = (std::filesystem::temp_directory_path() / "access_log.XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    uv_loop_init(&loop_);
  }
  ~AccessLogTest() override {
    uv_run(&loop_, UV_RUN_DEFAULT);  // lets closed timers free themselves
    uv_loop_close(&loop_);
    std::filesystem::remove_all(dir_);
  }

  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  std::string createError(AccessLogManager& manager, std::string_view yaml) {
    try {
      manager.create(entryFrom(yaml));
    } catch (const config::ConfigError& error) {
      return error.what();
    }
    return "no error";
  }

  // One line per call: the format prints the x-seq request header.
  static void logSequence(WorkerAccessLogs& worker, const AccessLog& log, int first, int count) {
    SampleStream stream;
    for (int i = first; i < first + count; ++i) {
      stream.request.headers.set("x-seq", std::to_string(i));
      worker.log(log, stream.context());
    }
  }

  std::string dir_;
  uv_loop_t loop_;
};

TEST_F(AccessLogTest, FileLoggerWithDefaultFormat) {
  AccessLogManager manager;
  const auto log = manager.create(entryFrom(fileEntry(path("access.log"))));
  EXPECT_EQ(log->sink()->path(), path("access.log"));
  SampleStream stream;
  std::string line;
  log->format(stream.context(), line);
  EXPECT_EQ(line,
            "[2026-11-26T10:00:00.123Z] \"GET /api/v1/items?x=1 HTTP/1.1\" 200 - 5 42 12 7 "
            "\"10.0.0.1\" \"curl/8.0\" \"abc-123\" \"example.com\" \"10.1.0.5:8080\"\n");
  EXPECT_TRUE(std::filesystem::exists(path("access.log")));
}

TEST_F(AccessLogTest, LogFormatVariants) {
  AccessLogManager manager;
  SampleStream stream;
  auto formatted = [&](std::string_view extra) {
    const auto log = manager.create(entryFrom(fileEntry(path("a.log"), extra)));
    std::string line;
    log->format(stream.context(), line);
    return line;
  };
  EXPECT_EQ(
      formatted("    log_format: {text_format_source: {inline_string: \"%RESPONSE_CODE%\\n\"}}\n"),
      "200\n");
  EXPECT_EQ(formatted("    log_format: {text_format: \"%UPSTREAM_CLUSTER% %ROUTE_NAME%\"}\n"),
            "app default");
  EXPECT_EQ(formatted("    log_format:\n      omit_empty_values: true\n      json_format: "
                      "{code: \"%RESPONSE_CODE%\", gone: \"%REQ(X-NONE)%\"}\n"),
            "{\"code\":200}\n");
  EXPECT_EQ(formatted("    format: \"%REQ(:METHOD)%\\n\"\n"), "GET\n");
  EXPECT_EQ(formatted("    json_format: {method: \"%REQ(:METHOD)%\", gone: \"%REQ(X-NONE)%\"}\n"),
            "{\"method\":\"GET\",\"gone\":null}\n");
  const std::string format_file = path("format.txt");
  std::ofstream(format_file) << "%BYTES_SENT%";
  EXPECT_EQ(formatted("    log_format: {text_format_source: {filename: " + format_file + "}}\n"),
            "42");
}

TEST_F(AccessLogTest, LoggersSharingAPathShareOneSink) {
  AccessLogManager manager;
  const auto first = manager.create(entryFrom(fileEntry(path("shared.log"))));
  const auto second = manager.create(
      entryFrom(fileEntry(path("shared.log"), "    log_format: {text_format: x}\n")));
  const auto other = manager.create(entryFrom(fileEntry(path("other.log"))));
  EXPECT_EQ(first->sink(), second->sink());
  EXPECT_NE(first->sink(), other->sink());
}

TEST_F(AccessLogTest, StdoutAndStderrLoggers) {
  AccessLogManager manager;
  const auto out = manager.create(
      entryFrom("access_log:\n  name: envoy.access_loggers.stdout\n  typed_config:\n    \"@type\": "
                "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog\n"
                "    log_format: {text_format: \"%RESPONSE_CODE%\"}\n"));
  const auto err = manager.create(
      entryFrom("access_log:\n  name: envoy.access_loggers.stderr\n  typed_config:\n    \"@type\": "
                "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog\n"));
  EXPECT_EQ(out->sink()->fd(), STDOUT_FILENO);
  EXPECT_EQ(err->sink()->fd(), STDERR_FILENO);
  SampleStream stream;
  std::string line;
  out->format(stream.context(), line);
  EXPECT_EQ(line, "200");
}

TEST_F(AccessLogTest, FilterDecidesWhatIsLogged) {
  AccessLogManager manager;
  const auto log = manager.create(entryFrom(
      fileEntry(path("errors.log"), "    log_format: {text_format: \"%RESPONSE_CODE%\\n\"}\n") +
      "  filter: {status_code_filter: {comparison: {op: GE, value: {default_value: 500}}}}\n"));
  manager.start();
  auto worker = manager.createWorkerLogs(&loop_);
  SampleStream stream;
  for (int status : {200, 503, 404, 500}) {
    stream.info.response_code = status;
    worker->log(*log, stream.context());
  }
  worker->flush();
  manager.stop();
  EXPECT_EQ(readFile(path("errors.log")), "503\n500\n");
}

TEST_F(AccessLogTest, ConfigErrors) {
  AccessLogManager manager;
  EXPECT_EQ(createError(manager,
                        "access_log:\n  name: x\n  typed_config:\n    \"@type\": "
                        "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3."
                        "HttpGrpcAccessLogConfig\n"),
            "t.yaml:4:14: access_log.typed_config.@type: unsupported access logger type "
            "'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig' "
            "(supported: type.googleapis.com/envoy.extensions.access_loggers.file.v3."
            "FileAccessLog, type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
            "StdoutAccessLog, type.googleapis.com/envoy.extensions.access_loggers.stream.v3."
            "StderrAccessLog)");
  EXPECT_EQ(createError(manager, "access_log:\n  name: x\n"),
            "t.yaml:2:3: access_log.typed_config: missing required field 'typed_config'");
  EXPECT_EQ(createError(manager, "access_log:\n  name: x\n  typed_config:\n    \"@type\": " +
                                     std::string(kFileType) + "\n"),
            "t.yaml:4:5: access_log.typed_config.path: missing required field 'path'");
  EXPECT_EQ(createError(manager, fileEntry("/nonexistent/dir/a.log")),
            "t.yaml:5:11: access_log.typed_config.path: cannot open access log file "
            "\"/nonexistent/dir/a.log\": No such file or directory");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"),
                                           "    log_format: {text_format: "
                                           "\"%NOPE%\"}\n")),
            "t.yaml:6:31: access_log.typed_config.log_format.text_format: unknown command "
            "operator '%NOPE%'");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"), "    format: \"%REQ\"\n")),
            "t.yaml:6:13: access_log.typed_config.format: no command operator at offset 0 of the "
            "format (write '%%' for a literal '%')");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"),
                                           "    log_format: {text_format: x, "
                                           "content_type: text/plain}\n")),
            "t.yaml:6:48: access_log.typed_config.log_format.content_type: unsupported field "
            "'content_type'");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"),
                                           "    log_format: {text_format: x, "
                                           "json_format: {a: b}}\n")),
            "t.yaml:6:17: access_log.typed_config.log_format: only one of 'text_format', "
            "'json_format', 'text_format_source' may be set, found 'text_format' and "
            "'json_format'");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"),
                                           "    format: x\n    log_format: "
                                           "{text_format: y}\n")),
            "t.yaml:4:5: access_log.typed_config: only one of 'log_format', 'format', "
            "'json_format', 'typed_json_format' may be set, found 'log_format' and 'format'");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"),
                                           "    log_format: {text_format_source: "
                                           "{inline_bytes: eA==}}\n")),
            "t.yaml:6:53: access_log.typed_config.log_format.text_format_source.inline_bytes: "
            "unsupported field 'inline_bytes'");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log"), "    buffer_size_bytes: 10\n")),
            "t.yaml:6:5: access_log.typed_config.buffer_size_bytes: unknown field "
            "'buffer_size_bytes'");
  EXPECT_EQ(createError(manager, fileEntry(path("a.log")) + "  filter: {tracable_filter: {}}\n"),
            "t.yaml:6:12: access_log.filter.tracable_filter: unknown field 'tracable_filter'");
  // Nothing is opened for a logger whose config is rejected.
  EXPECT_FALSE(std::filesystem::exists(path("a.log")));
}

TEST_F(AccessLogTest, WriterWritesLinesInOrder) {
  AccessLogManager manager;
  const auto log = manager.create(entryFrom(
      fileEntry(path("seq.log"), "    log_format: {text_format: \"%REQ(X-SEQ)%\\n\"}\n")));
  manager.start();
  auto worker = manager.createWorkerLogs(&loop_);
  logSequence(*worker, *log, 0, 20000);  // crosses the 64 KiB threshold several times
  worker->flush();
  manager.stop();
  std::string expected;
  for (int i = 0; i < 20000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(readFile(path("seq.log")), expected);
  EXPECT_EQ(manager.droppedLines(), 0u);
}

TEST_F(AccessLogTest, LinesStayInTheWorkerBufferUntilHandedOver) {
  AccessLogManager manager(AccessLogOptions{.flush_threshold_bytes = 8});
  const auto log = manager.create(entryFrom(
      fileEntry(path("batch.log"), "    log_format: {text_format: \"%REQ(X-SEQ)%\\n\"}\n")));
  manager.start();
  auto worker = manager.createWorkerLogs(&loop_);
  logSequence(*worker, *log, 1, 4);  // "1\n2\n3\n4\n" reaches 8 bytes: handed over
  logSequence(*worker, *log, 5, 2);  // below the threshold, no flush, no timer run
  manager.stop();
  EXPECT_EQ(readFile(path("batch.log")), "1\n2\n3\n4\n");
  // Handed over after stop(): nothing writes them any more, so they count as dropped.
  worker->flush();
  EXPECT_EQ(manager.droppedLines(), 2u);
}

TEST_F(AccessLogTest, TimerHandsBuffersOverOnTheWorkerLoop) {
  AccessLogManager manager(AccessLogOptions{.flush_interval = std::chrono::milliseconds(5)});
  const auto log = manager.create(entryFrom(
      fileEntry(path("timer.log"), "    log_format: {text_format: \"%REQ(X-SEQ)%\\n\"}\n")));
  manager.start();
  auto worker = manager.createWorkerLogs(&loop_);
  logSequence(*worker, *log, 7, 1);
  uv_run(&loop_, UV_RUN_ONCE);  // returns once the flush timer has fired
  manager.stop();
  EXPECT_EQ(readFile(path("timer.log")), "7\n");
}

TEST_F(AccessLogTest, ReopenStartsANewFileAtTheSamePath) {
  AccessLogManager manager;
  const auto log = manager.create(entryFrom(
      fileEntry(path("rotate.log"), "    log_format: {text_format: \"%REQ(X-SEQ)%\\n\"}\n")));
  manager.start();
  auto worker = manager.createWorkerLogs(&loop_);
  logSequence(*worker, *log, 1, 2);
  worker->flush();
  std::filesystem::rename(path("rotate.log"), path("rotate.log.1"));
  manager.reopen();
  logSequence(*worker, *log, 3, 1);
  worker->flush();
  manager.stop();
  EXPECT_EQ(readFile(path("rotate.log.1")), "1\n2\n");
  EXPECT_EQ(readFile(path("rotate.log")), "3\n");
}

// The destination is a FIFO that nobody reads until the end: the writer thread blocks
// in write(2) while the worker keeps logging without blocking, and what does not fit
// in max_queued_bytes is dropped and counted.
TEST_F(AccessLogTest, LinesAreDroppedWhileTheWriterIsBlocked) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // lets the writer open it
  ASSERT_GE(reader, 0);
  constexpr int kLines = 4000;
  constexpr int kLinesPerFlush = 10;
  auto manager = std::make_unique<AccessLogManager>(
      AccessLogOptions{.flush_threshold_bytes = 1 << 20, .max_queued_bytes = 16 * 1024});
  auto log = manager->create(entryFrom(
      fileEntry(fifo,
                "    log_format: {text_format: \"%REQ(X-SEQ)% %REQ(USER-AGENT)% %START_TIME% "
                "%UPSTREAM_HOST% %DOWNSTREAM_REMOTE_ADDRESS% %RESPONSE_CODE_DETAILS%\\n\"}\n")));
  manager->start();
  auto worker = manager->createWorkerLogs(&loop_);
  for (int i = 0; i < kLines; i += kLinesPerFlush) {  // ~300 KB; the pipe holds 64 KiB
    logSequence(*worker, *log, i, kLinesPerFlush);
    worker->flush();
  }
  const uint64_t dropped = manager->droppedLines();
  EXPECT_GT(dropped, 0u);

  // Drain the FIFO so the writer can finish; EOF comes when the sink is closed.
  ASSERT_EQ(fcntl(reader, F_SETFL, 0), 0);
  std::string received;
  std::thread drain([&] {
    char chunk[4096];
    ssize_t n;
    while ((n = read(reader, chunk, sizeof(chunk))) > 0) received.append(chunk, n);
  });
  worker.reset();
  manager->stop();
  EXPECT_EQ(manager->droppedLines(), dropped);
  log.reset();
  manager.reset();
  drain.join();
  close(reader);

  std::istringstream lines(received);
  std::string line;
  int count = 0;
  int previous = -1;
  while (std::getline(lines, line)) {
    const int seq = std::stoi(line);
    EXPECT_GT(seq, previous);
    previous = seq;
    ++count;
  }
  EXPECT_EQ(static_cast<uint64_t>(count) + dropped, static_cast<uint64_t>(kLines));
}

TEST(AccessLogLoaderTest, EntriesFromTheBootstrapBuildLoggers) {
  const config::Bootstrap bootstrap = config::loadBootstrapString(R"(static_resources:
  clusters:
  - name: app
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
  listeners:
  - name: http
    address: {socket_address: {address: 0.0.0.0, port_value: 10000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: {text_format: "%BOGUS%"}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: app}
)",
                                                                  "t.yaml");
  const auto& entries = bootstrap.listeners[0].filter_chains[0].http_connection_manager->access_log;
  ASSERT_EQ(entries.size(), 1u);
  AccessLogManager manager;
  try {
    manager.create(entries[0]);
    FAIL() << "expected a ConfigError";
  } catch (const config::ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "t.yaml:22:41: static_resources.listeners[0].filter_chains[0].filters[0]."
              "typed_config.access_log[0].typed_config.log_format.text_format: unknown command "
              "operator '%BOGUS%'");
  }
}

}  // namespace
}  // namespace remora::telemetry
