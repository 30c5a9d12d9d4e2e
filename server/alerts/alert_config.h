// A tenant's alert channels and rules: the plain types the alert engine
// works with, their validation (every error INVALID_ARGUMENT naming the
// field and the reason), the defaults a rule gets, and the translation from
// and to the API's messages (deliverd.v1.AlertChannel / AlertRule).
//
// In the store a channel's and a rule's `spec` is the serialized API message
// after validation (defaults filled in, secrets included): DecodeChannel /
// DecodeRule turn stored rows back into these types.
//
// Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_ALERT_CONFIG_H_
#define DELIVERD_SERVER_ALERTS_ALERT_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "deliverd/v1/alerts.pb.h"
#include "server/alerts/alert.h"
#include "server/alerts/twilio_payload.h"
#include "server/store/types.h"

namespace deliverd::alerts {

enum class ChannelType {
  kSlack = 1,
  kDiscord = 2,
  kTeams = 3,
  kWebhook = 4,
  kEmail = 5,
  kSms = 6,
};

struct ChannelConfig {
  int64_t tenant_id = 0;
  std::string name;
  ChannelType type = ChannelType::kSlack;
  std::string url;     // Slack, Discord, Teams, webhook
  std::string secret;  // webhook
  std::vector<std::string> email_to;
  TwilioChannel sms;
  std::vector<std::string> sms_to;
  absl::Time create_time = absl::UnixEpoch();
};

struct RuleConfig {
  int64_t tenant_id = 0;
  std::string id;
  AlertKind kind = AlertKind::kMessageFailed;
  AlertSeverity severity = AlertSeverity::kWarning;
  std::vector<std::string> channels;  // bare names
  double threshold = 0;               // rates
  absl::Duration window = absl::ZeroDuration();
  int64_t min_volume = 0;
  absl::Duration max_age = absl::ZeroDuration();  // queue age
  std::vector<std::string> domains;               // domain checks
  absl::Duration check_interval = absl::ZeroDuration();
  absl::Duration cooldown = absl::ZeroDuration();
  absl::Time create_time = absl::UnixEpoch();
};

inline constexpr double kDefaultBounceRateThreshold = 0.05;
inline constexpr double kDefaultComplaintRateThreshold = 0.003;
inline constexpr absl::Duration kDefaultRateWindow = absl::Hours(1);
inline constexpr int64_t kDefaultMinVolume = 100;
inline constexpr absl::Duration kDefaultMaxQueueAge = absl::Minutes(30);
inline constexpr absl::Duration kDefaultCheckInterval = absl::Hours(1);
inline constexpr absl::Duration kDefaultCooldown = absl::Minutes(15);
inline constexpr int kMaxChannelRecipients = 10;
inline constexpr int kMaxRuleChannels = 10;
inline constexpr int kMaxRuleDomains = 20;

// "alertChannels/ops" or "ops" -> "ops"; INVALID_ARGUMENT naming `field`
// unless the name is 1-63 characters of [a-z0-9-].
absl::StatusOr<std::string> ParseChannelName(absl::string_view field,
                                             absl::string_view name);

// Validates a channel from the API (the "channel." prefix on fields).
absl::StatusOr<ChannelConfig> ChannelFromProto(int64_t tenant_id,
                                               const v1::AlertChannel& proto);
// Validates a rule from the API and fills in its defaults. The id is left
// empty (the caller assigns it).
absl::StatusOr<RuleConfig> RuleFromProto(int64_t tenant_id,
                                         const v1::AlertRule& proto);

// As the API returns them: secrets (webhook secret, SMS auth token) left
// out and URLs redacted when `redact`.
v1::AlertChannel ChannelToProto(const ChannelConfig& channel, bool redact);
v1::AlertRule RuleToProto(const RuleConfig& rule);

// Store rows and back.
store::AlertChannelRow ChannelToRow(const ChannelConfig& channel);
store::AlertRuleRow RuleToRow(const RuleConfig& rule);
absl::StatusOr<ChannelConfig> DecodeChannel(const store::AlertChannelRow& row);
absl::StatusOr<RuleConfig> DecodeRule(const store::AlertRuleRow& row);

v1::AlertKind AlertKindToProto(AlertKind kind);
// INVALID_ARGUMENT for UNSPECIFIED or an unknown value.
absl::StatusOr<AlertKind> AlertKindFromProto(int kind);
v1::AlertSeverity AlertSeverityToProto(AlertSeverity severity);

// absl::Time and the API's Timestamp, to the nanosecond; an infinite time
// leaves `out` unset.
void ToProtoTime(absl::Time time, google::protobuf::Timestamp* out);
absl::Time FromProtoTime(const google::protobuf::Timestamp& time);

// Where a channel's alerts go, safe to show and record: the redacted URL,
// "email:a@x, b@y", "sms:+4477...12" (numbers partly masked).
std::string ChannelDestination(const ChannelConfig& channel);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERT_CONFIG_H_
