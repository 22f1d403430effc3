// StaticFiles against a real directory tree made for each test: what is served, with which
// type, and every way out of the directory refused.
#include "net/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace psycho::net {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/psycho-static-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    root_ = base_ / "www";
    fs::create_directories(root_ / "app");
    fs::create_directories(root_ / ".git");
    write(root_ / "index.html", "<h1>home</h1>");
    write(root_ / "app" / "index.html", "<h1>app</h1>");
    write(root_ / "app" / "main.js", "export {};");
    write(root_ / "app" / "a b.css", "body{}");
    write(root_ / ".git" / "config", "secret");
    write(base_ / "outside.txt", "outside");
    auto files = StaticFiles::open(root_.string());
    ASSERT_TRUE(files) << files.error();
    files_.emplace(std::move(files.value()));
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  StaticResponse get(std::string_view target) const { return files_->respond("GET", target); }

  fs::path base_, root_;
  std::optional<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirContentType) {
  auto r = get("/app/main.js");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "export {};");
  EXPECT_EQ(r.content_length, r.body.size());
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/app/a%20b.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(get("/app/main.js?v=2").status, 200u) << "the query is not part of the path";
}

TEST_F(StaticFilesTest, KnowsTheTypesPagesUse) {
  for (auto [name, type] : {std::pair{"x.html", "text/html; charset=utf-8"},
                            {"x.mjs", "text/javascript; charset=utf-8"},
                            {"x.json", "application/json"},
                            {"x.svg", "image/svg+xml"},
                            {"x.png", "image/png"},
                            {"x.ico", "image/x-icon"},
                            {"x.wasm", "application/wasm"},
                            {"x.txt", "text/plain; charset=utf-8"},
                            {"x.bin", "application/octet-stream"}}) {
    EXPECT_EQ(static_content_type(name), type) << name;
  }
}

TEST_F(StaticFilesTest, ADirectoryServesItsIndex) {
  EXPECT_EQ(get("/").body, "<h1>home</h1>");
  EXPECT_EQ(get("/app/").body, "<h1>app</h1>");
  EXPECT_EQ(get("//app//").body, "<h1>app</h1>");
  auto moved = get("/app?x=1");
  EXPECT_EQ(moved.status, 301u) << "relative imports need the trailing slash";
  EXPECT_EQ(moved.location, "/app/");
  fs::create_directories(root_ / "empty");
  EXPECT_EQ(get("/empty/").status, 404u);
}

TEST_F(StaticFilesTest, HeadHasTheLengthButNoBody) {
  auto r = files_->respond("HEAD", "/app/main.js");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.content_length, 10u);
  auto missing = files_->respond("HEAD", "/nope");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.body, "") << "no body for HEAD, errors included";
  EXPECT_EQ(missing.content_length, 10u) << "the length of the GET's body";
}

TEST_F(StaticFilesTest, OtherMethodsAre405WithAllow) {
  for (auto method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    auto r = files_->respond(method, "/index.html");
    EXPECT_EQ(r.status, 405u) << method;
    EXPECT_EQ(r.allow, "GET, HEAD");
    EXPECT_NE(r.body.find("GET and HEAD"), std::string::npos);
  }
}

TEST_F(StaticFilesTest, MissingFilesAre404) {
  auto r = get("/nope.html");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body, "not found\n");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
}

TEST_F(StaticFilesTest, LongTargetsAre414) {
  EXPECT_EQ(get("/" + std::string(kStaticTargetMax, 'a')).status, 414u);
}

TEST_F(StaticFilesTest, TraversalIsRefused) {
  for (std::string_view target :
       {"/../outside.txt", "/app/../../outside.txt", "/..", "/./index.html", "/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt", "/app/%2e%2e/%2e%2e/outside.txt", "/..%2foutside.txt",
        "/..%2Foutside.txt", "/..%5coutside.txt", "/app\\..\\..\\outside.txt", "/index.html%00.js",
        "/%", "/%2", "/%zz", "/app/%0a", "index.html", "http://x/index.html"}) {
    auto r = get(target);
    EXPECT_EQ(r.status, 400u) << target;
    EXPECT_NE(r.body.find("bad request"), std::string::npos) << target;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << target;
  }
}

TEST_F(StaticFilesTest, HiddenFilesAreNotServed) {
  EXPECT_EQ(get("/.git/config").status, 404u);
  EXPECT_EQ(get("/%2egit/config").status, 404u);
}

TEST_F(StaticFilesTest, SymlinksMayNotLeaveTheDirectory) {
  fs::create_symlink(base_ / "outside.txt", root_ / "escape.txt");
  fs::create_directory_symlink(base_, root_ / "up");
  fs::create_symlink(root_ / "app" / "main.js", root_ / "inside.js");
  EXPECT_EQ(get("/escape.txt").status, 403u);
  EXPECT_EQ(get("/up/outside.txt").status, 403u);
  EXPECT_EQ(get("/up/").status, 403u);
  EXPECT_EQ(get("/inside.js").body, "export {};") << "a link that stays inside is followed";
  // A directory whose index.html is a link out is not served either.
  fs::create_directories(root_ / "trap");
  fs::create_symlink(base_ / "outside.txt", root_ / "trap" / "index.html");
  EXPECT_EQ(get("/trap/").status, 404u);
}

TEST_F(StaticFilesTest, FilesOverTheLimitAreRefused) {
  {
    std::ofstream big(root_ / "big.bin", std::ios::binary);
    big.seekp(static_cast<std::streamoff>(kStaticFileMax));
    big.put('x');
  }
  auto r = get("/big.bin");
  EXPECT_EQ(r.status, 403u);
  EXPECT_NE(r.body.find("limit"), std::string::npos);
}

TEST_F(StaticFilesTest, OpenNeedsADirectory) {
  EXPECT_FALSE(StaticFiles::open((base_ / "missing").string()));
  auto file = StaticFiles::open((base_ / "outside.txt").string());
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace psycho::net
