#include "adapters/wire_bytes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace psycho {
namespace {

TEST(WireBytes, WritesEachWidthMostSignificantFirst) {
  std::string out;
  ByteWriter w(out);
  w.u8(0x01);
  w.u16(0x0203);
  w.u32(0x04050607u);
  w.u64(0x08090A0B0C0D0E0Full);
  w.uint(0x101112, 3);
  w.bytes("xy");
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F"
                             "\x10\x11\x12xy",
                             20));
}

TEST(WireBytes, UintKeepsOnlyTheLowBytes) {
  std::string out;
  ByteWriter(out).uint(0xAABBCCDDu, 2);
  EXPECT_EQ(out, "\xCC\xDD");
}

TEST(WireBytes, AppendsToWhatIsThere) {
  std::string out = "PC";
  ByteWriter(out).u16(0xFFFE);
  EXPECT_EQ(out, "PC\xFF\xFE");
}

TEST(WireBytes, AFixedWriterFillsItsRegionAsAByteWriterAppends) {
  std::string appended;
  ByteWriter a(appended);
  std::string fixed(20, '\0');
  FixedWriter f(fixed.data(), fixed.size());
  auto both = [&](auto write) {
    write(a);
    write(f);
  };
  both([](auto& w) { w.u8(0x01); });
  both([](auto& w) { w.u16(0x0203); });
  both([](auto& w) { w.u32(0x04050607u); });
  both([](auto& w) { w.u64(0x08090A0B0C0D0E0Full); });
  both([](auto& w) { w.uint(0x101112, 3); });
  both([](auto& w) { w.bytes("xy"); });
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(f.remaining(), 0u);
  EXPECT_EQ(fixed, appended);
}

TEST(WireBytes, AFixedWriterNeverWritesPastItsRegion) {
  std::string region = "....!";
  FixedWriter w(region.data(), 4);
  w.u16(0x4142);
  w.bytes("xyz");  // one byte too many: nothing of it is written
  EXPECT_FALSE(w.ok());
  w.u8(0x43);  // and nothing after it, although it would fit
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(region, "AB..!");
  EXPECT_EQ(w.remaining(), 2u);
}

TEST(WireBytes, RoundTripsEveryWidthAtItsExtremes) {
  std::string out;
  ByteWriter w(out);
  for (std::uint64_t v : {0ull, 1ull, 0x7Full, 0x80ull, 0xFFull})
    w.u8(static_cast<std::uint8_t>(v));
  for (std::uint64_t v : {0ull, 0x8000ull, 0xFFFFull}) w.u16(static_cast<std::uint16_t>(v));
  for (std::uint64_t v : {0ull, 0x80000000ull, 0xFFFFFFFFull}) w.u32(static_cast<std::uint32_t>(v));
  for (std::uint64_t v : {0ull, 0x8000000000000000ull, ~0ull}) w.u64(v);
  ASSERT_EQ(out.size(), 5u * 1 + 3 * 2 + 3 * 4 + 3 * 8);

  ByteReader r(out);
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  std::uint64_t d = 0;
  for (std::uint8_t v : {0, 1, 0x7F, 0x80, 0xFF}) {
    ASSERT_TRUE(r.u8(a));
    EXPECT_EQ(a, v);
  }
  for (std::uint16_t v : {0, 0x8000, 0xFFFF}) {
    ASSERT_TRUE(r.u16(b));
    EXPECT_EQ(b, v);
  }
  for (std::uint32_t v : {0u, 0x80000000u, 0xFFFFFFFFu}) {
    ASSERT_TRUE(r.u32(c));
    EXPECT_EQ(c, v);
  }
  for (std::uint64_t v : {0ull, 0x8000000000000000ull, ~0ull}) {
    ASSERT_TRUE(r.u64(d));
    EXPECT_EQ(d, v);
  }
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
}

TEST(WireBytes, ReadsAnyWidthAndBytesAsViews) {
  const std::string in("\x01\x02\x03hello", 8);
  ByteReader r(in);
  std::uint64_t v = 0;
  ASSERT_TRUE(r.uint(3, v));
  EXPECT_EQ(v, 0x010203u);
  std::string_view b;
  ASSERT_TRUE(r.bytes(5, b));
  EXPECT_EQ(b, "hello");
  EXPECT_EQ(b.data(), in.data() + 3);  // a view, not a copy
  EXPECT_TRUE(r.at_end());
}

// Every width, given one byte too few: the read fails, touches nothing, consumes nothing.
TEST(WireBytes, ShortInputFailsCleanlyAtEveryWidth) {
  const std::string in(8, '\x5A');
  for (std::size_t width : {1u, 2u, 4u, 8u}) {
    ByteReader r(std::string_view(in).substr(0, width - 1));
    std::uint64_t v = 42;
    EXPECT_FALSE(r.uint(width, v)) << width;
    EXPECT_EQ(v, 42u) << width;
    EXPECT_EQ(r.remaining(), width - 1) << width;
    EXPECT_FALSE(r.ok()) << width;
  }
  ByteReader r(std::string_view(in).substr(0, 7));
  std::uint8_t a = 1;
  std::uint16_t b = 2;
  std::uint32_t c = 3;
  std::uint64_t d = 4;
  EXPECT_FALSE(r.u64(d));
  EXPECT_EQ(d, 4u);
  ASSERT_TRUE(r.u32(c));  // what fits still reads after a failure ...
  ASSERT_TRUE(r.u16(b));
  EXPECT_FALSE(r.u16(b));
  EXPECT_EQ(b, 0x5A5A);
  ASSERT_TRUE(r.u8(a));
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.ok());  // ... but the failure is remembered
}

TEST(WireBytes, BytesBeyondTheEndFail) {
  ByteReader r("abc");
  std::string_view b = "untouched";
  EXPECT_FALSE(r.bytes(4, b));
  EXPECT_EQ(b, "untouched");
  EXPECT_EQ(r.remaining(), 3u);
  ASSERT_TRUE(r.bytes(3, b));
  EXPECT_EQ(b, "abc");
  ASSERT_TRUE(r.bytes(0, b));  // zero bytes fit even at the end
  EXPECT_FALSE(r.ok());        // the first read still counts
}

TEST(WireBytes, EmptyInput) {
  ByteReader r("");
  std::uint8_t v = 0;
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.u8(v));
  EXPECT_FALSE(r.ok());
}

TEST(WireBytes, LoadAndStoreAreInverse) {
  char buf[8];
  store_be(0x0102030405060708ull, 8, buf);
  EXPECT_EQ(std::string(buf, 8), "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_EQ(load_be(buf, 8), 0x0102030405060708ull);
  store_be(0xDEADBEEF, 4, buf);
  EXPECT_EQ(load_be(buf, 4), 0xDEADBEEFu);
  EXPECT_EQ(load_be(buf, 2), 0xDEADu);
}

}  // namespace
}  // namespace psycho
