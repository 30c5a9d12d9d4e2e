// The email alert channel: an alert composed as a plain-text message and
// sent through a delivery::Transport (the SMTP relay, or the outbox in
// development), with the same retry schedule as the HTTP channels.
//
// The message (ComposeAlertEmail):
//   From: "deliverd alerts" <settings.from>
//   To: the channel's recipients
//   Subject: [deliverd] <title>   (title made one line, bounded)
//   Message-ID: <alert.<random>@<domain of settings.from>>
//   Auto-Submitted: auto-generated       (RFC 3834: responders stay silent)
//   X-Auto-Response-Suppress: All        (the same for Exchange/Outlook)
//   text/plain body: RenderAlertText(alert)
// It is built by delivery::ComposeMessage, which encodes non-ASCII text
// (RFC 2047) and refuses CR/LF in header fields; the title is cleaned here
// first so that an odd title never makes an alert undeliverable.
//
// Delivery (EmailAlertDelivery::Deliver) composes the message once (so every
// attempt carries the same Message-ID) and sends it; it retries, after
// BackoffDelay() waits on the Clock, when the transport is unavailable
// (UNAVAILABLE, DEADLINE_EXCEEDED) or some recipients were deferred (4xx,
// Outcome::kTransient) -- then only those recipients. Refused recipients
// (5xx, Outcome::kPermanent) and other transport errors are final. The
// DeliveryRecord says:
//   destination  "email:a@x, b@y" (bounded)
//   status_code  the last SMTP reply code seen: that of a recipient not
//                accepted if there is one, else of an acceptance; 0 if the
//                transport never answered with a reply
//   accepted     every recipient accepted
//   error        e.g. "refused: b@y (550 5.1.1 No such user); deferred:
//                c@z (451 4.3.0 Try later)", or the transport's error
//
// Thread-safety: ComposeAlertEmail and ValidateEmailAlertRecipients are pure
// (ComposeAlertEmail draws a random Message-ID); EmailAlertDelivery::Deliver
// may be called from several threads at once if its Transport and Clock
// allow it (transports must be thread-safe; RealClock() is).
#ifndef DELIVERD_SERVER_ALERTS_EMAIL_ALERT_H_
#define DELIVERD_SERVER_ALERTS_EMAIL_ALERT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/alerts/alert.h"
#include "server/alerts/alert_sender.h"
#include "server/alerts/clock.h"
#include "server/delivery/transport.h"

namespace deliverd::alerts {

// The server's settings for alert mail (one set for every tenant).
struct EmailAlertSettings {
  // The From address (bare addr-spec, e.g. "alerts@deliverd.example.com");
  // its domain also names the Message-ID.
  std::string from;
  // The envelope sender (MAIL FROM), where bounces of alert mail go; empty:
  // `from`.
  std::string envelope_from;
};

// The display name of the From address.
inline constexpr absl::string_view kEmailAlertFromName = "deliverd alerts";
// Prefix of the subject.
inline constexpr absl::string_view kEmailAlertSubjectPrefix = "[deliverd] ";
// Recipients of one email channel.
inline constexpr size_t kMaxEmailAlertRecipients = 10;
// Budget of DeliveryRecord::destination and DeliveryRecord::error.
inline constexpr size_t kMaxEmailDestinationBytes = 500;
inline constexpr size_t kMaxEmailErrorBytes = 1000;

// OK if `to` holds 1 to kMaxEmailAlertRecipients mailboxes, each one that
// hygiene::ParseAddress accepts, none repeated (compared in normalised
// form); else INVALID_ARGUMENT naming the entry, e.g. "email_to[2]: is the
// same address as email_to[0]" or "email_to[1]: not a valid address
// (syntax.missing_at: ...)".
absl::Status ValidateEmailAlertRecipients(const std::vector<std::string>& to);

// The alert as a complete message (CRLF line ends), addressed to `to`,
// dated `now`. INVALID_ARGUMENT if settings.from or a recipient is not a
// valid address (recipients as ValidateEmailAlertRecipients checks them).
absl::StatusOr<std::string> ComposeAlertEmail(
    const Alert& alert, const EmailAlertSettings& settings,
    const std::vector<std::string>& to, absl::Time now);

class EmailAlertDelivery {
 public:
  // `transport` and `clock` must outlive the delivery.
  EmailAlertDelivery(delivery::Transport* transport, Clock* clock,
                     RetryPolicy policy);

  EmailAlertDelivery(const EmailAlertDelivery&) = delete;
  EmailAlertDelivery& operator=(const EmailAlertDelivery&) = delete;

  // Replaces the random source of the jitter (tests); values in [0, 1).
  void SetRandomForTesting(std::function<double()> random);

  // Composes and sends the alert to `to`, retrying as above. If `cancel`
  // (may be null) is notified during a wait, delivery stops with the last
  // outcome, its error ending "(cancelled)". A message that cannot be
  // composed (invalid addresses) is not sent: attempts 0 and the reason.
  DeliveryRecord Deliver(absl::string_view channel, const Alert& alert,
                         const EmailAlertSettings& settings,
                         const std::vector<std::string>& to,
                         const absl::Notification* cancel = nullptr);

  const RetryPolicy& policy() const { return policy_; }

 private:
  delivery::Transport* const transport_;
  Clock* const clock_;
  const RetryPolicy policy_;
  JitterRandom random_;
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_EMAIL_ALERT_H_
