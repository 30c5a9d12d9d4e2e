#include "server/alerts/email_alert.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "hygiene/address.h"
#include "server/alerts/truncate.h"
#include "server/delivery/composer.h"
#include "server/store/types.h"

namespace deliverd::alerts {
namespace {

// Bytes of a refusal's reply text quoted in the record's error.
constexpr size_t kMaxReplyTextBytes = 200;

// Where a Message-ID's right side cannot come from the From address (an
// address literal): RFC 2606 reserves .invalid.
constexpr absl::string_view kFallbackIdDomain = "deliverd.invalid";

// The composed message and its envelope, all addresses normalised.
struct PreparedEmail {
  std::string id;  // "alert_<32 hex>": X-Deliverd-Id and the envelope id
  std::string data;
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  bool smtputf8 = false;
};

// 128 random bits as 32 lower-case hex digits.
std::string RandomToken() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Never expected; a Message-ID only has to be unique, not secret.
    thread_local std::mt19937_64 engine{std::random_device{}()};
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(engine());
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// The title as one header-safe line: controls (CR, LF, NUL, TAB...) and DEL
// become spaces, runs of spaces collapse, ill-formed UTF-8 is replaced
// (TruncateUtf8), and the result fits kMaxTitleBytes.
std::string SubjectLine(const Alert& alert) {
  std::string line;
  line.reserve(alert.title.size());
  for (char c : alert.title) {
    const unsigned char u = static_cast<unsigned char>(c);
    const bool blank = u < 0x20 || u == 0x7f || u == ' ';
    if (blank) {
      if (!line.empty() && line.back() != ' ') line.push_back(' ');
    } else {
      line.push_back(c);
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  line = TruncateUtf8(line, kMaxTitleBytes);
  if (line.empty()) line = std::string(AlertKindName(alert.kind));
  return absl::StrCat(kEmailAlertSubjectPrefix, line);
}

// RenderAlertText with NULs (which the composer refuses in a text body)
// replaced by U+FFFD.
std::string BodyText(const Alert& alert) {
  return absl::StrReplaceAll(RenderAlertText(alert),
                             {{absl::string_view("\0", 1), "\xEF\xBF\xBD"}});
}

absl::StatusOr<hygiene::ParsedAddress> ParseSetting(absl::string_view field,
                                                    absl::string_view value) {
  absl::StatusOr<hygiene::ParsedAddress> parsed = hygiene::ParseAddress(value);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("email alert settings: ", field, ": not a valid address (",
                     parsed.status().message(), ")"));
  }
  return parsed;
}

absl::StatusOr<PreparedEmail> PrepareEmail(const Alert& alert,
                                           const EmailAlertSettings& settings,
                                           const std::vector<std::string>& to,
                                           absl::Time now) {
  absl::StatusOr<hygiene::ParsedAddress> from =
      ParseSetting("from", settings.from);
  if (!from.ok()) return from.status();
  absl::StatusOr<hygiene::ParsedAddress> envelope_from = from;
  if (!settings.envelope_from.empty()) {
    envelope_from = ParseSetting("envelope_from", settings.envelope_from);
    if (!envelope_from.ok()) return envelope_from.status();
  }
  if (absl::Status valid = ValidateEmailAlertRecipients(to); !valid.ok()) {
    return valid;
  }

  PreparedEmail out;
  out.id = absl::StrCat("alert_", RandomToken());
  out.mail_from = envelope_from->normalized;
  out.smtputf8 = from->smtputf8 || envelope_from->smtputf8;

  delivery::ComposeInput in;
  in.from.address = from->normalized;
  in.from.display_name = std::string(kEmailAlertFromName);
  for (const std::string& address : to) {
    // Validated above.
    const hygiene::ParsedAddress parsed = *hygiene::ParseAddress(address);
    out.smtputf8 |= parsed.smtputf8;
    out.rcpt_to.push_back(parsed.normalized);
    in.to.push_back({parsed.normalized, ""});
  }
  in.subject = SubjectLine(alert);
  in.text_body = BodyText(alert);
  // RFC 3834 for responders that follow it; X-Auto-Response-Suppress for
  // Exchange and Outlook, which do not.
  in.headers = {{"Auto-Submitted", "auto-generated"},
                {"X-Auto-Response-Suppress", "All"}};
  in.message_id = absl::StrCat(
      out.id, "@", from->ip_literal ? kFallbackIdDomain : from->domain_ascii);
  in.date = now;
  in.deliverd_id = out.id;
  absl::StatusOr<std::string> data = delivery::ComposeMessage(in);
  if (!data.ok()) return data.status();
  out.data = *std::move(data);
  return out;
}

std::string FormatReply(const store::Reply& reply) {
  std::string out;
  if (reply.code != 0) absl::StrAppend(&out, reply.code);
  if (!reply.enhanced_code.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : " ", reply.enhanced_code);
  }
  if (!reply.text.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    TruncateUtf8(reply.text, kMaxReplyTextBytes));
  }
  return out.empty() ? "no reply" : out;
}

enum class RecipientState { kPending, kAccepted, kRefused };

struct RecipientStatus {
  std::string address;
  RecipientState state = RecipientState::kPending;
  bool has_reply = false;
  store::Reply reply;  // the last one seen
};

// "refused: a@x (550 ...), b@y (...); deferred: c@z (451 ...)"; pending
// recipients of an attempt the transport could not make at all are listed
// with its error instead.
std::string DescribeFailures(const std::vector<RecipientStatus>& recipients,
                             const absl::Status& transport_error) {
  std::vector<std::string> refused, pending;
  for (const RecipientStatus& r : recipients) {
    if (r.state == RecipientState::kRefused) {
      refused.push_back(
          absl::StrCat(r.address, " (", FormatReply(r.reply), ")"));
    } else if (r.state == RecipientState::kPending) {
      pending.push_back(
          transport_error.ok() && r.has_reply
              ? absl::StrCat(r.address, " (", FormatReply(r.reply), ")")
              : r.address);
    }
  }
  std::vector<std::string> parts;
  if (!refused.empty()) {
    parts.push_back(absl::StrCat("refused: ", absl::StrJoin(refused, ", ")));
  }
  if (!pending.empty()) {
    if (!transport_error.ok()) {
      parts.push_back(absl::StrCat("not sent to ", absl::StrJoin(pending, ", "),
                                   ": ", transport_error.ToString()));
    } else {
      parts.push_back(absl::StrCat("deferred: ", absl::StrJoin(pending, ", ")));
    }
  }
  return TruncateUtf8(absl::StrJoin(parts, "; "), kMaxEmailErrorBytes);
}

// The reply code of the last recipient not accepted that has one, else of
// the last accepted one; `previous` if none has a reply.
int LastReplyCode(const std::vector<RecipientStatus>& recipients,
                  int previous) {
  int failed = 0, accepted = 0;
  for (const RecipientStatus& r : recipients) {
    if (!r.has_reply || r.reply.code == 0) continue;
    (r.state == RecipientState::kAccepted ? accepted : failed) = r.reply.code;
  }
  if (failed != 0) return failed;
  if (accepted != 0) return accepted;
  return previous;
}

}  // namespace

absl::Status ValidateEmailAlertRecipients(const std::vector<std::string>& to) {
  if (to.empty()) {
    return absl::InvalidArgumentError(
        "email_to: at least one address is required");
  }
  if (to.size() > kMaxEmailAlertRecipients) {
    return absl::InvalidArgumentError(
        absl::StrCat("email_to: at most ", kMaxEmailAlertRecipients,
                     " addresses (got ", to.size(), ")"));
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < to.size(); ++i) {
    absl::StatusOr<hygiene::ParsedAddress> parsed =
        hygiene::ParseAddress(to[i]);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("email_to[", i, "]: not a valid address (",
                       parsed.status().message(), ")"));
    }
    auto [it, inserted] = seen.emplace(parsed->normalized, i);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("email_to[", i, "]: is the same address as email_to[",
                       it->second, "]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ComposeAlertEmail(
    const Alert& alert, const EmailAlertSettings& settings,
    const std::vector<std::string>& to, absl::Time now) {
  absl::StatusOr<PreparedEmail> prepared =
      PrepareEmail(alert, settings, to, now);
  if (!prepared.ok()) return prepared.status();
  return std::move(prepared->data);
}

EmailAlertDelivery::EmailAlertDelivery(delivery::Transport* transport,
                                       Clock* clock, RetryPolicy policy)
    : transport_(transport), clock_(clock), policy_(std::move(policy)) {}

void EmailAlertDelivery::SetRandomForTesting(std::function<double()> random) {
  random_.Set(std::move(random));
}

DeliveryRecord EmailAlertDelivery::Deliver(absl::string_view channel,
                                           const Alert& alert,
                                           const EmailAlertSettings& settings,
                                           const std::vector<std::string>& to,
                                           const absl::Notification* cancel) {
  DeliveryRecord record;
  record.channel = std::string(channel);
  record.destination =
      TruncateUtf8(absl::StrCat("email:", absl::StrJoin(to, ", ")),
                   kMaxEmailDestinationBytes);
  const absl::Time start = clock_->Now();
  record.first_attempt = start;
  record.last_attempt = start;

  absl::StatusOr<PreparedEmail> prepared =
      PrepareEmail(alert, settings, to, start);
  if (!prepared.ok()) {
    record.error =
        TruncateUtf8(absl::StrCat("not sent: ", prepared.status().ToString()),
                     kMaxEmailErrorBytes);
    return record;
  }

  std::vector<RecipientStatus> recipients;
  for (const std::string& address : prepared->rcpt_to) {
    RecipientStatus status;
    status.address = address;
    recipients.push_back(std::move(status));
  }
  delivery::Envelope envelope;
  envelope.mail_from = prepared->mail_from;
  envelope.message_id = prepared->id;
  envelope.smtputf8 = prepared->smtputf8;

  const int max_attempts = std::max(1, policy_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    const absl::Time now = attempt == 1 ? start : clock_->Now();
    record.last_attempt = now;
    record.attempts = attempt;

    // Only the recipients still pending; `sent[i]` indexes `recipients`.
    envelope.rcpt_to.clear();
    std::vector<size_t> sent;
    for (size_t i = 0; i < recipients.size(); ++i) {
      if (recipients[i].state != RecipientState::kPending) continue;
      envelope.rcpt_to.push_back(recipients[i].address);
      sent.push_back(i);
    }

    const absl::StatusOr<delivery::TransportResult> result =
        transport_->Send(envelope, prepared->data);
    bool retryable = false;
    absl::Status transport_error;
    if (!result.ok()) {
      transport_error = result.status();
      retryable = absl::IsUnavailable(transport_error) ||
                  absl::IsDeadlineExceeded(transport_error);
    } else {
      for (size_t k = 0; k < sent.size(); ++k) {
        RecipientStatus& r = recipients[sent[k]];
        if (k >= result->recipients.size()) {
          // A transport that breaks its contract: try this one again.
          r.has_reply = true;
          r.reply = store::Reply{};
          r.reply.text = "no outcome from the transport";
          retryable = true;
          continue;
        }
        const delivery::RecipientOutcome& outcome = result->recipients[k];
        r.has_reply = true;
        r.reply = outcome.reply;
        switch (outcome.outcome) {
          case delivery::Outcome::kAccepted:
            r.state = RecipientState::kAccepted;
            break;
          case delivery::Outcome::kPermanent:
            r.state = RecipientState::kRefused;
            break;
          case delivery::Outcome::kTransient:
            retryable = true;
            break;
        }
      }
    }

    record.status_code = LastReplyCode(recipients, record.status_code);
    record.accepted = std::all_of(recipients.begin(), recipients.end(),
                                  [](const RecipientStatus& r) {
                                    return r.state == RecipientState::kAccepted;
                                  });
    record.error =
        record.accepted ? "" : DescribeFailures(recipients, transport_error);
    const bool any_pending = std::any_of(
        recipients.begin(), recipients.end(), [](const RecipientStatus& r) {
          return r.state == RecipientState::kPending;
        });
    if (!any_pending || !retryable || attempt >= max_attempts) return record;

    const absl::Duration wait = BackoffDelay(policy_, attempt, random_.Next());
    if (!WaitBeforeRetry(clock_, wait, cancel, &record)) return record;
  }
}

}  // namespace deliverd::alerts
