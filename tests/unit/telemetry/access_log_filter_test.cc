#include "telemetry/access_log/access_log_filter.h"

#include <gtest/gtest.h>

#include "tests/unit/telemetry/access_log_test_support.h"

namespace remora::telemetry {
namespace {

using testing::SampleStream;
using testing::yamlField;

std::unique_ptr<const AccessLogFilter> filterFrom(std::string_view yaml) {
  return AccessLogFilter::create(yamlField(yaml, "filter"));
}

std::string filterError(std::string_view yaml) {
  try {
    filterFrom(yaml);
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

bool passesWithStatus(const AccessLogFilter& filter, int status) {
  SampleStream stream;
  stream.info.response_code = status;
  return filter.evaluate(stream.context());
}

TEST(AccessLogFilterTest, StatusCodeFilter) {
  const auto ge = filterFrom(
      "filter: {status_code_filter: {comparison: {op: GE, value: {default_value: 400, "
      "runtime_key: access_log.min_status}}}}");
  EXPECT_FALSE(passesWithStatus(*ge, 399));
  EXPECT_TRUE(passesWithStatus(*ge, 400));
  EXPECT_TRUE(passesWithStatus(*ge, 503));

  const auto eq =
      filterFrom("filter: {status_code_filter: {comparison: {value: {default_value: 0}}}}");
  EXPECT_TRUE(passesWithStatus(*eq, 0));
  EXPECT_FALSE(passesWithStatus(*eq, 200));

  const auto le = filterFrom(
      "filter: {status_code_filter: {comparison: {op: LE, value: {default_value: 299}}}}");
  EXPECT_TRUE(passesWithStatus(*le, 299));
  EXPECT_FALSE(passesWithStatus(*le, 300));
}

TEST(AccessLogFilterTest, DurationFilterComparesMilliseconds) {
  const auto filter =
      filterFrom("filter: {duration_filter: {comparison: {op: GE, value: {default_value: 12}}}}");
  SampleStream stream;
  stream.info.end = stream.info.start + std::chrono::microseconds(12400);
  EXPECT_TRUE(filter->evaluate(stream.context()));
  stream.info.end = stream.info.start + std::chrono::microseconds(11900);
  EXPECT_FALSE(filter->evaluate(stream.context()));
  stream.info.end.reset();
  EXPECT_FALSE(filter->evaluate(stream.context()));
}

TEST(AccessLogFilterTest, NotHealthCheckFilter) {
  const auto filter = filterFrom("filter: {not_health_check_filter: {}}");
  SampleStream stream;
  EXPECT_TRUE(filter->evaluate(stream.context()));
  stream.info.response_code_details = "health_check_ok";
  EXPECT_FALSE(filter->evaluate(stream.context()));
  stream.info.response_code_details = "health_check_failed";
  EXPECT_FALSE(filter->evaluate(stream.context()));
}

TEST(AccessLogFilterTest, ResponseFlagFilter) {
  const auto listed = filterFrom("filter: {response_flag_filter: {flags: [UF, UH, RL]}}");
  const auto any = filterFrom("filter: {response_flag_filter: {}}");
  SampleStream stream;
  EXPECT_FALSE(listed->evaluate(stream.context()));
  EXPECT_FALSE(any->evaluate(stream.context()));
  stream.info.setFlag(stream::ResponseFlag::UpstreamRequestTimeout);
  EXPECT_FALSE(listed->evaluate(stream.context()));
  EXPECT_TRUE(any->evaluate(stream.context()));
  stream.info.setFlag(stream::ResponseFlag::NoHealthyUpstream);
  EXPECT_TRUE(listed->evaluate(stream.context()));
}

// RBAC is Remora's flag for an RBAC denial (Envoy has none).
TEST(AccessLogFilterTest, ResponseFlagFilterAcceptsRbac) {
  const auto rbac = filterFrom("filter: {response_flag_filter: {flags: [RBAC]}}");
  SampleStream stream;
  stream.info.setFlag(stream::ResponseFlag::NoHealthyUpstream);
  EXPECT_FALSE(rbac->evaluate(stream.context()));
  stream.info.setFlag(stream::ResponseFlag::RbacAccessDenied);
  EXPECT_TRUE(rbac->evaluate(stream.context()));
}

TEST(AccessLogFilterTest, AndOrFilters) {
  const auto both = filterFrom(R"(filter:
  and_filter:
    filters:
    - status_code_filter: {comparison: {op: GE, value: {default_value: 500}}}
    - not_health_check_filter: {}
)");
  const auto either = filterFrom(R"(filter:
  or_filter:
    filters:
    - status_code_filter: {comparison: {op: GE, value: {default_value: 500}}}
    - response_flag_filter: {}
)");
  SampleStream stream;
  EXPECT_FALSE(both->evaluate(stream.context()));
  EXPECT_FALSE(either->evaluate(stream.context()));
  stream.info.response_code = 503;
  EXPECT_TRUE(both->evaluate(stream.context()));
  EXPECT_TRUE(either->evaluate(stream.context()));
  stream.info.response_code_details = "health_check_failed";
  EXPECT_FALSE(both->evaluate(stream.context()));
  stream.info.response_code = 200;
  stream.info.setFlag(stream::ResponseFlag::LocalReset);
  EXPECT_TRUE(either->evaluate(stream.context()));
}

TEST(AccessLogFilterTest, Errors) {
  EXPECT_EQ(filterError("filter: {runtime_filter: {runtime_key: x}}"),
            "t.yaml:1:26: filter.runtime_filter: unsupported field 'runtime_filter'");
  EXPECT_EQ(filterError("filter: {bogus_filter: {}}"),
            "t.yaml:1:10: filter.bogus_filter: unknown field 'bogus_filter'");
  EXPECT_EQ(filterError("filter: {}"),
            "t.yaml:1:9: filter: exactly one of 'status_code_filter', 'duration_filter', "
            "'not_health_check_filter', 'and_filter', 'or_filter', 'response_flag_filter' must "
            "be set");
  EXPECT_EQ(filterError("filter: {not_health_check_filter: {}, response_flag_filter: {}}"),
            "t.yaml:1:9: filter: only one of 'status_code_filter', 'duration_filter', "
            "'not_health_check_filter', 'and_filter', 'or_filter', 'response_flag_filter' may "
            "be set, found 'not_health_check_filter' and 'response_flag_filter'");
  EXPECT_EQ(filterError("filter: {status_code_filter: {comparison: {op: GT, value: "
                        "{default_value: 1}}}}"),
            "t.yaml:1:48: filter.status_code_filter.comparison.op: invalid value \"GT\" "
            "(expected one of: EQ, GE, LE)");
  EXPECT_EQ(filterError("filter: {status_code_filter: {comparison: {value: {runtime_key: k}}}}"),
            "t.yaml:1:51: filter.status_code_filter.comparison.value.default_value: missing "
            "required field 'default_value'");
  EXPECT_EQ(filterError("filter: {duration_filter: {}}"),
            "t.yaml:1:27: filter.duration_filter.comparison: missing required field "
            "'comparison'");
  EXPECT_EQ(filterError("filter: {response_flag_filter: {flags: [UF, XX]}}"),
            "t.yaml:1:45: filter.response_flag_filter.flags[1]: unknown response flag \"XX\" "
            "(expected one of: LH, UH, UT, LR, UR, UF, UC, UO, NR, DI, FI, RL, UAEX, RLSE, DC, "
            "URX, SI, IH, DPE, UMSDR, RFCF, NFCF, DT, UPE, NC, OM, DF, DO, DR, RBAC)");
  EXPECT_EQ(filterError("filter: {and_filter: {filters: [{not_health_check_filter: {}}]}}"),
            "t.yaml:1:32: filter.and_filter.filters: at least 2 filters are required");
  EXPECT_EQ(filterError("filter: {or_filter: {filters: [{not_health_check_filter: {}}, "
                        "{header_filter: {}}]}}"),
            "t.yaml:1:79: filter.or_filter.filters[1].header_filter: unsupported field "
            "'header_filter'");
}

}  // namespace
}  // namespace remora::telemetry
