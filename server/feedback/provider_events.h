// Parses an email provider's webhook event (Amazon SES through SNS, Mailgun,
// Postmark, SendGrid) into FeedbackItems: one item per recipient the event is
// about. This is the provider-webhook intake of feedback ingestion; the
// ingester matches the items to stored messages and applies them.
//
// Why hand-written: each provider documents its own JSON shape; the mapping
// from it to our vocabulary (hygiene/bounce/reason.h) is our judgment. JSON
// itself is parsed by protobuf's parser into google::protobuf::Value
// (already a dependency; tested with Debian 12's protobuf 3.21, and only
// uses calls that later versions keep).
//
// Contract
//   * Pure function; no global state; thread-safe.
//   * Authentication is NOT done here: no SNS message signature check, no
//     Mailgun HMAC signature check, no SendGrid ECDSA check. The API layer
//     authenticates the caller (deliverd API key, tenant scoping) before the
//     body reaches this function.
//   * Total on hostile input: any byte sequence gives items or
//     INVALID_ARGUMENT, never a crash. Error messages start with the provider
//     ("mailgun event: ...") and name the field path and the problem; they
//     never echo more than a short, escaped excerpt of the input.
//   * INVALID_ARGUMENT for: an unknown provider; a body over kMaxBodyBytes;
//     a body that is not JSON or not of the provider's shape; a required field
//     missing (event type, recipient, the bounce/complaint/delivery object);
//     a field of the wrong JSON type (a number where a string is expected,
//     ...); a recipient that is not an address ("x@y" with both parts); an
//     event type we do not know; more than kMaxItems events or recipients; an
//     SNS SubscriptionConfirmation (see SES below). One bad event in a
//     SendGrid batch fails the whole batch (the provider retries it).
//   * Events that carry no feedback for us are skipped, not errors (listed
//     per provider below); a body whose events are all skipped gives an empty
//     vector.
//   * Limits: body (and an SNS Message) at most kMaxProviderBodyBytes; JSON
//     nesting at most 32 levels, checked by a linear pre-scan before
//     protobuf parses (protobuf 3.21's parser is quadratic in array depth);
//     at most kMaxProviderItems events per body and elements per array.
//     protobuf's parser refuses duplicate keys and non-UTF-8 text, and is
//     lenient about single-quoted strings; both are fine here.
//   * Lenient on optional values: an unparseable timestamp gives time
//     InfinitePast (the ingester uses the ingestion time); an unparseable
//     status or reply code is left empty / 0 and the text is still
//     classified.
//
// Common item fields
//   * recipient: surrounding spaces and <> removed; the domain part (after the
//     last "@") lower-cased, the local part kept as is.
//   * source: "ses", "mailgun", "postmark", "sendgrid".
//   * Bounces and delays are classified with hygiene::bounce::ClassifyReply()
//     on the receiver's reply: the reply code and enhanced status found in the
//     provider's fields (a "status" field wins over codes found in text), and
//     the diagnostic text. The provider's own category is a hint combined as:
//       1. The receiver's words win: if the classifier names a reason (not
//          unknown), its reason and class are used.
//       2. Otherwise the provider's hint gives the reason (e.g. SES
//          Permanent/NoEmail, Postmark HardBounce, SendGrid "Invalid Address"
//          -> user_unknown) and its class is ClassOfReason(reason).
//       3. A provider saying "temporary" (SES Transient, Mailgun severity
//          temporary, Postmark SoftBounce/Transient, SendGrid deferred) makes
//          the class soft.
//       4. A provider saying "reputation/block" (SendGrid type "blocked" or
//          bounce_classification "Reputation", Postmark Blocked) is never
//          hard: a hard result becomes reason blocked, class soft.
//       5. Hard only when ClassOfReason(reason) is hard; a bounce's class is
//          never none. So a reputation block never comes out hard.
//   * Provider suppressions ("the provider refused to send because the
//     address is on its own suppression list": SES Suppressed and
//     OnAccountSuppressionList, Mailgun reason suppress-*, SendGrid dropped,
//     Postmark ManuallyDeactivated and SubscriptionChange with reason
//     HardBounce) -> kBounce, reason policy, class soft, action "failed".
//     Rationale: the provider's list is not the receiver's evidence (it may
//     hold old bounces, complaints or manual entries, and another route may
//     work); the message is still recorded as not delivered, and repeated
//     soft bounces suppress through hygiene/policy. SendGrid dropped "Spam
//     Content" -> spam_detected soft.
//   * Complaints: reason complaint, class none, feedback_type from the
//     provider (SES complaintFeedbackType) or "abuse" when the provider only
//     says "spam complaint" (Mailgun, Postmark, SendGrid).
//   * Delivered: reason delivered, class none, the remote's reply as
//     diagnostic/reply_code/status. Delayed: class soft. Opens/clicks:
//     reason unknown, class none, url for clicks.
//   * event_id: the provider's unique id; empty when it has none (the
//     ingester fingerprints the content).
//
// Amazon SES (provider "ses")
//   * Body: an SNS envelope {"Type":"Notification","MessageId","Message"}
//     whose Message is the SES notification as a JSON string, or the SES
//     notification object itself. SNS "SubscriptionConfirmation" ->
//     INVALID_ARGUMENT telling the operator to confirm at the SubscribeURL
//     (never fetched here); "UnsubscribeConfirmation" -> no items.
//   * Type from notificationType (SNS notifications) or eventType (event
//     publishing). One item per recipient (bouncedRecipients,
//     complainedRecipients, delivery.recipients, delayedRecipients).
//   * Bounce: bounceType Permanent / Transient / Undetermined; subtypes
//     NoEmail -> user_unknown; MailboxFull -> mailbox_full; MessageTooLarge
//     -> message_too_large; ContentRejected, AttachmentRejected ->
//     content_rejected; General / Undetermined -> the classifier only
//     (unknown, soft when it cannot tell); Suppressed,
//     OnAccountSuppressionList -> provider suppression (above). Transient is
//     always soft. A transient SES bounce is final (SES stopped retrying), so
//     it is kBounce, not kDelayed. action/status/diagnosticCode per recipient;
//     remote_host = bounce.remoteMtaIp (reportingMTA is SES's own MTA, not
//     the remote, so it is not used).
//   * Complaint: complaintFeedbackType; complaintSubType
//     OnAccountSuppressionList (SES did not send) -> provider suppression.
//   * Delivery: delivery.smtpResponse, remoteMtaIp. DeliveryDelay: kDelayed,
//     reason from the classifier, else from delayType (MailboxFull,
//     SpamDetected, IPFailure -> blocked, SendingDeferral -> rate_limited,
//     TransientCommunicationFailure -> network_error, InternalFailure and
//     RecipientServerError -> system_error).
//   * Reject (SES found a virus) -> kBounce reason virus, soft, for each
//     mail.destination. Open, Click -> one item for the first
//     mail.destination (SES does not say which of several recipients acted).
//     Subscription -> kUnsubscribe for mail.destination[0]: list "" when
//     newTopicPreferences.unsubscribeAll, else one item per topic now
//     "OptOut" (list = topic name); opt-ins give no item (FeedbackItem has no
//     resubscribe kind).
//   * Skipped: Send, Rendering Failure, AmazonSnsSubscriptionSucceeded.
//   * ref: mail.headers X-Deliverd-Id (else mail.tags deliverd_id) ->
//     deliverd_id; Message-ID header (else commonHeaders.messageId) ->
//     rfc822_message_id; mail.source (the envelope sender) -> verp_address.
//   * event_id: feedbackId + ":" + recipient (one feedbackId covers several
//     recipients); without feedbackId the SNS MessageId + ":" + recipient;
//     else empty. time: the event object's timestamp, else mail.timestamp.
//
// Mailgun (provider "mailgun")
//   * Body: {"signature":{...},"event-data":{...}} or the event-data object
//     alone. The signature is not checked here (see Contract). Legacy
//     form-encoded webhooks are not supported.
//   * failed + severity permanent -> kBounce; failed + severity temporary
//     -> kDelayed (Mailgun retries); reason "suppress-bounce",
//     "suppress-unsubscribe", "suppress-complaint" -> provider suppression;
//     "old" -> expired; "espblock" -> blocked. delivery-status code,
//     enhanced-code, message and description feed the classifier; codes
//     outside 200-599 (Mailgun's own 605, 607, ...) are not reply codes.
//     remote_host = delivery-status.mx-host.
//   * delivered, complained ("abuse"), unsubscribed (list =
//     mailing-list.address when present, else "" = every list; tags are not
//     used because they do not say which tag was unsubscribed), opened,
//     clicked (url).
//   * Skipped: accepted, stored, rejected (Mailgun refused our API request;
//     nothing was sent, so there is no recipient feedback), list_member_*.
//   * ref: user-variables deliverd_id -> deliverd_id; message.headers
//     message-id -> rfc822_message_id; envelope.sender -> verp_address.
//     event_id: id. time: timestamp (float seconds).
//
// Postmark (provider "postmark")
//   * Dispatch on RecordType: Bounce, Delivery, SpamComplaint, Open, Click,
//     SubscriptionChange. Bounce Type: HardBounce, BadEmailAddress ->
//     user_unknown hint (hard unless the Details say otherwise); SoftBounce
//     -> kBounce soft; Transient, DnsError -> kDelayed (network_error for
//     DnsError); SpamNotification -> spam_detected; VirusNotification ->
//     virus; Blocked -> blocked (never hard); DMARCPolicy -> security_error;
//     AddressChange -> has_moved; ManuallyDeactivated -> provider
//     suppression; AutoResponder, ChallengeVerification -> kAutoReply;
//     SpamComplaint -> kComplaint; Unsubscribe -> kUnsubscribe (list "");
//     SMTPApiError, InboundError, TemplateRenderingFailed -> system_error;
//     Subscribe, OpenRelayTest -> skipped; any other type -> classifier on
//     Details, soft when it cannot tell.
//   * SubscriptionChange with SuppressSending true: SuppressionReason
//     ManualSuppression -> kUnsubscribe, list "" (Postmark suppresses per
//     message stream, which is not one of our lists; over-honouring an
//     unsubscribe is the safe failure); HardBounce -> provider suppression
//     (the Bounce record carries the evidence); SpamComplaint -> kComplaint.
//     SuppressSending false (reactivation) -> skipped.
//   * recipient: Email (bounces, complaints) or Recipient (others). time:
//     BouncedAt / DeliveredAt / ReceivedAt / ChangedAt. event_id: ID, taken
//     from the raw JSON text so 64-bit ids keep every digit (a JSON number
//     parsed as double would not); Delivery/Open/Click/SubscriptionChange
//     have no id. ref: Metadata deliverd_id (MessageID is Postmark's own id,
//     not the Message-ID header, so it is not used).
//
// SendGrid (provider "sendgrid")
//   * Body: a JSON array of events (a single event object is accepted too).
//   * delivered; deferred -> kDelayed; bounce (type "bounce" or "blocked",
//     bounce_classification as hint: "Invalid Address" -> user_unknown,
//     "Reputation" -> blocked and never hard, "Content" -> content_rejected,
//     "Frequency or Volume Too High" -> rate_limited, "Technical" ->
//     system_error, "Mailbox Unavailable" -> suspended); dropped -> provider
//     suppression; spamreport ("abuse"); unsubscribe (list "");
//     group_unsubscribe (list = asm_group_id as text); open; click (url).
//   * Skipped: processed, group_resubscribe.
//   * ref: custom arg deliverd_id -> deliverd_id; smtp-id ->
//     rfc822_message_id. event_id: sg_event_id. time: timestamp (seconds).
#ifndef DELIVERD_SERVER_FEEDBACK_PROVIDER_EVENTS_H_
#define DELIVERD_SERVER_FEEDBACK_PROVIDER_EVENTS_H_

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/feedback/feedback_item.h"

namespace deliverd::feedback {

// Bodies over this are refused before parsing. Providers post far less (a
// SendGrid batch is well under it).
inline constexpr size_t kMaxProviderBodyBytes = 1024 * 1024;
// Events in one body (SendGrid batch) and recipients in one event (SES),
// each capped; over it the body is refused.
inline constexpr size_t kMaxProviderItems = 10000;

// provider: "ses", "mailgun", "postmark", "sendgrid" (case-insensitive).
absl::StatusOr<std::vector<FeedbackItem>> ParseProviderEvent(
    absl::string_view provider, absl::string_view body);

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_PROVIDER_EVENTS_H_
