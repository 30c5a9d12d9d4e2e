// The WAL-batching VFS on its own: what it holds back, when it lets go, and
// that what reaches the file is exactly what was written.
#include "server/store/wal_batching_vfs.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deliverd::store {
namespace {

int64_t SizeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::string Pattern(size_t size, int seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>((i * 31 + seed * 7) & 0xff);
  }
  return out;
}

class WalBatchingVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wal-vfs-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    db_path_ = dir_ + "/db";
    std::ofstream(db_path_).close();  // a WAL file takes its database's mode
    vfs_ = sqlite3_vfs_find(WalBatchingVfsName());
    ASSERT_NE(vfs_, nullptr);
  }
  void TearDown() override {
    for (sqlite3_file* f : open_) {
      if (f->pMethods != nullptr) f->pMethods->xClose(f);
    }
    std::filesystem::remove_all(dir_);
  }

  // Opens `path` through the VFS; SQLite hands file names followed by
  // extra NULs, so the name here is too.
  sqlite3_file* OpenFile(const std::string& path, int kind) {
    names_.push_back(std::make_unique<std::string>(path + std::string(4, '\0')));
    buffers_.push_back(std::make_unique<char[]>(vfs_->szOsFile));
    auto* file = reinterpret_cast<sqlite3_file*>(buffers_.back().get());
    int out_flags = 0;
    int rc = vfs_->xOpen(vfs_, names_.back()->c_str(), file,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | kind,
                         &out_flags);
    EXPECT_EQ(rc, SQLITE_OK);
    open_.push_back(file);
    return file;
  }

  static int Write(sqlite3_file* f, const std::string& bytes, int64_t at) {
    return f->pMethods->xWrite(f, bytes.data(), static_cast<int>(bytes.size()),
                               at);
  }

  std::string dir_, db_path_;
  sqlite3_vfs* vfs_ = nullptr;
  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::unique_ptr<char[]>> buffers_;
  std::vector<sqlite3_file*> open_;
};

TEST_F(WalBatchingVfsTest, HoldsContiguousWalWritesUntilSync) {
  std::string wal = db_path_ + "-wal";
  sqlite3_file* f = OpenFile(wal, SQLITE_OPEN_WAL);
  std::string a = Pattern(32, 1), b = Pattern(24, 2), c = Pattern(4096, 3);
  ASSERT_EQ(Write(f, a, 0), SQLITE_OK);
  ASSERT_EQ(Write(f, b, 32), SQLITE_OK);
  ASSERT_EQ(Write(f, c, 56), SQLITE_OK);
  EXPECT_EQ(SizeOf(wal), 0) << "written before the sync";
  ASSERT_EQ(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
  EXPECT_EQ(Contents(wal), a + b + c);
}

TEST_F(WalBatchingVfsTest, ReadsSeeWhatWasWritten) {
  std::string wal = db_path_ + "-wal";
  sqlite3_file* f = OpenFile(wal, SQLITE_OPEN_WAL);
  std::string a = Pattern(5000, 4);
  ASSERT_EQ(Write(f, a, 0), SQLITE_OK);
  std::string back(100, '\0');
  ASSERT_EQ(f->pMethods->xRead(f, back.data(), 100, 4000), SQLITE_OK);
  EXPECT_EQ(back, a.substr(4000, 100));
  sqlite3_int64 size = 0;
  ASSERT_EQ(f->pMethods->xFileSize(f, &size), SQLITE_OK);
  EXPECT_EQ(size, 5000);
}

// A write elsewhere (SQLite rewriting a frame of the same transaction)
// first sends what is held, so the later bytes win.
TEST_F(WalBatchingVfsTest, AWriteElsewhereKeepsTheOrder) {
  std::string wal = db_path_ + "-wal";
  sqlite3_file* f = OpenFile(wal, SQLITE_OPEN_WAL);
  std::string a = Pattern(8192, 5), patch = Pattern(100, 6);
  ASSERT_EQ(Write(f, a, 0), SQLITE_OK);
  ASSERT_EQ(Write(f, patch, 1000), SQLITE_OK);
  EXPECT_EQ(SizeOf(wal), 8192);  // `a` went out before the patch
  ASSERT_EQ(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
  std::string want = a;
  want.replace(1000, 100, patch);
  EXPECT_EQ(Contents(wal), want);
}

// The unix VFS masks a write's length to 17 bits: 128 KB held at once, or
// any multiple of it, must still all arrive. Frames of 4,120 bytes up to
// well past the 1 MB at which the VFS lets go by itself.
TEST_F(WalBatchingVfsTest, LargeAndRoundSizesArriveWhole) {
  std::string wal = db_path_ + "-wal";
  sqlite3_file* f = OpenFile(wal, SQLITE_OPEN_WAL);
  std::string round = Pattern(128 * 1024, 7);
  ASSERT_EQ(Write(f, round, 0), SQLITE_OK);
  ASSERT_EQ(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
  EXPECT_EQ(Contents(wal), round);

  std::string all = round;
  for (int i = 0; i < 400; ++i) {
    std::string frame = Pattern(4120, i);
    ASSERT_EQ(Write(f, frame, static_cast<int64_t>(all.size())), SQLITE_OK);
    all += frame;
  }
  ASSERT_EQ(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
  EXPECT_EQ(Contents(wal), all);
}

TEST_F(WalBatchingVfsTest, OtherFilesAreWrittenAtOnce) {
  sqlite3_file* f = OpenFile(db_path_, SQLITE_OPEN_MAIN_DB);
  std::string a = Pattern(4096, 8);
  ASSERT_EQ(Write(f, a, 0), SQLITE_OK);
  EXPECT_EQ(Contents(db_path_), a);
}

}  // namespace
}  // namespace deliverd::store
