// SqliteStore's intake log (synchronous=NORMAL): what is acknowledged from
// it survives the process being killed, is stored exactly once, and is
// never missed by a read or another write. The conformance suite also runs
// every store test over it (SqliteIntakeStoreFactory).
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/store/intake_codec.h"
#include "server/store/intake_log.h"
#include "server/store/sqlite_store.h"
#include "testing_numbered_message.h"

namespace deliverd::store {
namespace {

const absl::Time kT0 = kNumberedMessageTime;

NewMessage Numbered(int64_t tenant, int n) {
  return NumberedMessage(tenant, "m_intake_", n, std::string(200, 'c'));
}

SqliteOptions IntakeOptions() {
  SqliteOptions options;
  options.full_sync = false;
  // Far longer than any test: messages reach the database only when
  // something asks for them.
  options.intake_delay_ms = 10 * 60 * 1000;
  options.intake_max_bytes = 1 << 20;
  return options;
}

class SqliteIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sqlite-intake-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/deliverd.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteStore> Open(SqliteOptions options = IntakeOptions()) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Inserts one message; `inline_answer` tells whether the callback ran
  // before InsertMessages returned (the intake log answers at once).
  absl::StatusOr<InsertOutcome> Insert(SqliteStore& store, NewMessage item,
                                       bool* inline_answer = nullptr) {
    std::promise<absl::StatusOr<std::vector<InsertOutcome>>> promise;
    std::vector<NewMessage> one;
    one.push_back(std::move(item));
    std::atomic<bool> answered{false};
    store.InsertMessages(std::move(one), [&](auto result) {
      answered = true;
      promise.set_value(std::move(result));
    });
    if (inline_answer != nullptr) *inline_answer = answered;
    absl::StatusOr<std::vector<InsertOutcome>> result =
        promise.get_future().get();
    if (!result.ok()) return result.status();
    return result->front();
  }

  // In a forked child: opens the store with `options` and accepts
  // Numbered(tenant, 0 .. count-1), each of which must be answered from the
  // intake log; exits the child (2: Open failed, 3: an answer did not come
  // from the log) rather than return on failure.
  std::unique_ptr<SqliteStore> OpenAndAcceptInChild(SqliteOptions options,
                                                    int64_t tenant,
                                                    int count) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_, options);
    if (!store.ok()) _exit(2);
    for (int n = 0; n < count; ++n) {
      std::vector<NewMessage> one;
      one.push_back(Numbered(tenant, n));
      bool answered = false;
      (*store)->InsertMessages(std::move(one), [&](auto result) {
        answered = result.ok() && result->front().status.ok();
      });
      if (!answered) _exit(3);
    }
    return *std::move(store);
  }

  int64_t CountMessages(SqliteStore& store, int64_t tenant) {
    absl::StatusOr<MessagePage> page =
        store.ListMessages(tenant, MessageFilter(), 1000, std::nullopt);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? static_cast<int64_t>(page->messages.size()) : -1;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteIntakeTest, AnswersAtOnceAndReadsSeeTheMessage) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  int64_t tenant = *store->CreateTenant("t");
  bool inline_answer = false;
  absl::StatusOr<InsertOutcome> outcome =
      Insert(*store, Numbered(tenant, 1), &inline_answer);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(inline_answer) << "not answered from the intake log";
  EXPECT_EQ(outcome->message_id, "m_intake_1");
  EXPECT_FALSE(outcome->replayed);

  absl::StatusOr<Message> m = store->GetMessage(tenant, "m_intake_1", true);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->subject, "Message 1");
  EXPECT_EQ(m->content, std::string(200, 'c'));
  absl::StatusOr<std::vector<Event>> events =
      store->MessageEvents(tenant, "m_intake_1");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, EventType::kQueued);
}

TEST_F(SqliteIntakeTest, OtherWritesSeeAcceptedMessages) {
  auto store = Open();
  int64_t tenant = *store->CreateTenant("t");
  for (int n = 0; n < 5; ++n) {
    bool inline_answer = false;
    ASSERT_TRUE(Insert(*store, Numbered(tenant, n), &inline_answer).ok());
    ASSERT_TRUE(inline_answer);
  }
  // A claim is a write: it runs after the accepted messages are stored.
  absl::StatusOr<std::vector<Message>> claimed = store->ClaimDueMessages(
      "worker", kT0 + absl::Hours(1), absl::Minutes(5), 100);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->size(), 5u);
}

TEST_F(SqliteIntakeTest, RequestIdsGoThroughTheWriterAndReplay) {
  auto store = Open();
  int64_t tenant = *store->CreateTenant("t");
  NewMessage first = Numbered(tenant, 1);
  first.message.request_id = "req";
  first.request_hash = "hash";
  NewMessage again = Numbered(tenant, 2);
  again.message.request_id = "req";
  again.request_hash = "hash";
  absl::StatusOr<InsertOutcome> a = Insert(*store, first);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<InsertOutcome> b = Insert(*store, again);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->replayed);
  EXPECT_EQ(b->message_id, "m_intake_1");
  EXPECT_EQ(CountMessages(*store, tenant), 1);
}

TEST_F(SqliteIntakeTest, AFullLogSendsMessagesThroughTheWriter) {
  SqliteOptions options = IntakeOptions();
  options.intake_max_bytes = 2048;  // about four messages
  auto store = Open(options);
  int64_t tenant = *store->CreateTenant("t");
  int answered_inline = 0;
  for (int n = 0; n < 20; ++n) {
    bool inline_answer = false;
    absl::StatusOr<InsertOutcome> outcome =
        Insert(*store, Numbered(tenant, n), &inline_answer);
    ASSERT_TRUE(outcome.ok()) << n << ": " << outcome.status();
    if (inline_answer) ++answered_inline;
  }
  EXPECT_GT(answered_inline, 0);
  EXPECT_LT(answered_inline, 20);
  EXPECT_EQ(CountMessages(*store, tenant), 20);
}

// A child process accepts messages into the log and is killed before any
// reaches the database; the next Open (here with full sync, which reads
// the log too) stores every one, once.
TEST_F(SqliteIntakeTest, AcceptedMessagesSurviveSigkill) {
  constexpr int kMessages = 50;
  int64_t tenant = 0;
  {
    auto store = Open();
    tenant = *store->CreateTenant("t");
  }
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<SqliteStore> store =
        OpenAndAcceptInChild(IntakeOptions(), tenant, kMessages);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with "
                                   << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  SqliteOptions full;  // the default: full sync, no intake
  {
    auto store = Open(full);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(CountMessages(*store, tenant), kMessages);
    for (int n = 0; n < kMessages; ++n) {
      absl::StatusOr<std::vector<Event>> events =
          store->MessageEvents(tenant, absl::StrCat("m_intake_", n));
      ASSERT_TRUE(events.ok()) << events.status();
      EXPECT_EQ(events->size(), 1u) << n;
    }
  }
  // The log was emptied: opening again stores nothing twice.
  auto store = Open();
  EXPECT_EQ(CountMessages(*store, tenant), kMessages);
}

// A process killed after storing messages but before emptying the log
// leaves records of messages the database already has: they are skipped.
TEST_F(SqliteIntakeTest, RecordsOfStoredMessagesAreNotStoredTwice) {
  int64_t tenant = 0;
  {
    auto store = Open(SqliteOptions());
    tenant = *store->CreateTenant("t");
    ASSERT_TRUE(Insert(*store, Numbered(tenant, 1)).ok());
  }
  {
    absl::StatusOr<std::unique_ptr<IntakeLog>> log =
        IntakeLog::Open(path_ + "-intake", 1 << 16);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int n : {1, 2}) {
      std::string record;
      EncodeIntakeMessage(Numbered(tenant, n), &record);
      ASSERT_TRUE((*log)->Append(record).ok());
    }
  }
  auto store = Open();
  EXPECT_EQ(CountMessages(*store, tenant), 2);
  absl::StatusOr<std::vector<Event>> events =
      store->MessageEvents(tenant, "m_intake_1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
}

// A record this version cannot read stops the store from opening, naming
// the file, rather than dropping an acknowledged message.
TEST_F(SqliteIntakeTest, AnUnreadableRecordRefusesToOpen) {
  { auto store = Open(SqliteOptions()); }
  {
    absl::StatusOr<std::unique_ptr<IntakeLog>> log =
        IntakeLog::Open(path_ + "-intake", 1 << 16);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("\x09 not a message").ok());
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(path_, IntakeOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("-intake"), std::string::npos)
      << store.status();
}

// Closing the store stores what the log holds.
TEST_F(SqliteIntakeTest, ClosingStoresAcceptedMessages) {
  int64_t tenant = 0;
  {
    auto store = Open();
    tenant = *store->CreateTenant("t");
    for (int n = 0; n < 3; ++n) {
      ASSERT_TRUE(Insert(*store, Numbered(tenant, n)).ok());
    }
  }
  absl::StatusOr<std::unique_ptr<IntakeLog>> log =
      IntakeLog::Open(path_ + "-intake", 0);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_TRUE((*log)->ReadAll().empty());
  log->reset();
  auto store = Open(SqliteOptions());
  EXPECT_EQ(CountMessages(*store, tenant), 3);
}

// More than one batch (1,000) accepted, then a write: it runs only after
// all of them are stored.
TEST_F(SqliteIntakeTest, AWriteSeesMoreThanOneBatchOfAcceptedMessages) {
  SqliteOptions options = IntakeOptions();
  options.intake_max_bytes = 4 << 20;
  auto store = Open(options);
  int64_t tenant = *store->CreateTenant("t");
  constexpr int kMessages = 1500;
  for (int n = 0; n < kMessages; ++n) {
    bool inline_answer = false;
    ASSERT_TRUE(Insert(*store, Numbered(tenant, n), &inline_answer).ok());
    ASSERT_TRUE(inline_answer) << n;
  }
  absl::StatusOr<std::vector<Message>> claimed = store->ClaimDueMessages(
      "worker", kT0 + absl::Hours(1), absl::Minutes(5), 5000);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->size(), static_cast<size_t>(kMessages));
}

// A message whose id is already stored (written by the writer with a
// request id, then accepted again without one) does not hold back the
// messages stored with it.
TEST_F(SqliteIntakeTest, AnAlreadyStoredIdDoesNotBlockTheOthers) {
  auto store = Open();
  int64_t tenant = *store->CreateTenant("t");
  NewMessage via_writer = Numbered(tenant, 1);
  via_writer.message.request_id = "req";
  via_writer.request_hash = "hash";
  ASSERT_TRUE(Insert(*store, via_writer).ok());
  bool inline_answer = false;
  ASSERT_TRUE(Insert(*store, Numbered(tenant, 1), &inline_answer).ok());
  ASSERT_TRUE(inline_answer);
  ASSERT_TRUE(Insert(*store, Numbered(tenant, 2), &inline_answer).ok());
  ASSERT_TRUE(inline_answer);
  absl::StatusOr<Message> second = store->GetMessage(tenant, "m_intake_2", false);
  EXPECT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(CountMessages(*store, tenant), 2);
}

// Event listeners run on the writer's thread, between transactions, and
// may read (the conformance suite's Recorder calls LastEventId). A read
// there must not wait for the writer to store the intake log: the writer
// would be waiting for itself.
TEST_F(SqliteIntakeTest, AListenerReadingWhileMessagesWaitDoesNotDeadlock) {
  auto store = Open();
  int64_t tenant = *store->CreateTenant("t");
  std::promise<absl::Status> listener_read;
  bool first_call = true;
  store->SetEventListener([&] {
    if (!first_call) return;
    first_call = false;
    // A message now waits in the log, then the listener reads.
    bool inline_answer = false;
    std::vector<NewMessage> one;
    one.push_back(Numbered(tenant, 2));
    store->InsertMessages(std::move(one),
                          [&](auto) { inline_answer = true; });
    absl::StatusOr<int64_t> last = store->LastEventId(tenant);
    listener_read.set_value(!inline_answer ? absl::InternalError("not inline")
                                           : last.status());
  });
  // Through the writer (a request id), so its commit calls the listener.
  NewMessage first = Numbered(tenant, 1);
  first.message.request_id = "req";
  first.request_hash = "hash";
  ASSERT_TRUE(Insert(*store, first).ok());
  std::future<absl::Status> read = listener_read.get_future();
  ASSERT_EQ(read.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(read.get().ok());
  store->SetEventListener(nullptr);
  // And the message accepted from the listener is stored and readable.
  absl::StatusOr<Message> second = store->GetMessage(tenant, "m_intake_2", false);
  EXPECT_TRUE(second.ok()) << second.status();
}

double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The disk fills (a file size limit in a child process) while more than a
// batch of accepted messages waits: a read fails at once with UNAVAILABLE
// naming the cause, the writer does not spin retrying, and after the
// process dies every accepted message is stored by the next Open.
TEST_F(SqliteIntakeTest, ADiskFullFailsReadsWithoutSpinningAndLosesNothing) {
  constexpr int kMessages = 1500;
  int64_t tenant = 0;
  {
    auto store = Open();
    tenant = *store->CreateTenant("t");
  }
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SqliteOptions options = IntakeOptions();
    options.intake_max_bytes = 4 << 20;
    std::unique_ptr<SqliteStore> store =
        OpenAndAcceptInChild(options, tenant, kMessages);
    signal(SIGXFSZ, SIG_IGN);
    struct stat wal, db;
    if (stat((path_ + "-wal").c_str(), &wal) != 0) wal.st_size = 0;
    if (stat(path_.c_str(), &db) != 0) _exit(3);
    struct rlimit limit = {
        static_cast<rlim_t>(std::max(wal.st_size, db.st_size)),
        RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &limit);
    absl::StatusOr<Message> m =
        store->GetMessage(tenant, "m_intake_2", false);
    if (m.ok() || !absl::IsUnavailable(m.status())) _exit(4);
    // Idle for half a second: a writer retrying in a loop would use it all.
    double before = CpuSeconds();
    absl::SleepFor(absl::Milliseconds(500));
    if (CpuSeconds() - before > 0.25) _exit(5);
    // A second read fails the same way, at once.
    if (store->GetMessage(tenant, "m_intake_3", false).ok()) _exit(6);
    raise(SIGKILL);
    _exit(7);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status))
      << "child exited with " << WEXITSTATUS(status)
      << " (2, 3: see OpenAndAcceptInChild; 4: the read did not fail with "
         "UNAVAILABLE; 5: the writer spun)";
  auto store = Open();
  absl::StatusOr<std::vector<Message>> claimed = store->ClaimDueMessages(
      "worker", kT0 + absl::Hours(1), absl::Minutes(5), 5000);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->size(), static_cast<size_t>(kMessages));
}

}  // namespace
}  // namespace deliverd::store
