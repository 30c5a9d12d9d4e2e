#include "server/store/file_util.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace deliverd::store {
namespace {

TEST(MakeDirectories, CreatesParentsAndToleratesExisting) {
  char tmpl[] = "/tmp/file-util-test-XXXXXX";
  std::string root = mkdtemp(tmpl);
  std::string deep = root + "/a/b/c";
  ASSERT_TRUE(MakeDirectories(deep, 0700).ok());
  struct stat st;
  ASSERT_EQ(stat(deep.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(MakeDirectories(deep, 0700).ok());
  // A file in the way is an error, not a silent success.
  std::string file = root + "/file";
  FILE* f = fopen(file.c_str(), "w");
  fclose(f);
  EXPECT_FALSE(MakeDirectories(file + "/sub", 0700).ok());
  std::filesystem::remove_all(root);
}

TEST(ParentOf, HandlesRelativeAbsoluteAndBareNames) {
  EXPECT_EQ(ParentOf("data/deliverd.db"), "data");
  EXPECT_EQ(ParentOf("/var/lib/x.db"), "/var/lib");
  EXPECT_EQ(ParentOf("x.db"), ".");
  EXPECT_EQ(ParentOf("/x.db"), "/");
}

}  // namespace
}  // namespace deliverd::store
