// The storage interface of deliverd: messages and their event history,
// suppressions, tenants and API keys, idempotency records and the delivery
// queue's leases. Implementations: SqliteStore (embedded default) and, later,
// a MySQL store; one conformance suite runs against each.
//
// Contract:
// - Thread-safe: every method may be called from any thread at once.
// - Every row belongs to a tenant; every method that reads or changes
//   tenant data takes the tenant id and never touches another tenant's rows.
// - Writes are durable when they report success, as durable as the store
//   is configured to be (SqliteStore's synchronous=FULL: on stable storage;
//   NORMAL: surviving the process being killed). Implementations may group
//   concurrent writes into one commit; a write's callback runs after that
//   commit, on a store thread, and must not block. The one exception:
//   SqliteStore with NORMAL may answer InsertMessages from its intake log,
//   calling `done` on the caller's thread before InsertMessages returns, so
//   callers must not hold a lock `done` takes.
// - Errors: NOT_FOUND for a missing row, INVALID_ARGUMENT for a request the
//   store itself refuses (a reused request id with another body),
//   FAILED_PRECONDITION for a lost lease, UNAVAILABLE/INTERNAL for storage
//   failures. No exceptions cross this interface.
#ifndef DELIVERD_SERVER_STORE_STORE_H_
#define DELIVERD_SERVER_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/types.h"

namespace deliverd::store {

// How long a request id protects against duplicates.
inline constexpr absl::Duration kIdempotencyWindow = absl::Hours(24);

// One message to insert, with its first events. When `message.request_id`
// is set, an earlier message of the same tenant with the same request id
// (within kIdempotencyWindow) is returned instead of inserting, provided its
// `request_hash` matches; otherwise the item fails with INVALID_ARGUMENT.
struct NewMessage {
  Message message;
  std::string request_hash;
  std::vector<Event> events;
  // Events appended to other messages in the same commit (a resend's
  // RESENT event on its original).
  std::vector<Event> related_events;
};

struct InsertOutcome {
  // The inserted message's id, or the earlier one's when replayed.
  std::string message_id;
  bool replayed = false;
  // Not OK when this item was refused (the others are unaffected).
  absl::Status status;
};

struct MessageFilter {
  std::vector<MessageStatus> statuses;  // any of; empty = all
  std::string recipient;                // case-insensitive exact match
  std::string sender;                   // case-insensitive exact match
  std::string tag;
  absl::Time start_time = absl::InfinitePast();  // create_time >= start
  absl::Time end_time = absl::InfiniteFuture();  // create_time < end
};

// Keyset position in the newest-first message log.
struct MessageCursor {
  absl::Time create_time;
  int64_t row_id = 0;
};

struct MessagePage {
  std::vector<Message> messages;
  std::optional<MessageCursor> next;
};

struct EventFilter {
  std::string message_id;
  std::string tag;
  std::vector<EventType> types;  // any of; empty = all
};

struct EventBatch {
  std::vector<Event> events;  // matching events, in id order
  // The highest event id examined; resume after it even when nothing
  // matched, so a filtered watcher does not rescan.
  int64_t scanned_through = 0;
  // True when the scan stopped at `limit`: more events may follow.
  bool more = false;
};

// What a delivery attempt did to a claimed message. Applied only while the
// claimant still holds the lease.
struct DeliveryUpdate {
  int64_t tenant_id = 0;
  std::string message_id;
  std::string lease_owner;
  MessageStatus status = MessageStatus::kUnspecified;
  std::vector<Recipient> recipients;  // the full, updated list
  absl::Time next_attempt_time = absl::InfiniteFuture();
  int attempt_count = 0;
  std::vector<Event> events;
  std::vector<Suppression> new_suppressions;
};

struct SuppressionFilter {
  SuppressionReason reason = SuppressionReason::kUnspecified;  // = any
  bool all_scopes = false;
  std::string scope;  // used when !all_scopes
  std::string address_prefix;
};

struct SuppressionCursor {
  std::string address;
  std::string scope;
};

struct SuppressionPage {
  std::vector<Suppression> suppressions;
  std::optional<SuppressionCursor> next;
};

// A recipient's new state from feedback (matched case-insensitively).
struct RecipientFeedback {
  std::string address;
  MessageStatus status = MessageStatus::kUnspecified;
  std::string detail;
  Reply reply;
};

// Everything one piece of feedback changes, applied in one commit, once per
// (tenant, fingerprint).
struct FeedbackUpdate {
  int64_t tenant_id = 0;
  // Idempotency key: a fingerprint already applied changes nothing.
  std::string fingerprint;
  // The matched message; empty when the feedback matched none (then only
  // suppressions, scores, subscriptions and message-less events change).
  std::string message_id;
  // Optimistic guard: the message's update_time the changes were computed
  // from. ABORTED when it has changed since (re-read and compute again).
  absl::Time expected_update_time = absl::InfinitePast();
  // kUnspecified: leave the message's status as it is.
  MessageStatus message_status = MessageStatus::kUnspecified;
  std::vector<RecipientFeedback> recipients;
  std::vector<Event> events;
  std::vector<Suppression> new_suppressions;
  // Suppressions removed (address, scope) with `removal_note` recorded.
  std::vector<std::pair<std::string, std::string>> removed_suppressions;
  std::string removal_note;
  std::vector<Subscription> subscriptions;  // upserted (create_time kept)
  std::vector<SoftBounceScore> scores;      // upserted
};

// A cleaning job claimed for one run: the job, and its run row (RUNNING).
struct ClaimedCleaningJob {
  CleaningJob job;
  CleaningJobRun run;
};

// The end of a claimed run. Applied only while `lease_owner` still holds the
// job's lease: the run row gets its state, counts and error, the job its
// next run time and failure count, and the lease is released.
struct CleaningRunFinish {
  int64_t tenant_id = 0;
  std::string job_id;
  int64_t run_id = 0;
  std::string lease_owner;
  CleaningRunState state = CleaningRunState::kUnspecified;
  absl::Time end_time = absl::UnixEpoch();
  CleaningRunSummary summary;
  std::string error;
  absl::Time next_run_time = absl::InfiniteFuture();
  int consecutive_failures = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Tenants and keys.
  virtual absl::StatusOr<int64_t> CreateTenant(absl::string_view name) = 0;
  virtual absl::StatusOr<int64_t> FindTenant(absl::string_view name) = 0;
  // The tenant's name; NOT_FOUND for an unknown id.
  virtual absl::StatusOr<std::string> TenantName(int64_t tenant_id) = 0;
  // NOT_FOUND for an unknown tenant.
  virtual absl::StatusOr<TenantSendPolicy> GetSendPolicy(int64_t tenant_id) = 0;
  virtual absl::Status SetSendPolicy(int64_t tenant_id,
                                     const TenantSendPolicy& policy) = 0;
  // NOT_FOUND for an unknown tenant (nothing is stored).
  virtual absl::StatusOr<ApiKey> CreateApiKey(int64_t tenant_id,
                                              absl::string_view key_hash,
                                              absl::string_view prefix,
                                              absl::string_view label) = 0;
  virtual absl::StatusOr<ApiKey> FindApiKeyByHash(
      absl::string_view key_hash) = 0;
  virtual absl::StatusOr<int64_t> CountApiKeys() = 0;

  // Messages. `done` receives one outcome per item, in order, or an error
  // when nothing was committed.
  using InsertCallback =
      std::function<void(absl::StatusOr<std::vector<InsertOutcome>>)>;
  virtual void InsertMessages(std::vector<NewMessage> batch,
                              InsertCallback done) = 0;
  // Blocking convenience over InsertMessages.
  absl::StatusOr<std::vector<InsertOutcome>> InsertMessagesAndWait(
      std::vector<NewMessage> batch);

  virtual absl::StatusOr<Message> GetMessage(int64_t tenant_id,
                                             absl::string_view id,
                                             bool with_content) = 0;
  // The tenant owning message `id` (ids are unique across tenants), for
  // intake paths that carry no API key (a bounce mailbox). NOT_FOUND when
  // there is no such message.
  virtual absl::StatusOr<int64_t> FindMessageTenant(absl::string_view id) = 0;
  virtual absl::StatusOr<std::vector<Event>> MessageEvents(
      int64_t tenant_id, absl::string_view id) = 0;
  virtual absl::StatusOr<MessagePage> ListMessages(
      int64_t tenant_id, const MessageFilter& filter, int page_size,
      const std::optional<MessageCursor>& after) = 0;

  // The event stream, in commit order.
  virtual absl::StatusOr<EventBatch> ReadEvents(int64_t tenant_id,
                                                int64_t after_id,
                                                const EventFilter& filter,
                                                int limit) = 0;
  virtual absl::StatusOr<int64_t> LastEventId(int64_t tenant_id) = 0;
  // Called after every commit that appended events (from a store thread;
  // must not block). Replaces any earlier listener: once this returns, the
  // earlier one is never called again.
  virtual void SetEventListener(std::function<void()> listener) = 0;

  // The delivery queue. Claims up to `limit` messages that are due at `now`
  // and not leased by anyone else, leasing them to `owner` until now+lease.
  // Returned with content and recipients.
  virtual absl::StatusOr<std::vector<Message>> ClaimDueMessages(
      absl::string_view owner, absl::Time now, absl::Duration lease,
      int limit) = 0;
  // Records an attempt's outcome (or gives a claimed message back) without
  // waiting for the commit: `done` runs once it is committed or refused
  // (FAILED_PRECONDITION when the lease is no longer `update->lease_owner`'s,
  // UNAVAILABLE when the database is away), on a store thread, and must not
  // block. Outcomes submitted by one thread commit in submission order.
  using RecordCallback = std::function<void(absl::Status)>;
  virtual void RecordDeliveryAsync(
      std::shared_ptr<const DeliveryUpdate> update, RecordCallback done) = 0;
  // Blocking convenience over RecordDeliveryAsync.
  absl::Status RecordDelivery(const DeliveryUpdate& update);
  // Clears every lease (messages and cleaning jobs; runs in progress are
  // recorded FAILED), making claimed work due again at once. Only for
  // a store that a single process uses, at its start: any lease found then
  // belongs to a process that died mid-delivery.
  virtual absl::Status ReleaseAllLeases() = 0;
  // When the next claim can succeed: the earliest next_attempt_time of any
  // message, or its lease's end when it is leased beyond that
  // (InfiniteFuture if none); lets the dispatcher sleep exactly until work
  // is due.
  virtual absl::StatusOr<absl::Time> NextDueTime() = 0;

  // Suppressions. Addresses are compared case-insensitively.
  virtual absl::Status UpsertSuppression(const Suppression& suppression,
                                         absl::string_view note) = 0;
  virtual absl::StatusOr<Suppression> RemoveSuppression(
      int64_t tenant_id, absl::string_view address, absl::string_view scope,
      absl::string_view reason) = 0;
  // For each address: the suppression that applies to `stream` at `now`
  // (tenant-wide first, then the stream's own), or nullopt.
  virtual absl::StatusOr<std::vector<std::optional<Suppression>>>
  FindSuppressions(int64_t tenant_id, const std::vector<std::string>& addresses,
                   absl::string_view stream, absl::Time now) = 0;
  virtual absl::StatusOr<SuppressionPage> ListSuppressions(
      int64_t tenant_id, const SuppressionFilter& filter, int page_size,
      const std::optional<SuppressionCursor>& after) = 0;

  // Feedback. Returns false (and changes nothing) when the fingerprint was
  // applied before; NOT_FOUND when the message does not exist; ABORTED when
  // the message changed after `expected_update_time`.
  virtual absl::StatusOr<bool> ApplyFeedback(const FeedbackUpdate& update) = 0;
  // nullopt when the address has no score.
  virtual absl::StatusOr<std::optional<SoftBounceScore>> GetSoftBounceScore(
      int64_t tenant_id, absl::string_view address) = 0;

  // Cleaning jobs. CreateCleaningJob assigns the id and create_time and
  // returns the stored job. Reads fill `last_run`. Deleting a job deletes
  // its runs; a run in progress finishes with FAILED_PRECONDITION.
  virtual absl::StatusOr<CleaningJob> CreateCleaningJob(
      const CleaningJob& job) = 0;
  virtual absl::StatusOr<CleaningJob> GetCleaningJob(int64_t tenant_id,
                                                     absl::string_view id) = 0;
  // Ordered by id; `after_id` is the last id of the previous page ("" for
  // the first).
  virtual absl::StatusOr<std::vector<CleaningJob>> ListCleaningJobs(
      int64_t tenant_id, int page_size, absl::string_view after_id) = 0;
  virtual absl::Status DeleteCleaningJob(int64_t tenant_id,
                                         absl::string_view id) = 0;
  // Claims up to `limit` jobs (any tenant) whose next_run_time is at or
  // before `now` and whose lease is free, leasing each to `owner` until
  // now+lease and inserting a RUNNING run for it. The lease is what keeps
  // two replicas from running one job at once, as with ClaimDueMessages.
  // A RUNNING run left behind by an expired lease (its runner died) is
  // marked FAILED first.
  virtual absl::StatusOr<std::vector<ClaimedCleaningJob>> ClaimDueCleaningJobs(
      absl::string_view owner, absl::Time now, absl::Duration lease,
      int limit) = 0;
  // Claims one job now, due or not (an on-demand run). NOT_FOUND for an
  // unknown job; FAILED_PRECONDITION while another run holds its lease.
  virtual absl::StatusOr<ClaimedCleaningJob> ClaimCleaningJob(
      int64_t tenant_id, absl::string_view id, absl::string_view owner,
      absl::Time now, absl::Duration lease) = 0;
  // FAILED_PRECONDITION when the lease is no longer held by the owner (or
  // the job was deleted).
  virtual absl::Status FinishCleaningJobRun(
      const CleaningRunFinish& finish) = 0;
  // Newest first, at most `limit`. NOT_FOUND for an unknown job.
  virtual absl::StatusOr<std::vector<CleaningJobRun>> ListCleaningJobRuns(
      int64_t tenant_id, absl::string_view job_id, int limit) = 0;
  // The earliest time a ClaimDueCleaningJobs can succeed (a leased job
  // counts from its lease's end); InfiniteFuture when none is scheduled.
  virtual absl::StatusOr<absl::Time> NextCleaningJobDueTime() = 0;

  // Alert channels and rules, per tenant. CreateAlertChannel: ALREADY_EXISTS
  // for a taken name. DeleteAlertChannel: NOT_FOUND for an unknown name,
  // FAILED_PRECONDITION while a rule names it. CreateAlertRule:
  // FAILED_PRECONDITION when a channel it names does not exist (checked in
  // the same transaction as the insert), ALREADY_EXISTS for a taken id.
  // Lists are ordered by name / id; create_time is kept as given.
  virtual absl::Status CreateAlertChannel(const AlertChannelRow& channel) = 0;
  virtual absl::StatusOr<std::vector<AlertChannelRow>> ListAlertChannels(
      int64_t tenant_id) = 0;
  virtual absl::Status DeleteAlertChannel(int64_t tenant_id,
                                          absl::string_view name) = 0;
  // Replaces an existing channel's type and spec (create_time kept).
  // NOT_FOUND for an unknown name.
  virtual absl::Status UpdateAlertChannel(const AlertChannelRow& channel) = 0;
  virtual absl::Status CreateAlertRule(const AlertRuleRow& rule) = 0;
  virtual absl::StatusOr<std::vector<AlertRuleRow>> ListAlertRules(
      int64_t tenant_id) = 0;
  virtual absl::Status DeleteAlertRule(int64_t tenant_id,
                                       absl::string_view id) = 0;
  // Every tenant's rules and channels (the alert engine's configuration),
  // ordered by tenant, then name / id.
  virtual absl::StatusOr<std::vector<AlertRuleRow>> ListAllAlertRules() = 0;
  virtual absl::StatusOr<std::vector<AlertChannelRow>>
  ListAllAlertChannels() = 0;
  // Appends a record; returns its id.
  virtual absl::StatusOr<int64_t> InsertAlertRecord(
      const AlertRecordRow& record) = 0;
  // Newest first (by id), ids below `before_id` (0: from the newest); only
  // `channel` / `kind` when not empty / 0.
  virtual absl::StatusOr<std::vector<AlertRecordRow>> ListAlertRecords(
      int64_t tenant_id, absl::string_view channel, int kind, int page_size,
      int64_t before_id) = 0;
  // Per tenant that has any, its oldest message (by create_time, then row)
  // whose status is QUEUED or WAITING, and how many such it has.
  virtual absl::StatusOr<std::vector<OldestUnsentMessage>>
  OldestUnsentMessages() = 0;
  // Atomically: when the window (tenant, key) does not exist or ended at
  // or before `now`, it now ends at `until` and claimed is true; otherwise
  // nothing changes and claimed is false. The note is returned either way.
  virtual absl::StatusOr<AlertWindow> ClaimAlertWindow(int64_t tenant_id,
                                                       absl::string_view key,
                                                       absl::Time now,
                                                       absl::Time until) = 0;
  // Sets the window's note (creating the window, ended, when missing).
  virtual absl::Status SetAlertWindowNote(int64_t tenant_id,
                                          absl::string_view key,
                                          absl::string_view note) = 0;

  // Subscriptions of `address` (case-insensitive): to `list`, or to every
  // list when `list` is empty; ordered by list.
  virtual absl::StatusOr<std::vector<Subscription>> GetSubscriptions(
      int64_t tenant_id, absl::string_view address, absl::string_view list) = 0;
};

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_STORE_H_
