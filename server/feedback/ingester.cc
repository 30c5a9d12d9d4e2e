#include "server/feedback/ingester.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/delivery/message_status.h"
#include "server/delivery/return_path.h"
#include "server/feedback/unsubscribe.h"
#include "server/store/sha256.h"

namespace deliverd::feedback {
namespace {

using hygiene::bounce::BounceClass;
using hygiene::bounce::Reason;

// Attempts at applying one item while other writers change its message.
constexpr int kMaxGuardRetries = 5;

// Evidence text kept with suppressions and as event detail.
std::string Evidence(const FeedbackItem& item) {
  std::string text;
  if (item.reply_code != 0) absl::StrAppend(&text, item.reply_code, " ");
  if (!item.status.empty()) absl::StrAppend(&text, item.status, " ");
  absl::StrAppend(&text, item.diagnostic);
  text = std::string(absl::StripAsciiWhitespace(text));
  if (text.size() > 1000) text.resize(1000);
  return text;
}

std::string EventDetail(const FeedbackItem& item) {
  std::string detail(hygiene::bounce::ReasonName(item.reason));
  switch (item.kind) {
    case FeedbackKind::kComplaint:
      if (!item.feedback_type.empty()) {
        detail = absl::StrCat("complaint: ", item.feedback_type);
      }
      return detail;
    case FeedbackKind::kUnsubscribe:
      return item.list.empty() ? "every list"
                               : absl::StrCat("list ", item.list);
    case FeedbackKind::kClick:
      return item.url.substr(0, 1000);
    case FeedbackKind::kOpen:
      return "";
    default:
      break;
  }
  std::string evidence = Evidence(item);
  if (!evidence.empty()) absl::StrAppend(&detail, ": ", evidence);
  return detail;
}

store::Reply ReplyOf(const FeedbackItem& item) {
  store::Reply reply;
  reply.code = item.reply_code;
  reply.enhanced_code = item.status;
  reply.text = item.diagnostic.substr(0, 1000);
  reply.remote_host = item.remote_host;
  return reply;
}

// "<id@domain>" -> "id@domain".
absl::string_view NormalizedMessageId(absl::string_view mid) {
  mid = absl::StripAsciiWhitespace(mid);
  return absl::StripPrefix(absl::StripSuffix(mid, ">"), "<");
}

bool SameAddress(absl::string_view a, absl::string_view b) {
  return absl::EqualsIgnoreCase(a, b);
}

// The message's recipient the item is about: the named one, or the only
// one when the item names none.
store::Recipient* FindRecipient(store::Message& m, absl::string_view address) {
  for (store::Recipient& r : m.recipients) {
    if (SameAddress(r.address, address)) return &r;
  }
  if (address.empty() && m.recipients.size() == 1) return &m.recipients[0];
  return nullptr;
}

bool HasLeftUs(store::MessageStatus status) {
  return status == store::MessageStatus::kSent ||
         status == store::MessageStatus::kConfirmed;
}

store::EventType EventTypeForStatus(store::MessageStatus status) {
  switch (status) {
    case store::MessageStatus::kBounced:
      return store::EventType::kBounced;
    case store::MessageStatus::kBlocked:
      return store::EventType::kBlocked;
    default:
      return store::EventType::kFailed;
  }
}

}  // namespace

absl::string_view ItemOutcomeName(ItemOutcome outcome) {
  switch (outcome) {
    case ItemOutcome::kApplied:
      return "applied";
    case ItemOutcome::kDuplicate:
      return "duplicate";
    case ItemOutcome::kUnmatched:
      return "unmatched";
    case ItemOutcome::kIgnored:
      return "ignored";
  }
  return "unknown";
}

std::string FeedbackFingerprint(const FeedbackItem& item,
                                const FeedbackSource& source) {
  // A provider's event id names the event however its JSON is formatted;
  // otherwise the input's digest does.
  std::string basis = item.event_id.empty()
                          ? absl::StrCat("digest:", source.digest)
                          : absl::StrCat("event:", item.source, ":",
                                         item.event_id);
  return store::Sha256Hex(absl::StrCat(
      basis, "\n", FeedbackKindName(item.kind), "\n",
      absl::AsciiStrToLower(item.recipient), "\n", item.list));
}

store::MessageStatus StatusForBounce(Reason reason, BounceClass bounce_class) {
  if (bounce_class == BounceClass::kHard) return store::MessageStatus::kBounced;
  switch (reason) {
    case Reason::kBlocked:
    case Reason::kSpamDetected:
    case Reason::kPolicy:
    case Reason::kSecurityError:
    case Reason::kVirus:
    case Reason::kContentRejected:
      return store::MessageStatus::kBlocked;
    default:
      return store::MessageStatus::kFailed;
  }
}

std::vector<std::string> CandidateMessageIds(const MessageRef& ref) {
  std::vector<std::string> ids;
  auto add = [&](std::optional<std::string> id) {
    if (id.has_value() &&
        std::find(ids.begin(), ids.end(), *id) == ids.end()) {
      ids.push_back(*std::move(id));
    }
  };
  if (!ref.verp_address.empty()) {
    add(delivery::MessageIdFromReturnPath(ref.verp_address));
  }
  if (!ref.deliverd_id.empty()) add(delivery::ParseMessageId(ref.deliverd_id));
  // Our Message-IDs are "<id>@<sender domain>".
  absl::string_view mid = NormalizedMessageId(ref.rfc822_message_id);
  size_t at = mid.find('@');
  if (at != absl::string_view::npos) {
    add(delivery::ParseMessageId(mid.substr(0, at)));
  }
  return ids;
}

absl::StatusOr<std::optional<store::Message>> FeedbackIngester::Match(
    int64_t tenant_id, const MessageRef& ref) {
  absl::string_view mid = NormalizedMessageId(ref.rfc822_message_id);
  const std::optional<std::string> verp_id =
      delivery::MessageIdFromReturnPath(ref.verp_address);
  const std::optional<std::string> header_id =
      delivery::ParseMessageId(ref.deliverd_id);
  for (const std::string& id : CandidateMessageIds(ref)) {
    absl::StatusOr<store::Message> m =
        store_->GetMessage(tenant_id, id, /*with_content=*/false);
    if (absl::IsNotFound(m.status())) continue;
    if (!m.ok()) return m.status();
    // A Message-ID names our message only with its whole value (another
    // sender's id could share our local part's shape by chance).
    bool named_by_envelope_or_header = verp_id == id || header_id == id;
    if (!named_by_envelope_or_header &&
        !absl::EqualsIgnoreCase(m->rfc822_message_id, mid)) {
      continue;
    }
    return std::optional<store::Message>(*std::move(m));
  }
  return std::optional<store::Message>();
}

absl::StatusOr<hygiene::SoftBouncePolicy> FeedbackIngester::PolicyFor(
    int64_t tenant_id) {
  absl::StatusOr<store::TenantSendPolicy> tenant =
      store_->GetSendPolicy(tenant_id);
  if (absl::IsNotFound(tenant.status())) return policy_;
  if (!tenant.ok()) return tenant.status();
  hygiene::SoftBouncePolicy policy = policy_;
  if (tenant->soft_bounce_half_life_seconds > 0) {
    policy.half_life =
        std::chrono::seconds(tenant->soft_bounce_half_life_seconds);
  }
  if (tenant->soft_bounce_threshold > 0) {
    policy.threshold = tenant->soft_bounce_threshold;
  }
  if (tenant->soft_bounce_suppress_seconds > 0) {
    policy.suppress_for =
        std::chrono::seconds(tenant->soft_bounce_suppress_seconds);
  }
  return policy;
}

absl::StatusOr<IngestResult> FeedbackIngester::Ingest(
    int64_t tenant_id, const std::vector<FeedbackItem>& items,
    const FeedbackSource& source, absl::Time now) {
  IngestResult result;
  for (const FeedbackItem& item : items) {
    absl::StatusOr<Applied> applied = IngestOne(tenant_id, item, source, now);
    if (!applied.ok()) return applied.status();
    result.outcomes.push_back(applied->outcome);
    result.message_ids.push_back(applied->message_id);
    if (!applied->message_id.empty() &&
        std::find(result.matched_messages.begin(),
                  result.matched_messages.end(),
                  applied->message_id) == result.matched_messages.end()) {
      result.matched_messages.push_back(applied->message_id);
    }
    for (std::string& address : applied->suppressed) {
      if (std::find(result.suppressed.begin(), result.suppressed.end(),
                    address) == result.suppressed.end()) {
        result.suppressed.push_back(std::move(address));
      }
    }
  }
  return result;
}

absl::StatusOr<FeedbackIngester::Applied> FeedbackIngester::IngestOne(
    int64_t tenant_id, const FeedbackItem& item, const FeedbackSource& source,
    absl::Time now) {
  Applied applied;
  if (item.kind == FeedbackKind::kAutoReply) return applied;  // kIgnored
  const absl::Time when = item.time == absl::InfinitePast() ? now : item.time;
  const std::string fingerprint = FeedbackFingerprint(item, source);

  for (int attempt = 0; attempt < kMaxGuardRetries; ++attempt) {
    absl::StatusOr<std::optional<store::Message>> matched =
        Match(tenant_id, item.ref);
    if (!matched.ok()) return matched.status();
    std::optional<store::Message>& message = *matched;
    if (!message.has_value() && !source.trusted) {
      applied.outcome = ItemOutcome::kUnmatched;
      return applied;
    }

    store::FeedbackUpdate update;
    update.tenant_id = tenant_id;
    update.fingerprint = fingerprint;
    std::string address = absl::AsciiStrToLower(item.recipient);
    store::Recipient* recipient = nullptr;
    if (message.has_value()) {
      update.message_id = message->id;
      recipient = FindRecipient(*message, item.recipient);
      if (recipient != nullptr) address = absl::AsciiStrToLower(recipient->address);
    }
    store::Event event;
    event.tenant_id = tenant_id;
    event.message_id = update.message_id;
    event.time = when;
    event.recipient = address;
    event.source = item.source;
    event.detail = EventDetail(item);
    event.reply = ReplyOf(item);

    // A recipient's status changes only once the message has left us.
    auto set_recipient = [&](store::MessageStatus status) {
      if (recipient == nullptr || !HasLeftUs(recipient->status)) return;
      recipient->status = status;
      recipient->last_reply = ReplyOf(item);
      recipient->detail = std::string(hygiene::bounce::ReasonName(item.reason));
      store::RecipientFeedback change;
      change.address = recipient->address;
      change.status = status;
      change.detail = recipient->detail;
      change.reply = recipient->last_reply;
      update.recipients.push_back(std::move(change));
    };
    auto suppress = [&](store::SuppressionReason reason, std::string scope,
                        absl::Time expire) {
      if (address.empty()) return;
      store::Suppression s;
      s.tenant_id = tenant_id;
      s.address = address;
      s.reason = reason;
      s.scope = std::move(scope);
      s.create_time = when;
      s.expire_time = expire;
      if (!update.message_id.empty()) {
        s.source_message = absl::StrCat("messages/", update.message_id);
      }
      s.evidence = absl::StrCat(item.source, ": ", EventDetail(item));
      update.new_suppressions.push_back(std::move(s));
    };

    switch (item.kind) {
      case FeedbackKind::kBounce: {
        store::MessageStatus status =
            StatusForBounce(item.reason, item.bounce_class);
        event.type = EventTypeForStatus(status);
        set_recipient(status);
        if (item.bounce_class == BounceClass::kHard) {
          suppress(store::SuppressionReason::kHardBounce, "",
                   absl::InfiniteFuture());
        } else if (!address.empty()) {
          absl::StatusOr<std::optional<store::SoftBounceScore>> stored =
              store_->GetSoftBounceScore(tenant_id, address);
          if (!stored.ok()) return stored.status();
          hygiene::SoftScore current;
          if (stored->has_value()) {
            current.score = (*stored)->score;
            current.time = absl::ToChronoTime((*stored)->updated);
          }
          absl::StatusOr<hygiene::SoftBouncePolicy> policy =
              PolicyFor(tenant_id);
          if (!policy.ok()) return policy.status();
          absl::StatusOr<hygiene::SoftScoreStep> step = hygiene::AddSoftBounce(
              *policy, current, absl::ToChronoTime(when), item.reason);
          if (!step.ok()) return step.status();
          if (step->next.score != current.score || step->suppress) {
            store::SoftBounceScore score;
            score.tenant_id = tenant_id;
            score.address = address;
            score.score = step->next.score;
            score.updated = absl::FromChrono(step->next.time);
            update.scores.push_back(score);
          }
          if (step->suppress) {
            suppress(store::SuppressionReason::kSoftBounce, "",
                     absl::FromChrono(step->until));
          }
        }
        break;
      }
      case FeedbackKind::kDelayed:
        event.type = store::EventType::kDeferred;
        break;
      case FeedbackKind::kDelivered:
        event.type = store::EventType::kConfirmed;
        if (recipient != nullptr &&
            recipient->status == store::MessageStatus::kSent) {
          set_recipient(store::MessageStatus::kConfirmed);
        }
        if (!address.empty()) {
          absl::StatusOr<std::optional<store::SoftBounceScore>> stored =
              store_->GetSoftBounceScore(tenant_id, address);
          if (!stored.ok()) return stored.status();
          if (stored->has_value() && (*stored)->score != 0) {
            store::SoftBounceScore cleared = **stored;
            cleared.score = 0;
            cleared.updated = when;
            update.scores.push_back(cleared);
          }
        }
        break;
      case FeedbackKind::kComplaint:
        event.type = store::EventType::kComplained;
        suppress(store::SuppressionReason::kComplaint, "",
                 absl::InfiniteFuture());
        break;
      case FeedbackKind::kUnsubscribe: {
        event.type = store::EventType::kUnsubscribed;
        if (address.empty()) break;
        UnsubscribeRequest unsubscribe;
        unsubscribe.tenant_id = tenant_id;
        unsubscribe.address = address;
        if (!item.list.empty()) {
          unsubscribe.lists.push_back(item.list);
        } else if (message.has_value() && !message->stream.empty()) {
          unsubscribe.lists.push_back(message->stream);
        }
        unsubscribe.when = when;
        unsubscribe.source = item.source;
        unsubscribe.evidence = absl::StrCat(item.source, ": ", EventDetail(item));
        if (!update.message_id.empty()) {
          unsubscribe.source_message =
              absl::StrCat("messages/", update.message_id);
        }
        absl::StatusOr<std::vector<store::Subscription>> changed =
            AddUnsubscribe(*store_, unsubscribe, &update);
        if (!changed.ok()) return changed.status();
        break;
      }
      case FeedbackKind::kOpen:
        event.type = store::EventType::kOpened;
        break;
      case FeedbackKind::kClick:
        event.type = store::EventType::kClicked;
        break;
      case FeedbackKind::kAutoReply:
        return applied;
    }
    update.events.push_back(event);
    if (!update.recipients.empty()) {
      // Statuses were computed from this read of the message: apply them
      // only if nobody changed it since.
      update.expected_update_time = message->update_time;
      update.message_status = delivery::DeriveMessageStatus(message->recipients);
    }

    absl::StatusOr<bool> done = store_->ApplyFeedback(update);
    if (absl::IsAborted(done.status()) || absl::IsNotFound(done.status())) {
      continue;  // the message changed (or went) under us: match again
    }
    if (!done.ok()) return done.status();
    applied.message_id = update.message_id;
    if (!*done) {
      applied.outcome = ItemOutcome::kDuplicate;
      return applied;
    }
    applied.outcome = ItemOutcome::kApplied;
    for (const store::Suppression& s : update.new_suppressions) {
      applied.suppressed.push_back(s.address);
    }
    return applied;
  }
  return absl::AbortedError(absl::StrCat(
      "feedback for ", item.recipient, " could not be applied: its message "
      "kept changing; try again"));
}

}  // namespace deliverd::feedback
