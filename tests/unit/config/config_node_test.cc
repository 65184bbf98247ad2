#include "config/config_node.h"

#include <gtest/gtest.h>

namespace remora::config {
namespace {

using std::chrono::milliseconds;

ConfigNode parse(const std::string& yaml) {
  return ConfigNode(YAML::Load(yaml), "", std::make_shared<const std::string>("t.yaml"));
}

// The message of the ConfigError `action` throws, or "no error".
template <typename Action>
std::string errorOf(Action action) {
  try {
    action();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

TEST(ConfigNodeTest, LocationIsOneBased) {
  const ConfigNode root = parse("a:\n  b: 5\n");
  EXPECT_EQ(root.location(), "t.yaml:1:1");
  EXPECT_EQ(root.required("a").required("b").location(), "t.yaml:2:6");
}

TEST(ConfigNodeTest, LocationWithoutMarkIsTheFile) { EXPECT_EQ(parse("").location(), "t.yaml"); }

TEST(ConfigNodeTest, FailNamesFileLineColumnAndPath) {
  const ConfigNode root = parse("a:\n  b: 5\n");
  EXPECT_EQ(errorOf([&] { root.required("a").required("b").fail("bad"); }), "t.yaml:2:6: a.b: bad");
  EXPECT_EQ(errorOf([&] { root.fail("bad"); }), "t.yaml:1:1: <root>: bad");
}

TEST(ConfigNodeTest, ElementsCarryIndexInPath) {
  const ConfigNode root = parse("list:\n- x\n- y\n");
  const std::vector<ConfigNode> items = root.required("list").elements();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].path(), "list[1]");
  EXPECT_EQ(items[1].asString(), "y");
  EXPECT_EQ(items[1].location(), "t.yaml:3:3");
}

TEST(ConfigNodeTest, NullFieldCountsAsAbsent) {
  const ConfigNode root = parse("a: ~\nb:\nc: \"~\"\n");
  EXPECT_FALSE(root.has("a"));
  EXPECT_FALSE(root.has("b"));
  EXPECT_EQ(root.required("c").asString(), "~");
  EXPECT_EQ(root.stringOr("a", "fallback"), "fallback");
}

TEST(ConfigNodeTest, MissingRequiredFieldIsReportedAtTheParent) {
  const ConfigNode root = parse("outer:\n  x: 1\n");
  EXPECT_EQ(errorOf([&] { root.required("outer").required("name"); }),
            "t.yaml:2:3: outer.name: missing required field 'name'");
}

TEST(ConfigNodeTest, FieldOfNonMappingFails) {
  const ConfigNode root = parse("a: [1]\n");
  EXPECT_EQ(errorOf([&] { root.required("a").field("b"); }),
            "t.yaml:1:4: a: expected a mapping, got a list");
}

TEST(ConfigNodeTest, ExpectFieldsReportsUnknownKeyAtItsPosition) {
  const ConfigNode root = parse("a:\n  known: 1\n  foo: 2\n");
  EXPECT_EQ(errorOf([&] { root.required("a").expectFields({"known"}); }),
            "t.yaml:3:3: a.foo: unknown field 'foo'");
  EXPECT_EQ(errorOf([&] { root.required("a").expectFields({"known", "foo"}); }), "no error");
}

TEST(ConfigNodeTest, ExpectFieldsReportsRepeatedKey) {
  const ConfigNode root = parse("x: 1\nx: 2\n");
  EXPECT_EQ(errorOf([&] { root.expectFields({"x"}); }), "t.yaml:2:1: x: duplicate field 'x'");
}

TEST(ConfigNodeTest, OneOf) {
  const ConfigNode root = parse("a: 1\nb: 2\n");
  EXPECT_EQ(root.oneOf({"a", "z"}), "a");
  EXPECT_EQ(root.oneOf({"y", "z"}, /*allow_none=*/true), "");
  EXPECT_EQ(errorOf([&] {
              root.oneOf({"y", "z"});
            }),
            "t.yaml:1:1: <root>: exactly one of 'y', 'z' must be set");
  EXPECT_EQ(errorOf([&] {
              root.oneOf({"a", "b"}, true);
            }),
            "t.yaml:1:1: <root>: only one of 'a', 'b' may be set, found 'a' and 'b'");
}

TEST(ConfigNodeTest, Booleans) {
  const ConfigNode root = parse("t: true\nf: false\ny: yes\nm: {}\n");
  EXPECT_TRUE(root.required("t").asBool());
  EXPECT_FALSE(root.required("f").asBool());
  EXPECT_EQ(errorOf([&] { root.required("y").asBool(); }),
            "t.yaml:3:4: y: expected a boolean (true or false), got \"yes\"");
  EXPECT_EQ(errorOf([&] { root.required("m").asBool(); }),
            "t.yaml:4:4: m: expected a boolean (true or false), got a mapping");
  EXPECT_TRUE(root.boolOr("absent", true));
}

TEST(ConfigNodeTest, Integers) {
  const ConfigNode root =
      parse("n: 42\nq: \"7\"\nneg: -1\nbig: 4294967296\nhuge: 99999999999999999999\nf: 1.5\n");
  EXPECT_EQ(root.required("n").asUint32(), 42u);
  EXPECT_EQ(root.required("q").asUint32(), 7u);
  EXPECT_EQ(root.required("big").asUint64(), 4294967296u);
  EXPECT_EQ(errorOf([&] { root.required("neg").asUint32(); }),
            "t.yaml:3:6: neg: expected a non-negative integer, got \"-1\"");
  EXPECT_EQ(errorOf([&] { root.required("big").asUint32(); }),
            "t.yaml:4:6: big: integer 4294967296 is out of range (max 4294967295)");
  EXPECT_EQ(errorOf([&] { root.required("huge").asUint64(); }),
            "t.yaml:5:7: huge: integer 99999999999999999999 is out of range (max "
            "18446744073709551615)");
  EXPECT_EQ(errorOf([&] { root.required("f").asUint32(); }),
            "t.yaml:6:4: f: expected a non-negative integer, got \"1.5\"");
  EXPECT_EQ(root.uint32Or("absent", 9), 9u);
}

TEST(ConfigNodeTest, Doubles) {
  const ConfigNode root = parse("d: 0.5\nbad: 1x\n");
  EXPECT_DOUBLE_EQ(root.required("d").asDouble(), 0.5);
  EXPECT_EQ(errorOf([&] { root.required("bad").asDouble(); }),
            "t.yaml:2:6: bad: expected a number, got \"1x\"");
}

TEST(ConfigNodeTest, StringOfNonScalarFails) {
  const ConfigNode root = parse("s: [a]\n");
  EXPECT_EQ(errorOf([&] { root.required("s").asString(); }),
            "t.yaml:1:4: s: expected a string, got a list");
}

TEST(ConfigNodeTest, DurationsInProtobufJsonForm) {
  const ConfigNode root = parse("a: 0.25s\nb: 5s\nc: 1.5s\nd: \"300s\"\ne: 0.0001s\nf: 0s\n");
  EXPECT_EQ(root.required("a").asDuration(), milliseconds(250));
  EXPECT_EQ(root.required("b").asDuration(), milliseconds(5000));
  EXPECT_EQ(root.required("c").asDuration(), milliseconds(1500));
  EXPECT_EQ(root.required("d").asDuration(), milliseconds(300000));
  // A sub-millisecond timeout rounds up rather than becoming 0 ("disabled").
  EXPECT_EQ(root.required("e").asDuration(), milliseconds(1));
  EXPECT_EQ(root.required("f").asDuration(), milliseconds(0));
  EXPECT_EQ(root.durationOr("absent", milliseconds(7)), milliseconds(7));
}

TEST(ConfigNodeTest, DurationsInOtherFormsAreRefused) {
  const ConfigNode root =
      parse("a: 5x\nb: 5m\nc: 100ms\nd: 5\ne: -1s\nf: .5s\ng: 1.0000000001s\nh: [1]\n");
  EXPECT_EQ(errorOf([&] { root.required("a").asDuration(); }),
            "t.yaml:1:4: a: invalid duration \"5x\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("b").asDuration(); }),
            "t.yaml:2:4: b: invalid duration \"5m\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("c").asDuration(); }),
            "t.yaml:3:4: c: invalid duration \"100ms\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("d").asDuration(); }),
            "t.yaml:4:4: d: invalid duration \"5\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("e").asDuration(); }),
            "t.yaml:5:4: e: invalid duration \"-1s\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("f").asDuration(); }),
            "t.yaml:6:4: f: invalid duration \".5s\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("g").asDuration(); }),
            "t.yaml:7:4: g: invalid duration \"1.0000000001s\" (expected e.g. \"0.25s\")");
  EXPECT_EQ(errorOf([&] { root.required("h").asDuration(); }),
            "t.yaml:8:4: h: expected a duration such as \"0.25s\", got a list");
}

TEST(ConfigNodeTest, EnumsListTheAcceptedNames) {
  enum class Color { Red, Blue };
  const ConfigNode root = parse("c: BLUE\nbad: GREEN\n");
  EXPECT_EQ(root.required("c").asEnum<Color>({{"RED", Color::Red}, {"BLUE", Color::Blue}}),
            Color::Blue);
  EXPECT_EQ(errorOf([&] {
              root.required("bad").asEnum<Color>({{"RED", Color::Red}, {"BLUE", Color::Blue}});
            }),
            "t.yaml:2:6: bad: invalid value \"GREEN\" (expected one of: RED, BLUE)");
}

}  // namespace
}  // namespace remora::config
