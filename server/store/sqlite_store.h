// The embedded store: one SQLite file in WAL mode, durable commits
// (synchronous=FULL), the default for a single deliverd process.
//
// Checkpoints (copying the WAL into the database file) run on a thread of
// their own, so commits rarely wait behind one: only when sustained writes
// leave that thread unable to reach the WAL's end does the writer copy the
// rest itself (SqliteOptions::restart_pages).
//
// Writes go through one writer thread that groups every write waiting at
// that moment into a single transaction (group commit): one fsync serves
// many concurrent Send calls, which is how durable sends stay fast. One
// write's failure never undoes the others in its group, nor leaves rows of
// its own behind (see WriteJob for how, without a savepoint per write).
// Reads use a pool of separate connections and see the last committed
// state without waiting for the writer. Which addresses have a suppression
// is also kept in memory (SuppressedAddresses), so FindSuppressions reads
// the database only for those: suppressions must therefore be written
// through this object, never by another process behind its back (no
// deliverd command does).
//
// With synchronous=NORMAL (SqliteOptions::full_sync false) a single Send is
// acknowledged once its message is appended to an intake log beside the
// database (intake_log.h: a copy into a memory-mapped file, with no system
// call and no thread switch); the writer
// copies accepted messages into the database in batches. Every read of
// messages or events, and every other write, first waits for the messages
// accepted before it to be copied, so callers never see the difference.
// Open stores what a killed process left in the log.
//
// Thread-safe. Only one deliverd process may use a file at a time (SQLite
// would serialise them correctly, but leases assume one dispatcher per file
// unless both share a clock; use MySQL for several replicas).
#ifndef DELIVERD_SERVER_STORE_SQLITE_STORE_H_
#define DELIVERD_SERVER_STORE_SQLITE_STORE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/store/sqlite_db.h"
#include "server/store/store.h"

namespace deliverd::store {

class IntakeLog;
class SuppressedAddresses;

struct SqliteOptions {
  // true: every commit is fsynced before it is acknowledged (survives power
  // loss). false: commits reach the operating system before they are
  // acknowledged (survives the process being killed, not the machine
  // losing power) and are synced at checkpoints.
  bool full_sync = true;
  // WAL size, in pages, at which the background checkpointer runs.
  int checkpoint_pages = 1000;
  // WAL size, in pages, past which the writer checkpoints itself between
  // two groups. Under sustained writes the background checkpointer never
  // catches up with the end of the WAL, and SQLite starts the WAL again
  // from its beginning only once every frame is copied: without this the
  // WAL file would grow as long as the writes go on.
  int restart_pages = 4000;
  // With full_sync false: acknowledge a single message without a request
  // id once it is appended to the intake log (path + "-intake"), and copy
  // accepted messages into the database at most this many milliseconds
  // later, many per transaction, or at once when something reads messages
  // or events. 0 turns the intake log off. (With full_sync the log is only
  // read at Open, to store what a killed process had accepted.)
  int intake_delay_ms = 10;
  // The log's size, allocated on disk when the store opens. When it is
  // full it takes no more messages until the writer has copied all it
  // holds (and emptied it); Sends meanwhile go through the writer as with
  // full_sync.
  int64_t intake_max_bytes = 16 << 20;
};

class SqliteStore : public Store {
 public:
  // Opens (creating if needed) the database at `path` and applies pending
  // migrations.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, SqliteOptions options = {});
  // Finishes every write already submitted, then closes the connections.
  ~SqliteStore() override;

  // The schema version after migration.
  int schema_version() const { return schema_version_; }

  // Deletes idempotency records created before `before`; returns how many.
  // The checkpointer calls it every few minutes with now minus
  // kIdempotencyWindow, so the table holds about a day of request ids.
  absl::StatusOr<int64_t> PurgeIdempotencyRecords(absl::Time before);

  absl::StatusOr<int64_t> CreateTenant(absl::string_view name) override;
  absl::StatusOr<int64_t> FindTenant(absl::string_view name) override;
  absl::StatusOr<std::string> TenantName(int64_t tenant_id) override;
  absl::StatusOr<TenantSendPolicy> GetSendPolicy(int64_t tenant_id) override;
  absl::Status SetSendPolicy(int64_t tenant_id,
                             const TenantSendPolicy& policy) override;
  absl::StatusOr<ApiKey> CreateApiKey(int64_t tenant_id,
                                      absl::string_view key_hash,
                                      absl::string_view prefix,
                                      absl::string_view label) override;
  absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view key_hash) override;
  absl::StatusOr<int64_t> CountApiKeys() override;

  void InsertMessages(std::vector<NewMessage> batch,
                      InsertCallback done) override;
  absl::StatusOr<Message> GetMessage(int64_t tenant_id, absl::string_view id,
                                     bool with_content) override;
  absl::StatusOr<int64_t> FindMessageTenant(absl::string_view id) override;
  absl::StatusOr<std::vector<Event>> MessageEvents(
      int64_t tenant_id, absl::string_view id) override;
  absl::StatusOr<MessagePage> ListMessages(
      int64_t tenant_id, const MessageFilter& filter, int page_size,
      const std::optional<MessageCursor>& after) override;

  absl::StatusOr<EventBatch> ReadEvents(int64_t tenant_id, int64_t after_id,
                                        const EventFilter& filter,
                                        int limit) override;
  absl::StatusOr<int64_t> LastEventId(int64_t tenant_id) override;
  void SetEventListener(std::function<void()> listener) override;

  absl::StatusOr<std::vector<Message>> ClaimDueMessages(
      absl::string_view owner, absl::Time now, absl::Duration lease,
      int limit) override;
  void RecordDeliveryAsync(std::shared_ptr<const DeliveryUpdate> update,
                           RecordCallback done) override;
  absl::Status ReleaseAllLeases() override;
  absl::StatusOr<absl::Time> NextDueTime() override;

  absl::Status UpsertSuppression(const Suppression& suppression,
                                 absl::string_view note) override;
  absl::StatusOr<Suppression> RemoveSuppression(
      int64_t tenant_id, absl::string_view address, absl::string_view scope,
      absl::string_view reason) override;
  absl::StatusOr<std::vector<std::optional<Suppression>>> FindSuppressions(
      int64_t tenant_id, const std::vector<std::string>& addresses,
      absl::string_view stream, absl::Time now) override;
  absl::StatusOr<SuppressionPage> ListSuppressions(
      int64_t tenant_id, const SuppressionFilter& filter, int page_size,
      const std::optional<SuppressionCursor>& after) override;
  absl::StatusOr<bool> ApplyFeedback(const FeedbackUpdate& update) override;
  absl::StatusOr<std::optional<SoftBounceScore>> GetSoftBounceScore(
      int64_t tenant_id, absl::string_view address) override;
  absl::StatusOr<std::vector<Subscription>> GetSubscriptions(
      int64_t tenant_id, absl::string_view address,
      absl::string_view list) override;

  absl::StatusOr<CleaningJob> CreateCleaningJob(
      const CleaningJob& job) override;
  absl::StatusOr<CleaningJob> GetCleaningJob(int64_t tenant_id,
                                             absl::string_view id) override;
  absl::StatusOr<std::vector<CleaningJob>> ListCleaningJobs(
      int64_t tenant_id, int page_size, absl::string_view after_id) override;
  absl::Status DeleteCleaningJob(int64_t tenant_id,
                                 absl::string_view id) override;
  absl::StatusOr<std::vector<ClaimedCleaningJob>> ClaimDueCleaningJobs(
      absl::string_view owner, absl::Time now, absl::Duration lease,
      int limit) override;
  absl::StatusOr<ClaimedCleaningJob> ClaimCleaningJob(
      int64_t tenant_id, absl::string_view id, absl::string_view owner,
      absl::Time now, absl::Duration lease) override;
  absl::Status FinishCleaningJobRun(const CleaningRunFinish& finish) override;
  absl::StatusOr<std::vector<CleaningJobRun>> ListCleaningJobRuns(
      int64_t tenant_id, absl::string_view job_id, int limit) override;
  absl::StatusOr<absl::Time> NextCleaningJobDueTime() override;

  absl::Status CreateAlertChannel(const AlertChannelRow& channel) override;
  absl::StatusOr<std::vector<AlertChannelRow>> ListAlertChannels(
      int64_t tenant_id) override;
  absl::Status DeleteAlertChannel(int64_t tenant_id,
                                  absl::string_view name) override;
  absl::Status UpdateAlertChannel(const AlertChannelRow& channel) override;
  absl::Status CreateAlertRule(const AlertRuleRow& rule) override;
  absl::StatusOr<std::vector<AlertRuleRow>> ListAlertRules(
      int64_t tenant_id) override;
  absl::Status DeleteAlertRule(int64_t tenant_id,
                               absl::string_view id) override;
  absl::StatusOr<std::vector<AlertRuleRow>> ListAllAlertRules() override;
  absl::StatusOr<std::vector<AlertChannelRow>> ListAllAlertChannels() override;
  absl::StatusOr<int64_t> InsertAlertRecord(
      const AlertRecordRow& record) override;
  absl::StatusOr<std::vector<AlertRecordRow>> ListAlertRecords(
      int64_t tenant_id, absl::string_view channel, int kind, int page_size,
      int64_t before_id) override;
  absl::StatusOr<std::vector<OldestUnsentMessage>> OldestUnsentMessages()
      override;
  absl::StatusOr<AlertWindow> ClaimAlertWindow(int64_t tenant_id,
                                               absl::string_view key,
                                               absl::Time now,
                                               absl::Time until) override;
  absl::Status SetAlertWindowNote(int64_t tenant_id, absl::string_view key,
                                  absl::string_view note) override;

 private:
  // A unit of work for the writer thread. `run` executes inside the group's
  // transaction; `done` runs after the commit. `run` may be called twice: a
  // group runs without savepoints (a savepoint makes SQLite copy every page
  // the job touches that the group already changed, measured at a fifth of
  // a delivery's store CPU), and when a job fails after changing rows, the
  // whole group is rolled back and run again with a savepoint per job. So
  // `run` must set its outputs afresh on every call, never add to what an
  // earlier call left.
  struct WriteJob {
    std::function<absl::Status(SqliteConnection&)> run;
    std::function<void(absl::Status)> done;
    // Callers' callbacks (which may answer an RPC, i.e. write to a socket)
    // run on the completion thread so the writer can start the next group;
    // internal waits are released inline.
    bool done_inline = false;
  };

  // Returns a read connection to the pool when it goes out of scope.
  class ReadLease {
   public:
    ReadLease(SqliteStore* store, std::unique_ptr<SqliteConnection> conn)
        : store_(store), conn_(std::move(conn)) {}
    ReadLease(ReadLease&&) = default;
    ~ReadLease();
    SqliteConnection& operator*() { return *conn_; }
    SqliteConnection* operator->() { return conn_.get(); }

   private:
    SqliteStore* store_;
    std::unique_ptr<SqliteConnection> conn_;
  };

  SqliteStore(std::string path, SqliteOptions options,
              std::unique_ptr<SqliteConnection> writer);

  absl::Status Migrate();
  void Submit(WriteJob job);
  // Submits and blocks until committed.
  absl::Status WriteAndWait(std::function<absl::Status(SqliteConnection&)> run);
  // Both run the jobs of one group inside the open transaction, setting
  // results[i] to job i's status. RunJobsTogether runs them plainly and
  // returns false as soon as a job fails having changed rows (or SQLite
  // ended the transaction): the group must then be rolled back and run
  // again with RunJobsIsolated, which gives each job its own savepoint so
  // one that fails leaves nothing behind.
  static bool RunJobsTogether(SqliteConnection& db,
                              std::vector<WriteJob>& group,
                              std::vector<absl::Status>& results);
  static void RunJobsIsolated(SqliteConnection& db,
                              std::vector<WriteJob>& group,
                              std::vector<absl::Status>& results);
  void WriterLoop();
  void CompletionLoop();
  // Copies the WAL back into the database off the writer's path, so no
  // commit waits for a checkpoint.
  void CheckpointLoop();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  // Called by the writer after a commit: when the WAL has passed
  // options_.restart_pages, copies what the background checkpointer has
  // not, so the next commit writes the WAL from its beginning again.
  void RestartWalIfLong(SqliteConnection& db);
  // Fills suppressed_addresses_ from the suppressions table (at Open).
  absl::Status LoadSuppressedAddresses();
  absl::StatusOr<ReadLease> AcquireReader();
  // AcquireReader for reads of messages and events: first waits for the
  // intake log (AwaitIntake).
  absl::StatusOr<ReadLease> AcquireMessageReader();

  // The intake log (see the class comment). intake_log_ is set at Open and
  // never changes; what it points to and the fields after it are guarded
  // by write_mu_.
  // Opens the log and stores what it holds (at Open, before the writer
  // starts); leaves intake_log_ null when another process holds it.
  absl::Status RecoverIntake();
  // Appends batch[0] to the log and answers `done` when the batch is one
  // message the log may take; returns false (batch untouched) otherwise.
  bool AcceptIntoIntake(std::vector<NewMessage>& batch, InsertCallback& done);
  // Writer thread: stores `items` (accepted up to number `upto`) in one
  // transaction; on failure puts them back to be tried again.
  void StoreIntake(SqliteConnection& db, std::vector<NewMessage> items,
                   uint64_t upto);
  // Returns once every message accepted so far is in the database
  // (UNAVAILABLE if that takes more than a few seconds); at once on the
  // writer's own thread (event listeners), which cannot wait for itself.
  absl::Status AwaitIntake();
  std::unique_ptr<IntakeLog> intake_log_;
  std::vector<NewMessage> intake_pending_;
  std::chrono::steady_clock::time_point intake_due_;
  uint64_t intake_accepted_ = 0;
  uint64_t intake_stored_ = 0;
  // Set by a reader waiting for the log: store at once.
  bool intake_urgent_ = false;
  absl::Status intake_error_;
  std::condition_variable intake_stored_cv_;

  std::string path_;
  SqliteOptions options_;
  int schema_version_ = 0;
  std::unique_ptr<SqliteConnection> writer_conn_;
  // Every (tenant, address) with a suppression row: filled at Open, added
  // to by the writer before each suppression it stores (see FindSuppressions).
  std::unique_ptr<SuppressedAddresses> suppressed_addresses_;
  // Frames in the WAL after the writer's last commit (set by OnWalCommit,
  // which runs on the writer thread; read only there).
  int wal_frames_ = 0;
  // WAL size at which OnWalCommit next wakes the checkpointer (writer
  // thread only).
  int next_checkpoint_at_;

  std::mutex write_mu_;
  std::condition_variable write_cv_;
  std::deque<WriteJob> write_queue_;
  // Submit wakes the writer only once the queue holds this many jobs: 1
  // while it waits for work, the group it wants while it gathers one, and
  // never while it is busy (it looks at the queue before waiting again).
  // Waking it for every job of a group it is still gathering cost several
  // futex calls and thread switches per Send.
  static constexpr size_t kWriterBusy = static_cast<size_t>(-1);
  size_t writer_wakes_at_ = kWriterBusy;
  bool stopping_ = false;
  std::thread writer_;

  std::mutex completion_mu_;
  std::condition_variable completion_cv_;
  std::deque<std::function<void()>> completions_;
  bool completion_stopping_ = false;
  std::thread completer_;

  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stopping_ = false;
  std::thread checkpointer_;

  std::mutex read_mu_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;

  std::mutex listener_mu_;
  std::function<void()> event_listener_;
};

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_SQLITE_STORE_H_
