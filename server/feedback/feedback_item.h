// One piece of feedback about one recipient of a message we sent: a bounce,
// a delay notice, a delivery confirmation, a complaint, an unsubscribe, an
// open or a click. Every intake (a raw bounce or feedback report, a
// provider's webhook event, a mail to the unsubscribe address) produces
// these; feedback ingestion matches them to the stored message and applies
// them. Plain data: no gRPC, no SQL.
#ifndef DELIVERD_SERVER_FEEDBACK_FEEDBACK_ITEM_H_
#define DELIVERD_SERVER_FEEDBACK_FEEDBACK_ITEM_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hygiene/bounce/reason.h"

namespace deliverd::feedback {

enum class FeedbackKind {
  kBounce,       // delivery failed for good (hard or soft class)
  kDelayed,      // the remote side is still trying (a "delayed" DSN)
  kDelivered,    // delivery confirmed
  kComplaint,    // the recipient reported the message as spam
  kUnsubscribe,  // the recipient asked to stop receiving a list (or all)
  kOpen,
  kClick,
  kAutoReply,    // vacation and other auto-responders: recorded, no effect
};

absl::string_view FeedbackKindName(FeedbackKind kind);  // "bounce", ...

// How the feedback names the message it is about. Any may be empty; the
// matcher tries them in this order.
struct MessageRef {
  std::string deliverd_id;        // our public id ("m_..."), e.g. X-Deliverd-Id
  std::string verp_address;       // the bounce's envelope recipient
  std::string rfc822_message_id;  // without angle brackets
};

struct FeedbackItem {
  FeedbackKind kind = FeedbackKind::kBounce;
  std::string recipient;  // the address the feedback is about
  hygiene::bounce::Reason reason = hygiene::bounce::Reason::kUnknown;
  hygiene::bounce::BounceClass bounce_class =
      hygiene::bounce::BounceClass::kNone;
  std::string action;  // RFC 3464 action when known
  std::string status;  // enhanced status code ("5.1.1") when known
  int reply_code = 0;  // SMTP reply code when known
  std::string diagnostic;
  std::string remote_host;
  std::string feedback_type;  // complaints: "abuse", "fraud", ...
  std::string list;           // unsubscribes: the list, "" = every list
  std::string url;            // clicks: the link
  // When the provider says it happened; InfinitePast when unknown (the
  // ingestion time is used).
  absl::Time time = absl::InfinitePast();
  // The provider's unique id for this event, when it has one (SES
  // feedbackId, Mailgun event id, SendGrid sg_event_id, Postmark ID);
  // otherwise empty and the ingester fingerprints the content.
  std::string event_id;
  // "dsn", "arf", "ses", "mailgun", "postmark", "sendgrid", ... recorded as
  // the event's source.
  std::string source;
  MessageRef ref;
};

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_FEEDBACK_ITEM_H_
