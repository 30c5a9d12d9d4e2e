// From parsed command lines to Alerts-service requests (alerts add-channel,
// rm-channel, add-rule, rm-rule, test, list), and the short text forms of
// alert values used in tables.
//
// Contract: the same local-validation contract as message_requests.h.
// Builders reject what the client knows for sure is wrong (unknown kinds,
// types and severities, malformed thresholds and durations, flags that do
// not belong to the channel type or rule kind, a required setting of the
// type or kind left out, an unreadable or empty secret file) with
// InvalidArgument and a one-line message; the command exits 2 without
// calling the server. Value checks only the server can make (URL and address
// syntax, secret length, ranges) are left to its INVALID_ARGUMENT.
//
// Secrets (the webhook HMAC key, the SMS auth token) never come from argv,
// which other users can read in `ps`: they come from a file (--secret-file,
// --sms-auth-token-file; "-" is standard input) with one trailing newline
// removed, or else from the environment (DELIVERCTL_ALERT_SECRET,
// DELIVERCTL_SMS_AUTH_TOKEN; empty counts as unset). The file wins when both
// are there, as an explicit flag beats the environment elsewhere.
//
// Command-line names: kinds are message-failed, hard-bounce, complaint,
// bounce-rate, complaint-rate, queue-age, domain-auth (and test, for
// `alerts list --kind`); '_' is accepted for '-', and case is ignored.
// Tables print the same names, so output can be pasted back into flags.
#ifndef DELIVERD_CLIENT_ALERT_REQUESTS_H_
#define DELIVERD_CLIENT_ALERT_REQUESTS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/files.h"
#include "client/flags.h"
#include "deliverd/v1/alerts.pb.h"

namespace deliverd::client {

inline constexpr absl::string_view kAlertSecretEnv = "DELIVERCTL_ALERT_SECRET";
inline constexpr absl::string_view kSmsAuthTokenEnv =
    "DELIVERCTL_SMS_AUTH_TOKEN";

using EnvLookup =
    std::function<std::optional<std::string>(absl::string_view name)>;

// "bounce-rate" for ALERT_KIND_BOUNCE_RATE; a number for unknown values.
std::string AlertKindCliName(int kind);

// "message-failed, hard-bounce, ..." for help texts and errors.
std::string AlertRuleKindCliNames();

// A kind's command-line name. `allow_test` admits "test" (a filter of
// `alerts list`; rules cannot have it).
absl::StatusOr<v1::AlertKind> ParseAlertKind(absl::string_view text,
                                             bool allow_test);

std::string AlertChannelTypeCliName(int type);   // "slack"
std::string AlertSeverityCliName(int severity);  // "critical"

// "--threshold": a percentage ("0.3%") or a fraction ("0.003"), above 0 and
// at most 100% (1). Returns the fraction.
absl::StatusOr<double> ParseThreshold(absl::string_view text);

// 0.003 -> "0.3%".
std::string FormatThreshold(double fraction);

// A duration flag ("90s", "15m", "1h", "2d", "1h30m"; times.h) in whole
// seconds; the error names the flag.
absl::StatusOr<int64_t> ParseDurationSeconds(absl::string_view flag,
                                             absl::string_view text);

// 5400 -> "1h30m", 90 -> "1m30s", 172800 -> "2d"; 0 or less -> "-". The
// result parses back with ParseDurationSeconds.
std::string FormatSeconds(int64_t seconds);

// `text` without one trailing "\n" (or "\r\n"): the newline an editor or
// `echo` leaves at the end of a secret file is not part of the secret.
std::string TrimOneTrailingNewline(std::string text);

// "ops" -> "alertChannels/ops"; a full name stays as it is.
std::string AlertChannelName(absl::string_view name_or_id);
// "alertChannels/ops" -> "ops".
std::string BareAlertChannelName(absl::string_view name);
// "r_1" -> "alertRules/r_1"; a full name stays as it is.
std::string AlertRuleName(absl::string_view name_or_id);
// "alertRules/r_1" -> "r_1" (also for "alerts/..." and any other "x/" name).
std::string BareAlertName(absl::string_view name);

// alerts add-channel NAME --type ... (positional 0 is the name).
absl::StatusOr<v1::CreateAlertChannelRequest> BuildCreateAlertChannelRequest(
    const ParsedCommandLine& args, const FileReader& read_file,
    const EnvLookup& get_env);

// alerts add-rule KIND --channel ... (positional 0 is the kind).
absl::StatusOr<v1::CreateAlertRuleRequest> BuildCreateAlertRuleRequest(
    const ParsedCommandLine& args);

// alerts list [--channel] [--kind] [--limit] [--page-token].
absl::StatusOr<v1::ListAlertsRequest> BuildListAlertsRequest(
    const ParsedCommandLine& args);

// One line of a rule's kind-specific settings, in flag names:
// "threshold=0.3% window=1h min-volume=100", "max-age=30m",
// "domains=a.example,b.example interval=1h"; "-" when the kind has none.
std::string AlertRuleParametersText(const v1::AlertRule& rule);

// Where a channel sends: its URL as the server shows it (redacted), or its
// email or SMS recipients, comma-separated; "-" when there is none.
std::string AlertChannelDestinationText(const v1::AlertChannel& channel);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_ALERT_REQUESTS_H_
