#include "server/store/intake_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class IntakeLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/intake-log-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<IntakeLog> Open(int64_t capacity = 1 << 16) {
    absl::StatusOr<std::unique_ptr<IntakeLog>> log =
        IntakeLog::Open(path_, capacity);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // Overwrites bytes of the file behind the log's back (a torn write).
  void Scribble(off_t offset, const std::string& bytes) {
    int fd = ::open(path_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), offset),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(IntakeLogTest, NewLogIsEmptyAndAllocated) {
  auto log = Open(4096);
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->ReadAll(), IsEmpty());
  EXPECT_EQ(log->size(), 0);
  EXPECT_EQ(log->capacity(), 4096);
  EXPECT_EQ(std::filesystem::file_size(path_), 4096u + 16u);
}

TEST_F(IntakeLogTest, RecordsComeBackInOrderAfterReopening) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Append("first").ok());
    ASSERT_TRUE(log->Append(std::string(1000, 'x')).ok());
    ASSERT_TRUE(log->Append(std::string("a\0b", 3)).ok());
    EXPECT_EQ(log->size(), 3 * 16 + 5 + 1000 + 3);
  }
  auto log = Open();
  EXPECT_THAT(log->ReadAll(), ElementsAre("first", std::string(1000, 'x'),
                                          std::string("a\0b", 3)));
  // Appends continue after what is there.
  ASSERT_TRUE(log->Append("fourth").ok());
  EXPECT_EQ(log->ReadAll().size(), 4u);
}

TEST_F(IntakeLogTest, ClearForgetsRecordsEvenWhenTheirBytesRemain) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Append("old one").ok());
    ASSERT_TRUE(log->Append("old two").ok());
    log->Clear();
    EXPECT_THAT(log->ReadAll(), IsEmpty());
    // Shorter than what it overwrites: the old second record's bytes are
    // still in the file after it.
    ASSERT_TRUE(log->Append("new").ok());
  }
  auto log = Open();
  EXPECT_THAT(log->ReadAll(), ElementsAre("new"));
}

TEST_F(IntakeLogTest, ReadingStopsAtATornRecord) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Append("one").ok());
    ASSERT_TRUE(log->Append("two").ok());
    ASSERT_TRUE(log->Append("three").ok());
  }
  // The second record's payload starts after the file header (16), the
  // first record (16 + 3) and its own header (16).
  Scribble(16 + 19 + 16, "X");
  auto log = Open();
  EXPECT_THAT(log->ReadAll(), ElementsAre("one"));
  // New appends go after the last good record, replacing the torn one.
  ASSERT_TRUE(log->Append("again").ok());
  EXPECT_THAT(log->ReadAll(), ElementsAre("one", "again"));
}

TEST_F(IntakeLogTest, ACorruptLengthIsNotFollowed) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Append("one").ok());
    ASSERT_TRUE(log->Append("two").ok());
  }
  Scribble(16 + 19, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
  auto log = Open();
  EXPECT_THAT(log->ReadAll(), ElementsAre("one"));
}

TEST_F(IntakeLogTest, AFullLogRefusesWithoutWriting) {
  auto log = Open(64);
  ASSERT_TRUE(log->Append(std::string(30, 'a')).ok());  // 46 of 64
  absl::Status full = log->Append(std::string(3, 'b'));  // 19 more
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  ASSERT_TRUE(log->Append("c").ok());  // 17 more fits exactly
  EXPECT_EQ(log->size(), 63);
  EXPECT_THAT(log->ReadAll(), ElementsAre(std::string(30, 'a'), "c"));
  log->Clear();
  EXPECT_TRUE(log->Append(std::string(40, 'd')).ok());
}

TEST_F(IntakeLogTest, EmptyRecordsAreRefused) {
  auto log = Open();
  EXPECT_EQ(log->Append("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log->ReadAll(), IsEmpty());
}

TEST_F(IntakeLogTest, OnlyOneOpenerAtATime) {
  auto log = Open();
  ASSERT_TRUE(log->Append("mine").ok());
  absl::StatusOr<std::unique_ptr<IntakeLog>> second =
      IntakeLog::Open(path_, 1 << 16);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
  log.reset();
  auto third = Open();
  EXPECT_THAT(third->ReadAll(), ElementsAre("mine"));
}

TEST_F(IntakeLogTest, AFileOfZerosOrGarbageHoldsNoRecords) {
  {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT, 0600);
    std::string zeros(4096, '\0');
    ASSERT_EQ(::write(fd, zeros.data(), zeros.size()), 4096);
    ::close(fd);
  }
  EXPECT_THAT(Open()->ReadAll(), IsEmpty());
  std::filesystem::remove(path_);
  {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT, 0600);
    std::string garbage(4096, '\x5a');
    ASSERT_EQ(::write(fd, garbage.data(), garbage.size()), 4096);
    ::close(fd);
  }
  auto log = Open();
  EXPECT_THAT(log->ReadAll(), IsEmpty());
  ASSERT_TRUE(log->Append("works").ok());
  EXPECT_THAT(log->ReadAll(), ElementsAre("works"));
}

}  // namespace
}  // namespace deliverd::store
