#include "proxy/router/header_mutation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace remora::router {
namespace {

using AppendAction = config::HeaderValueOption::AppendAction;
using ::testing::ElementsAre;

config::HeaderValueOption header(std::string key, std::string value,
                                 AppendAction action = AppendAction::AppendIfExistsOrAdd) {
  return config::HeaderValueOption{std::move(key), std::move(value), action};
}

std::vector<std::string> values(const http::HeaderMap& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const http::HeaderEntry& entry : headers) {
    if (entry.name == name) out.push_back(entry.value);
  }
  return out;
}

TEST(HeaderMutationTest, RemovesBeforeAddsWithinALevel) {
  const HeaderMutation mutation({header("x-a", "new")}, {"x-a"});
  http::HeaderMap headers;
  headers.add("x-a", "old");
  mutation.apply(headers);
  EXPECT_THAT(values(headers, "x-a"), ElementsAre("new"));
}

TEST(HeaderMutationTest, EachAppendAction) {
  struct Case {
    AppendAction action;
    std::vector<std::string> when_present;
    std::vector<std::string> when_absent;
  };
  const std::vector<Case> cases = {
      {AppendAction::AppendIfExistsOrAdd, {"old1", "old2", "new"}, {"new"}},
      {AppendAction::AddIfAbsent, {"old1", "old2"}, {"new"}},
      {AppendAction::OverwriteIfExistsOrAdd, {"new"}, {"new"}},
      {AppendAction::OverwriteIfExists, {"new"}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.action));
    const HeaderMutation mutation({header("X-H", "new", c.action)}, {});
    http::HeaderMap present;
    present.add("x-h", "old1");
    present.add("x-other", "o");
    present.add("x-h", "old2");
    mutation.apply(present);
    EXPECT_EQ(values(present, "x-h"), c.when_present);
    EXPECT_THAT(values(present, "x-other"), ElementsAre("o"));

    http::HeaderMap absent;
    mutation.apply(absent);
    EXPECT_EQ(values(absent, "x-h"), c.when_absent);
  }
}

TEST(HeaderMutationTest, ConditionsAreJudgedBeforeTheLevelAddsAnything) {
  // Both ADD_IF_ABSENT entries see the header absent, as in Envoy.
  const HeaderMutation twice({header("x-h", "a", AppendAction::AddIfAbsent),
                              header("x-h", "b", AppendAction::AddIfAbsent)},
                             {});
  http::HeaderMap headers;
  twice.apply(headers);
  EXPECT_THAT(values(headers, "x-h"), ElementsAre("a", "b"));

  // OVERWRITE_IF_EXISTS does not see the header the same level appends.
  const HeaderMutation append_then_overwrite(
      {header("x-h", "1"), header("x-h", "2", AppendAction::OverwriteIfExists)}, {});
  http::HeaderMap fresh;
  append_then_overwrite.apply(fresh);
  EXPECT_THAT(values(fresh, "x-h"), ElementsAre("1"));

  // Overwrites happen before appends whatever the config order.
  const HeaderMutation overwrite_after_append(
      {header("x-h", "appended"), header("x-h", "set", AppendAction::OverwriteIfExistsOrAdd)}, {});
  http::HeaderMap existing;
  existing.add("x-h", "old");
  overwrite_after_append.apply(existing);
  EXPECT_THAT(values(existing, "x-h"), ElementsAre("set", "appended"));
}

TEST(HeaderMutationTest, EmptyValuesAreNotAddedAndPercentEscapesResolve) {
  const HeaderMutation mutation({header("x-empty", ""), header("x-pct", "100%% sure")}, {});
  http::HeaderMap headers;
  mutation.apply(headers);
  EXPECT_FALSE(headers.has("x-empty"));
  EXPECT_THAT(values(headers, "x-pct"), ElementsAre("100% sure"));
}

TEST(HeaderMutationTest, UnsupportedMutationsAreConfigErrors) {
  EXPECT_THROW(HeaderMutation({header("x-up", "%UPSTREAM_HOST%")}, {}), config::ConfigError);
  EXPECT_THROW(HeaderMutation({header("x-pct", "50%")}, {}), config::ConfigError);
  EXPECT_THROW(HeaderMutation({header(":path", "/x")}, {}), config::ConfigError);
  EXPECT_THROW(HeaderMutation({header("Host", "x")}, {}), config::ConfigError);
  EXPECT_THROW(HeaderMutation({}, {":authority"}), config::ConfigError);
  EXPECT_THROW(HeaderMutation({}, {"host"}), config::ConfigError);
}

}  // namespace
}  // namespace remora::router
