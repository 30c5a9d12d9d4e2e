#include "server/feedback/bounce_feedback.h"

#include <string>

#include "absl/strings/ascii.h"
#include "server/store/sha256.h"

namespace deliverd::feedback {

std::vector<FeedbackItem> ItemsFromBounce(
    const hygiene::bounce::BounceReport& report) {
  using hygiene::bounce::BounceKind;
  std::vector<FeedbackItem> items;
  if (!report.is_bounce) return items;
  for (const hygiene::bounce::BounceRecipient& r : report.recipients) {
    FeedbackItem item;
    std::string action = absl::AsciiStrToLower(r.action);
    if (report.kind == BounceKind::kArf) {
      item.kind = FeedbackKind::kComplaint;
    } else if (report.kind == BounceKind::kAutoReply) {
      item.kind = FeedbackKind::kAutoReply;
    } else if (action == "delivered" || action == "relayed" ||
               action == "expanded") {
      item.kind = FeedbackKind::kDelivered;
    } else if (action == "delayed") {
      item.kind = FeedbackKind::kDelayed;
    } else {
      item.kind = FeedbackKind::kBounce;
    }
    item.recipient = r.address;
    item.reason = r.reason;
    item.bounce_class = r.bounce_class;
    item.action = r.action;
    item.status = r.status;
    item.reply_code = r.reply_code.value_or(0);
    item.diagnostic = r.diagnostic;
    item.remote_host = r.remote_mta;
    item.feedback_type = r.feedback_type;
    item.source = std::string(hygiene::bounce::BounceKindName(report.kind));
    item.ref.verp_address = report.verp_address;
    item.ref.deliverd_id = report.deliverd_id;
    item.ref.rfc822_message_id = report.original_message_id;
    items.push_back(std::move(item));
  }
  return items;
}

absl::StatusOr<RawFeedback> ReadRawFeedback(
    absl::string_view raw, const ListUnsubscribeConfig* list_unsubscribe) {
  absl::StatusOr<hygiene::bounce::BounceReport> report =
      hygiene::bounce::ParseBounce(raw);
  if (!report.ok()) return report.status();
  RawFeedback out;
  out.report = *std::move(report);
  std::optional<std::string> token;
  if (list_unsubscribe != nullptr && !out.report.is_bounce) {
    token = UnsubscribeTokenInHeaders(raw);
  }
  absl::StatusOr<std::string> id =
      token.has_value()
          ? VerifyUnsubscribeToken(list_unsubscribe->secret, *token)
          : absl::StatusOr<std::string>(absl::NotFoundError("no token"));
  if (id.ok()) {
    FeedbackItem item;
    item.kind = FeedbackKind::kUnsubscribe;
    item.source = "list-unsubscribe";
    item.ref.deliverd_id = *id;
    out.items.push_back(std::move(item));
  } else {
    out.items = ItemsFromBounce(out.report);
  }
  out.source.trusted = false;
  out.source.digest = store::Sha256Hex(raw);
  return out;
}

}  // namespace deliverd::feedback
