#include "proxy/server/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace remora::server {
namespace {

std::optional<Options> parse(std::vector<const char*> args, std::string& error) {
  args.insert(args.begin(), "remora");
  return parseOptions(static_cast<int>(args.size()), args.data(), error);
}

TEST(OptionsTest, ParsesEnvoyFlags) {
  std::string error;
  auto o = parse({"-c", "envoy.yaml", "--concurrency", "3", "--mode", "validate", "-l", "debug",
                  "--drain-time-s=7"},
                 error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->config_path, "envoy.yaml");
  EXPECT_EQ(o->concurrency, 3u);
  EXPECT_EQ(o->mode, Options::Mode::Validate);
  EXPECT_EQ(o->log_level, log::Level::Debug);
  EXPECT_EQ(o->drain_time_s, 7u);
}

TEST(OptionsTest, ConcurrencyDefaultsToAffinityMask) {
  std::string error;
  auto o = parse({"--config-yaml", "{}"}, error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->concurrency, availableCpus());
  EXPECT_GE(o->concurrency, 1u);
}

TEST(OptionsTest, RejectsBadUsage) {
  std::string error;
  EXPECT_FALSE(parse({"--bogus"}, error));
  EXPECT_EQ(error, "unknown option '--bogus'");
  EXPECT_FALSE(parse({"-c", "a.yaml", "--concurrency", "0"}, error));
  EXPECT_EQ(error, "--concurrency must be a positive integer, got '0'");
  EXPECT_FALSE(parse({"-c", "a.yaml", "--mode", "check"}, error));
  EXPECT_EQ(error, "--mode must be serve or validate, got 'check'");
  EXPECT_FALSE(parse({"-c", "a.yaml", "-l", "loud"}, error));
  EXPECT_EQ(error, "unknown log level 'loud'");
  EXPECT_FALSE(parse({}, error));
  EXPECT_EQ(error, "no configuration: give -c/--config-path or --config-yaml");
  EXPECT_FALSE(parse({"-c"}, error));
  EXPECT_EQ(error, "option -c needs a value");
}

TEST(OptionsTest, HelpAndVersionNeedNoConfig) {
  std::string error;
  auto help = parse({"--help"}, error);
  ASSERT_TRUE(help);
  EXPECT_TRUE(help->show_help);
  auto version = parse({"--version"}, error);
  ASSERT_TRUE(version);
  EXPECT_TRUE(version->show_version);
}

}  // namespace
}  // namespace remora::server
