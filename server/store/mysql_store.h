// The shared store: MySQL or MariaDB through MySQL Connector/C++, for any
// number of deliverd replicas on one database.
//
// Writes of one process go through writer threads (two by default), each
// grouping every write waiting at that moment into one transaction (group
// commit, as the SQLite store does). One write's failure leaves the others
// in its group alone: the transaction is rolled back and run again without
// it (cheaper than a savepoint per write, since failures are rare). Writes
// submitted at the same moment may commit in either order. Queue claims and other
// writes that must not wait behind a group run in short transactions of
// their own on pool connections. Reads use pool connections.
//
// Replicas: queue claims take due rows with SELECT ... FOR UPDATE SKIP
// LOCKED and lease them (owner, lease_until); an expired lease is taken
// over by the next claim. Events get their ids from the one-row
// event_sequence table just before commit, so event ids increase in commit
// order across replicas (see the schema), and a poller notices other
// replicas' events so the event listener fires for them too.
//
// Failures: a deadlock reruns the whole transaction (with backoff) within
// `retry_budget`, then fails with ABORTED. A lost connection reruns it at
// once on a fresh connection, twice at most: a database that is away makes
// calls fail quickly with UNAVAILABLE, and the pool reconnects by itself
// when it returns.
//
// Thread-safe. Connector/C++ exceptions never leave server/store/mysql_*.
#ifndef DELIVERD_SERVER_STORE_MYSQL_STORE_H_
#define DELIVERD_SERVER_STORE_MYSQL_STORE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/store/mysql_db.h"
#include "server/store/store.h"

namespace deliverd::store {

struct MysqlStoreOptions {
  MysqlConfig connection;
  // How often the database is asked whether another replica appended
  // events (the event listener then fires).
  absl::Duration event_poll_interval = absl::Milliseconds(200);
  // Writer threads, each with its own connection and its own groups: the
  // server inserts rows on one core per transaction, so two groups at once
  // use two.
  int writers = 2;
  // How long a transaction keeps being retried after deadlocks before the
  // call fails.
  absl::Duration retry_budget = absl::Seconds(5);
};

class MysqlStore : public Store {
 public:
  // Connects, applies pending migrations (serialised between replicas by a
  // named lock) and starts the writer.
  static absl::StatusOr<std::unique_ptr<MysqlStore>> Open(
      MysqlStoreOptions options);
  // Applies pending migrations only; returns the schema version.
  static absl::StatusOr<int> Migrate(const MysqlConfig& config);
  // Finishes every write already submitted, then closes the connections.
  ~MysqlStore() override;

  int schema_version() const { return schema_version_; }

  // Deletes idempotency records created before `before`; returns how many.
  // The poller runs it every few minutes.
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

  // What a write sees: the connection, inside an open transaction, and the
  // transaction's events, which get their ids and are inserted just before
  // the commit. A write may run more than once (the transaction is rerun
  // after a deadlock, a lost connection or another write's failure), so it
  // must compute all of its results afresh on every run. A write returns ABORTED or UNAVAILABLE
  // only for those database failures: the writer reruns the whole group on
  // them, so any other refusal must use another code (and may be mapped to
  // ABORTED after the write returns, as ApplyFeedback's stale guard is).
  class Tx {
   public:
    explicit Tx(MysqlConnection& db) : db_(db) {}
    MysqlConnection& db() { return db_; }
    MysqlConnection* operator->() { return &db_; }
    // Queues `event` (with the tags to stamp on it) for this transaction.
    void AppendEvent(const Event& event, std::string tags);
    // Queues `event` with its message's tags, read at commit for all such
    // events at once (saves a read per message on the delivery path).
    void AppendEventWithMessageTags(const Event& event);

   private:
    friend class MysqlStore;
    struct PendingEvent {
      Event event;
      std::string tags;
      bool tags_from_message = false;
    };
    MysqlConnection& db_;
    std::vector<PendingEvent> events_;
  };
  using TxFn = std::function<absl::Status(Tx&)>;
  using ReadFn = std::function<absl::Status(MysqlConnection&)>;

 private:
  struct WriteJob {
    TxFn run;
    std::function<void(absl::Status)> done;
    // Callers' callbacks (which may answer an RPC) run on the completion
    // thread so the writer can start the next group; internal waits are
    // released inline.
    bool done_inline = false;
  };

  explicit MysqlStore(MysqlStoreOptions options);

  absl::Status RunMigrations();
  // Group-committed write: queued for the writer thread.
  void Submit(WriteJob job);
  absl::Status WriteAndWait(TxFn run);
  // A write in a transaction of its own on a pool connection (claims, and
  // writes that must not wait behind a group), retried on deadlock and lost
  // connection within the retry budget.
  absl::Status Transact(const TxFn& run);
  // A read on a pool connection, in one consistent snapshot when
  // `snapshot`, retried on a lost connection within the retry budget.
  absl::Status Read(const ReadFn& run, bool snapshot = false);
  // Gives the transaction's events their ids (taking the sequence row's
  // lock, held until commit) and inserts them.
  static absl::Status FlushEvents(Tx& tx);
  void WriterLoop();
  void CompletionLoop();
  void PollLoop();
  void NotifyListener();

  MysqlStoreOptions options_;
  MysqlPool pool_;
  int schema_version_ = 0;

  std::mutex write_mu_;
  std::condition_variable write_cv_;
  std::deque<WriteJob> write_queue_;
  bool stopping_ = false;
  std::vector<std::thread> writers_;

  std::mutex completion_mu_;
  std::condition_variable completion_cv_;
  std::deque<std::function<void()>> completions_;
  bool completion_stopping_ = false;
  std::thread completer_;

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool poll_stopping_ = false;
  std::thread poller_;

  std::mutex listener_mu_;
  std::function<void()> event_listener_;
};

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_MYSQL_STORE_H_
