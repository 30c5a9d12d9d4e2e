// SqliteStore's write-ahead log under sustained writes: it must not grow for
// as long as the writes go on.
#include <stdlib.h>
#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/store/sqlite_store.h"
#include "testing_numbered_message.h"

namespace deliverd::store {
namespace {

NewMessage Numbered(int64_t tenant, int n, const std::string& content) {
  return NumberedMessage(tenant, "m_wal_", n, content);
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// The writer never waits for work here (32 inserts are always pending), so
// the background checkpointer alone never copies the WAL's last frame and
// SQLite never starts the WAL again from its beginning. 8 MB of content go
// through; the WAL must stay near restart_pages.
TEST(SqliteWal, StaysBoundedUnderSustainedWrites) {
  char tmpl[] = "/tmp/sqlite-wal-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/db";
  constexpr int kMessages = 4000;
  constexpr int kInFlight = 32;
  constexpr int kRestartPages = 250;
  {
    SqliteOptions options;
    options.full_sync = false;
    options.checkpoint_pages = 100;
    options.restart_pages = kRestartPages;
    // Through the writer's groups (the intake log would answer at once and
    // store the messages in large batches instead).
    options.intake_delay_ms = 0;
    absl::StatusOr<std::unique_ptr<SqliteStore>> opened =
        SqliteStore::Open(path, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    SqliteStore& store = **opened;
    int64_t tenant = *store.CreateTenant("t");
    std::string content(2048, 'x');

    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0, done = 0, failed = 0;
    for (int n = 0; n < kMessages; ++n) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return in_flight < kInFlight; });
        ++in_flight;
      }
      std::vector<NewMessage> one;
      one.push_back(Numbered(tenant, n, content));
      store.InsertMessages(
          std::move(one),
          [&](absl::StatusOr<std::vector<InsertOutcome>> result) {
            std::lock_guard<std::mutex> lock(mu);
            if (!result.ok() || !result->front().status.ok()) ++failed;
            --in_flight;
            ++done;
            cv.notify_all();
          });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == kMessages; });
    EXPECT_EQ(failed, 0);
    // The WAL file keeps its largest size (up to journal_size_limit), so
    // its size now is the most it held. Bound: the restart threshold plus
    // a few groups of 32 two-kilobyte messages, far below the 8 MB that
    // went through.
    int64_t wal = FileSize(path + "-wal");
    EXPECT_GT(wal, 0);
    EXPECT_LT(wal, 4 * kRestartPages * 4096) << "WAL grew to " << wal;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace deliverd::store
