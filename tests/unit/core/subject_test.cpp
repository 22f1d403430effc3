#include "core/subject.hpp"

#include <gtest/gtest.h>

namespace psycho {
namespace {

TEST(Subject, ValidPatterns) {
  for (const char* s :
       {"a", "a.b", "a.*", "*", ">", "a.>", "a.*.c", "*.*", "foo-bar.baz_9", "a*b.c"}) {
    EXPECT_TRUE(is_valid_pattern(s)) << s;
  }
}

TEST(Subject, InvalidPatterns) {
  for (const char* s : {"", ".", "a.", ".a", "a..b", "a b", "a\tb", "a.>.b", ">.a", "a\r", "a\n"}) {
    EXPECT_FALSE(is_valid_pattern(s)) << s;
  }
}

TEST(Subject, PublishSubjectsMustBeLiteral) {
  EXPECT_TRUE(is_valid_publish_subject("a.b.c"));
  EXPECT_TRUE(is_valid_publish_subject("a*b"));  // not a wildcard token
  EXPECT_FALSE(is_valid_publish_subject("a.*"));
  EXPECT_FALSE(is_valid_publish_subject(">"));
  EXPECT_FALSE(is_valid_publish_subject("a.>"));
  EXPECT_FALSE(is_valid_publish_subject(""));
}

struct MatchCase {
  const char* pattern;
  const char* subject;
  bool matches;
};

TEST(Subject, MatchTable) {
  const MatchCase cases[] = {
      {"a", "a", true},         {"a", "b", false},         {"a.b", "a.b", true},
      {"a.b", "a", false},      {"a", "a.b", false},       {"a.*", "a.b", true},
      {"a.*", "a.b.c", false},  {"a.*", "a", false},       {"a.>", "a.b", true},
      {"a.>", "a.b.c", true},   {"a.>", "a", false},       {">", "a", true},
      {">", "a.b.c", true},     {"*", "a", true},          {"*", "a.b", false},
      {"*.b.*", "a.b.c", true}, {"*.b.*", "a.c.c", false}, {"a.*.>", "a.b", false},
      {"a.*.>", "a.b.c", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(subject_matches(c.pattern, c.subject), c.matches) << c.pattern << " " << c.subject;
  }
}

TEST(Subject, IntersectionTable) {
  struct Case {
    std::string_view a, b, both;
  };
  const Case cases[] = {
      {"a.b", "a.b", "a.b"},
      {"a.b", "a.c", ""},
      {"a.*", "*.b", "a.b"},
      {"a.*", "a.>", "a.*"},
      {"a.>", "a.*.c", "a.*.c"},
      {">", "x.y", "x.y"},
      {"a.>", "a", ""},
      {"*", "a.b", ""},
      {"a.>", "b.>", ""},
      {">", ">", ">"},
      {"*.*", ">", "*.*"},
      {"a.*.c", "*.b.>", "a.b.c"},
      {"_INBOX.>", ">", "_INBOX.>"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(intersect_patterns(c.a, c.b), c.both) << c.a << " & " << c.b;
    EXPECT_EQ(intersect_patterns(c.b, c.a), c.both) << c.b << " & " << c.a;
  }
}

TEST(Subject, CoverTable) {
  struct Case {
    std::string_view wide, narrow;
    bool covers;
  };
  const Case cases[] = {
      {">", "a", true},      {">", ">", true},         {"a.>", "a.b.>", true},
      {"a.>", "a", false},   {"a.*", "a.b", true},     {"a.*", "a.>", false},
      {"a.b", "a.*", false}, {"*.b", "a.b", true},     {"a.b", "a.b", true},
      {"*", ">", false},     {"a.*.c", "a.b.c", true}, {"a.*.c", "a.b.d", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(pattern_covers(c.wide, c.narrow), c.covers) << c.wide << " covers " << c.narrow;
}

}  // namespace
}  // namespace psycho
