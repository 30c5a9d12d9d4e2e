// Plain records that cross the storage interface. No gRPC, no SQL: the API
// layer translates these to and from protos, the stores to and from rows.
//
// Enum values equal the proto enums' numbers on purpose, so translation is a
// cast guarded by a range check, and stored integers stay meaningful if the
// API adds values.
#ifndef DELIVERD_SERVER_STORE_TYPES_H_
#define DELIVERD_SERVER_STORE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace deliverd::store {

enum class MessageStatus : int {
  kUnspecified = 0,
  kQueued = 1,
  kSent = 2,
  kWaiting = 3,
  kConfirmed = 4,
  kFailed = 5,
  kBounced = 6,
  kBlocked = 7,
  kSuppressed = 8,
};

enum class EventType : int {
  kUnspecified = 0,
  kQueued = 1,
  kAttempt = 2,
  kSent = 3,
  kDeferred = 4,
  kConfirmed = 5,
  kBounced = 6,
  kBlocked = 7,
  kComplained = 8,
  kOpened = 9,
  kClicked = 10,
  kUnsubscribed = 11,
  kSuppressed = 12,
  kFailed = 13,
  kResent = 14,
};

enum class RecipientKind : int { kUnspecified = 0, kTo = 1, kCc = 2, kBcc = 3 };

enum class SuppressionReason : int {
  kUnspecified = 0,
  kHardBounce = 1,
  kUnsubscribed = 2,
  kComplaint = 3,
  kManual = 4,
  kInvalid = 5,
  kSoftBounce = 6,
};

enum class SubscriptionState : int {
  kUnspecified = 0,
  kSubscribed = 1,
  kUnsubscribed = 2,
  kPending = 3,  // double opt-in: awaiting confirmation
};

struct Message;
struct Event;

const char* MessageStatusName(MessageStatus status);
const char* EventTypeName(EventType type);
const char* SuppressionReasonName(SuppressionReason reason);

// A tenant's rules for what it may send.
struct TenantSendPolicy {
  // Refuse a send whose From domain has an error-level SPF, DKIM (for the
  // selectors below) or DMARC finding.
  bool require_domain_auth = false;
  std::vector<std::string> dkim_selectors;
  // The soft-bounce policy (hygiene/policy) for this tenant's addresses; 0
  // means the default for that setting.
  int64_t soft_bounce_half_life_seconds = 0;
  double soft_bounce_threshold = 0;
  int64_t soft_bounce_suppress_seconds = 0;
};

// A reply from an SMTP server (or a transport's equivalent), kept as evidence.
struct Reply {
  int code = 0;
  std::string enhanced_code;
  std::string text;
  std::string remote_host;
};

struct Recipient {
  std::string address;  // normalised
  RecipientKind kind = RecipientKind::kTo;
  MessageStatus status = MessageStatus::kQueued;
  std::string detail;
  Reply last_reply;
  // Sent to even though suppressed (an explicit, recorded override); the
  // dispatcher does not check this recipient's suppressions again.
  bool suppression_override = false;
};

// A message as stored. `content` is an opaque encoding of everything needed
// to compose the message again, owned by the API layer; `metadata` likewise.
struct Message {
  int64_t row_id = 0;
  std::string id;  // public id, "m_..."
  int64_t tenant_id = 0;
  MessageStatus status = MessageStatus::kQueued;
  std::string from_address;
  std::string from_name;
  std::string subject;
  std::vector<std::string> tags;
  std::string metadata;
  std::string stream;
  absl::Time create_time = absl::UnixEpoch();
  absl::Time update_time = absl::UnixEpoch();
  // absl::InfiniteFuture() when no attempt is due.
  absl::Time next_attempt_time = absl::InfiniteFuture();
  int attempt_count = 0;
  std::string resend_of;  // public id of the original
  std::string rfc822_message_id;
  int64_t size_bytes = 0;
  std::string request_id;
  std::string content;
  std::vector<Recipient> recipients;
};

struct Event {
  int64_t id = 0;  // the cursor: increases in commit order
  int64_t tenant_id = 0;
  std::string message_id;
  EventType type = EventType::kUnspecified;
  absl::Time time = absl::UnixEpoch();
  std::string recipient;
  std::string source;
  std::string detail;
  Reply reply;
  std::vector<std::string> tags;
};

struct Suppression {
  int64_t tenant_id = 0;
  std::string address;  // normalised
  SuppressionReason reason = SuppressionReason::kUnspecified;
  std::string scope;  // "" = the whole tenant
  absl::Time create_time = absl::UnixEpoch();
  absl::Time expire_time = absl::InfiniteFuture();
  std::string source_message;
  std::string evidence;
};

// An address's state on one of the tenant's lists.
struct Subscription {
  int64_t tenant_id = 0;
  std::string address;  // normalised, stored lower-cased
  std::string list;
  SubscriptionState state = SubscriptionState::kUnspecified;
  absl::Time create_time = absl::UnixEpoch();
  absl::Time update_time = absl::UnixEpoch();
  std::string source;    // how the last change came in
  std::string metadata;  // opaque, owned by the API layer
};

// An address's decaying soft-bounce score (hygiene/policy) as of `updated`.
struct SoftBounceScore {
  int64_t tenant_id = 0;
  std::string address;
  double score = 0;
  absl::Time updated = absl::UnixEpoch();
};

// A scheduled list-cleaning job (server/jobs). `source` and `destination`
// are server-side paths, already validated by the API layer.
enum class CleaningJobAction : int {
  kUnspecified = 0,  // = keep
  kKeep = 1,
  kFlag = 2,
  kSuppress = 3,
};

enum class CleaningRunState : int {
  kUnspecified = 0,
  kRunning = 1,
  kSucceeded = 2,
  kFailed = 3,
};

// Counts of one run (hygiene::CleanSummary plus what the actions did).
struct CleaningRunSummary {
  int64_t rows = 0;
  int64_t kept = 0;
  int64_t removed = 0;
  int64_t duplicates = 0;
  std::vector<std::pair<std::string, int64_t>> by_verdict;
  std::vector<std::pair<std::string, int64_t>> removed_by_reason;
  int64_t suppressed_added = 0;
  int64_t flagged = 0;
};

struct CleaningJobRun {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string job_id;
  CleaningRunState state = CleaningRunState::kUnspecified;
  absl::Time start_time = absl::UnixEpoch();
  absl::Time end_time = absl::InfiniteFuture();  // still running
  CleaningRunSummary summary;
  std::string error;
};

struct CleaningJob {
  std::string id;  // public id, "j_..."
  int64_t tenant_id = 0;
  std::string display_name;
  std::string source;
  std::string destination;
  std::string schedule;  // 5-field cron, UTC; "" = on demand only
  bool offline = false;
  bool remove_risky = false;
  std::string stream;  // suppression scope checked besides tenant-wide
  CleaningJobAction on_undeliverable = CleaningJobAction::kUnspecified;
  CleaningJobAction on_risky = CleaningJobAction::kUnspecified;
  absl::Time create_time = absl::UnixEpoch();
  // InfiniteFuture: not scheduled (on demand only, or nothing due).
  absl::Time next_run_time = absl::InfiniteFuture();
  // Failed runs since the last success (drives the retry back-off).
  int consecutive_failures = 0;
  // Filled by reads when the job has run at least once.
  std::optional<CleaningJobRun> last_run;
};

struct ApiKey {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string tenant_name;
  std::string prefix;  // the first characters, to tell keys apart in logs
  std::string label;
  absl::Time create_time = absl::UnixEpoch();
  bool revoked = false;
};

// Alerts (server/alerts). A channel's and a rule's settings are `spec`, an
// opaque encoding owned by the API layer (as a message's `content`); the
// store keeps the columns it must search or check.
struct AlertChannelRow {
  int64_t tenant_id = 0;
  std::string name;  // unique per tenant; [a-z0-9-]
  int type = 0;      // the API's AlertChannelType
  std::string spec;
  absl::Time create_time = absl::UnixEpoch();
};

struct AlertRuleRow {
  int64_t tenant_id = 0;
  std::string id;  // public id, "r_...", assigned by the API layer
  int kind = 0;    // the API's AlertKind
  // Names of the tenant's channels that receive the rule's alerts.
  std::vector<std::string> channels;
  std::string spec;
  absl::Time create_time = absl::UnixEpoch();
};

// One alert as sent to one channel. `record` is opaque (API layer).
struct AlertRecordRow {
  int64_t id = 0;  // assigned by the store; increases with insertion
  int64_t tenant_id = 0;
  int kind = 0;
  std::string channel;
  std::string rule_id;  // "" for a test alert
  bool accepted = false;
  absl::Time create_time = absl::UnixEpoch();
  std::string record;
};

// The oldest message of a tenant still queued or waiting.
struct OldestUnsentMessage {
  int64_t tenant_id = 0;
  std::string message_id;
  MessageStatus status = MessageStatus::kQueued;
  absl::Time create_time = absl::UnixEpoch();
  int64_t unsent_count = 0;  // the tenant's queued + waiting messages
};

// A named time window shared by every replica (alert cooldowns, scheduled
// domain checks), with a note its holder may keep there.
struct AlertWindow {
  bool claimed = false;  // the window was free and now ends at `until`
  std::string note;      // as last set (kept across claims)
};

// An event about `message` (tenant, id), the one way every layer builds
// them. `recipient` is empty when the event is about every recipient.
Event MessageEvent(const Message& message, EventType type, absl::Time time,
                   std::string recipient, std::string source,
                   std::string detail);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_TYPES_H_
