// Feedback ingestion: matches each FeedbackItem to the message it is about
// and applies it — events on the message's history, the recipient's and the
// message's status, the suppression list, the soft-bounce score and
// subscriptions — once.
//
// Matching (within the caller's tenant only): the VERP return path first,
// then our X-Deliverd-Id, then the RFC 5322 Message-ID (whose local part is
// our id; the stored Message-ID must equal it). The recipient is found in
// the message case-insensitively; a message with one recipient takes
// feedback that names none.
//
// Effects per kind (recipient statuses change only after the message left
// us, i.e. from sent or confirmed; otherwise only the event is recorded):
//   bounce, hard     -> recipient bounced, event bounced, tenant-wide
//                       hard_bounce suppression (no expiry).
//   bounce, soft     -> recipient blocked (reasons about us: blocked,
//                       spam_detected, policy, security_error, virus,
//                       content_rejected; event blocked) or failed (the
//                       rest; event failed). Never suppresses directly: the
//                       address's decaying soft score (hygiene/policy) grows
//                       by the reason's weight and, at the threshold, adds a
//                       soft_bounce suppression that expires.
//   delayed          -> event deferred.
//   delivered        -> recipient confirmed (from sent), event confirmed,
//                       soft score cleared.
//   complaint        -> event complained, tenant-wide complaint suppression.
//   unsubscribe      -> event unsubscribed; the list named (else the
//                       message's stream; else every list the address is
//                       on) is marked unsubscribed and the address suppressed
//                       for that list (reason unsubscribed). Transactional
//                       mail is not affected.
//   open, click      -> event.
//   auto_reply       -> nothing (reported as ignored).
// The message's status is derived from its recipients again
// (delivery::DeriveMessageStatus).
//
// Unmatched feedback: a raw message (anyone can mail a bounce address)
// changes nothing. A provider event (posted with the tenant's API key, so
// trusted) still updates suppressions, subscriptions and scores, with
// message-less events.
//
// Idempotency: every item has a fingerprint (the source's digest or the
// provider's event id, with kind and recipient); the store applies a
// fingerprint once per tenant, so the same bounce twice changes nothing the
// second time.
//
// Thread-safe (the store is); a concurrent change to the same message is
// retried a few times (the store's optimistic guard).
#ifndef DELIVERD_SERVER_FEEDBACK_INGESTER_H_
#define DELIVERD_SERVER_FEEDBACK_INGESTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hygiene/policy.h"
#include "server/feedback/feedback_item.h"
#include "server/store/store.h"

namespace deliverd::feedback {

// Where a batch of items came from: decides trust and the fingerprints.
struct FeedbackSource {
  // True for provider events (trusted: applied even when unmatched).
  bool trusted = false;
  // A digest of the whole input (e.g. SHA-256 of the raw message or body).
  std::string digest;
};

enum class ItemOutcome {
  kApplied,    // matched (or trusted) and applied now
  kDuplicate,  // applied before: nothing changed
  kUnmatched,  // no message found and not trusted: nothing changed
  kIgnored,    // nothing to do (auto-replies)
};

absl::string_view ItemOutcomeName(ItemOutcome outcome);

struct IngestResult {
  std::vector<ItemOutcome> outcomes;         // one per item, in order
  std::vector<std::string> message_ids;      // per item; "" when unmatched
  std::vector<std::string> matched_messages;  // ids, distinct, in order
  std::vector<std::string> suppressed;        // addresses newly suppressed
};

class FeedbackIngester {
 public:
  // `policy` is the default; a tenant's own settings (store::
  // TenantSendPolicy's soft_bounce_* fields, non-zero) override it.
  FeedbackIngester(store::Store* store, hygiene::SoftBouncePolicy policy)
      : store_(store), policy_(policy) {}

  absl::StatusOr<IngestResult> Ingest(int64_t tenant_id,
                                      const std::vector<FeedbackItem>& items,
                                      const FeedbackSource& source,
                                      absl::Time now);

 private:
  struct Applied {
    ItemOutcome outcome = ItemOutcome::kIgnored;
    std::string message_id;
    std::vector<std::string> suppressed;
  };
  absl::StatusOr<Applied> IngestOne(int64_t tenant_id, const FeedbackItem& item,
                                    const FeedbackSource& source,
                                    absl::Time now);
  // The matched message (with recipients), or nullopt.
  absl::StatusOr<std::optional<store::Message>> Match(int64_t tenant_id,
                                                      const MessageRef& ref);

  // The soft-bounce policy for `tenant_id`'s addresses.
  absl::StatusOr<hygiene::SoftBouncePolicy> PolicyFor(int64_t tenant_id);

  store::Store* store_;
  hygiene::SoftBouncePolicy policy_;
};

// The message ids `ref` names, in matching order (VERP, X-Deliverd-Id, the
// local part of the Message-ID), each a well-formed id of ours; duplicates
// removed. A Message-ID candidate must still be checked against the stored
// Message-ID.
std::vector<std::string> CandidateMessageIds(const MessageRef& ref);

// The fingerprint of one item from `source` (hex SHA-256).
std::string FeedbackFingerprint(const FeedbackItem& item,
                                const FeedbackSource& source);

// The recipient status a failed delivery reported afterwards gives.
store::MessageStatus StatusForBounce(hygiene::bounce::Reason reason,
                                     hygiene::bounce::BounceClass bounce_class);

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_INGESTER_H_
