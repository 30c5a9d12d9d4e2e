#include "server/alerts/alert_config.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "hygiene/domain_name.h"
#include "server/alerts/email_alert.h"
#include "server/alerts/http_client.h"

namespace deliverd::alerts {
namespace {

constexpr absl::string_view kChannelPrefix = "alertChannels/";
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxSecretBytes = 256;
constexpr size_t kMinSecretBytes = 16;

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

bool HasControlOrSpace(absl::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

absl::Status ValidateUrl(absl::string_view field, absl::string_view url) {
  if (url.empty()) return Invalid(field, "required for this channel type");
  if (url.size() > kMaxUrlBytes) {
    return Invalid(field, absl::StrCat("longer than ", kMaxUrlBytes, " bytes"));
  }
  if (HasControlOrSpace(url)) {
    return Invalid(field, "contains spaces or control characters");
  }
  const std::string lower = absl::AsciiStrToLower(url);
  absl::string_view rest;
  if (absl::StartsWith(lower, "https://")) {
    rest = url.substr(8);
  } else if (absl::StartsWith(lower, "http://")) {
    rest = url.substr(7);
  } else {
    return Invalid(field, "must be an http:// or https:// URL");
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') {
    return Invalid(field, "has no host");
  }
  return absl::OkStatus();
}

// E.164: '+' and 8 to 15 digits, the first not 0.
absl::Status ValidatePhone(absl::string_view field, absl::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' ||
      number[1] == '0') {
    return Invalid(field, "must be an E.164 number (+ and 8 to 15 digits)");
  }
  for (char c : number.substr(1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Invalid(field, "must be an E.164 number (+ and 8 to 15 digits)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> SecondsField(absl::string_view field,
                                            int64_t seconds,
                                            absl::Duration fallback,
                                            absl::Duration min,
                                            absl::Duration max) {
  if (seconds == 0) return fallback;
  const absl::Duration value = absl::Seconds(seconds);
  if (seconds < 0 || value < min || value > max) {
    return Invalid(
        field, absl::StrCat("must be between ", absl::ToInt64Seconds(min),
                            " and ", absl::ToInt64Seconds(max), " seconds"));
  }
  return value;
}

bool IsRateKind(AlertKind kind) {
  return kind == AlertKind::kBounceRate || kind == AlertKind::kComplaintRate;
}

std::string MaskNumber(absl::string_view number) {
  if (number.size() <= 6) return std::string(number);
  return absl::StrCat(number.substr(0, 4), std::string(number.size() - 6, '*'),
                      number.substr(number.size() - 2));
}

}  // namespace

void ToProtoTime(absl::Time time, google::protobuf::Timestamp* out) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return;
  *out = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(time));
}

absl::StatusOr<std::string> ParseChannelName(absl::string_view field,
                                             absl::string_view name) {
  if (absl::StartsWith(name, kChannelPrefix)) {
    name.remove_prefix(kChannelPrefix.size());
  }
  if (name.empty() || name.size() > 63) {
    return Invalid(field, "a channel name is 1 to 63 characters");
  }
  for (char c : name) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return Invalid(field,
                     "a channel name has only a-z, 0-9 and '-' characters");
    }
  }
  return std::string(name);
}

absl::StatusOr<ChannelConfig> ChannelFromProto(int64_t tenant_id,
                                               const v1::AlertChannel& proto) {
  ChannelConfig channel;
  channel.tenant_id = tenant_id;
  absl::StatusOr<std::string> name =
      ParseChannelName("channel.name", proto.name());
  if (!name.ok()) return name.status();
  channel.name = *std::move(name);
  const bool http = proto.type() == v1::ALERT_CHANNEL_TYPE_SLACK ||
                    proto.type() == v1::ALERT_CHANNEL_TYPE_DISCORD ||
                    proto.type() == v1::ALERT_CHANNEL_TYPE_TEAMS ||
                    proto.type() == v1::ALERT_CHANNEL_TYPE_WEBHOOK;
  const bool sms = proto.type() == v1::ALERT_CHANNEL_TYPE_SMS;
  switch (proto.type()) {
    case v1::ALERT_CHANNEL_TYPE_SLACK:
    case v1::ALERT_CHANNEL_TYPE_DISCORD:
    case v1::ALERT_CHANNEL_TYPE_TEAMS:
    case v1::ALERT_CHANNEL_TYPE_WEBHOOK:
    case v1::ALERT_CHANNEL_TYPE_EMAIL:
    case v1::ALERT_CHANNEL_TYPE_SMS:
      channel.type = static_cast<ChannelType>(proto.type());
      break;
    default:
      return Invalid("channel.type",
                     "required (slack, discord, teams, "
                     "webhook, email or sms)");
  }
  // Settings of another type are refused rather than ignored: a caller who
  // sets them has mistaken the type.
  if (!http && !proto.url().empty()) {
    return Invalid("channel.url", "only for slack, discord, teams and webhook");
  }
  if (proto.type() != v1::ALERT_CHANNEL_TYPE_WEBHOOK &&
      !proto.secret().empty()) {
    return Invalid("channel.secret", "only for webhook channels");
  }
  if (proto.type() != v1::ALERT_CHANNEL_TYPE_EMAIL &&
      proto.email_to_size() > 0) {
    return Invalid("channel.email_to", "only for email channels");
  }
  if (!sms) {
    // Named one by one: the error names the field that was set.
    const std::pair<absl::string_view, bool> sms_fields[] = {
        {"channel.sms_base_url", !proto.sms_base_url().empty()},
        {"channel.sms_account_sid", !proto.sms_account_sid().empty()},
        {"channel.sms_auth_token", !proto.sms_auth_token().empty()},
        {"channel.sms_from", !proto.sms_from().empty()},
        {"channel.sms_to", proto.sms_to_size() > 0},
    };
    for (const auto& [field, set] : sms_fields) {
      if (set) return Invalid(field, "only for sms channels");
    }
  }
  if (http) {
    absl::Status url = ValidateUrl("channel.url", proto.url());
    if (!url.ok()) return url;
    channel.url = proto.url();
  }
  if (proto.type() == v1::ALERT_CHANNEL_TYPE_WEBHOOK) {
    if (proto.secret().size() < kMinSecretBytes ||
        proto.secret().size() > kMaxSecretBytes) {
      return Invalid("channel.secret",
                     absl::StrCat("must be ", kMinSecretBytes, " to ",
                                  kMaxSecretBytes, " bytes"));
    }
    channel.secret = proto.secret();
  }
  if (proto.type() == v1::ALERT_CHANNEL_TYPE_EMAIL) {
    channel.email_to.assign(proto.email_to().begin(), proto.email_to().end());
    absl::Status to = ValidateEmailAlertRecipients(channel.email_to);
    if (!to.ok()) {
      // Its message starts with the entry ("email_to[2]: ...") or the list
      // ("email_to: ...").
      if (absl::StartsWith(to.message(), "email_to")) {
        return absl::InvalidArgumentError(
            absl::StrCat("channel.", to.message()));
      }
      return Invalid("channel.email_to", to.message());
    }
  }
  if (sms) {
    if (!proto.sms_base_url().empty()) {
      absl::Status url =
          ValidateUrl("channel.sms_base_url", proto.sms_base_url());
      if (!url.ok()) return url;
      channel.sms.base_url = proto.sms_base_url();
    }
    if (proto.sms_account_sid().empty() ||
        proto.sms_account_sid().size() > 64 ||
        !std::all_of(proto.sms_account_sid().begin(),
                     proto.sms_account_sid().end(), [](char c) {
                       return absl::ascii_isalnum(
                           static_cast<unsigned char>(c));
                     })) {
      return Invalid("channel.sms_account_sid",
                     "required: 1 to 64 letters and digits");
    }
    if (proto.sms_auth_token().empty() || proto.sms_auth_token().size() > 256 ||
        HasControlOrSpace(proto.sms_auth_token())) {
      return Invalid("channel.sms_auth_token",
                     "required: 1 to 256 characters, no spaces");
    }
    if (proto.sms_from().empty() || proto.sms_from().size() > 64 ||
        HasControlOrSpace(proto.sms_from())) {
      return Invalid("channel.sms_from",
                     "required: the sending number or sender id");
    }
    if (proto.sms_to_size() < 1 ||
        proto.sms_to_size() > kMaxChannelRecipients) {
      return Invalid("channel.sms_to",
                     absl::StrCat("1 to ", kMaxChannelRecipients, " numbers"));
    }
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < proto.sms_to_size(); ++i) {
      const std::string field = absl::StrCat("channel.sms_to[", i, "]");
      absl::Status number = ValidatePhone(field, proto.sms_to(i));
      if (!number.ok()) return number;
      if (!seen.insert(proto.sms_to(i)).second) {
        return Invalid(field, "listed twice");
      }
      channel.sms_to.push_back(proto.sms_to(i));
    }
    channel.sms.account_sid = proto.sms_account_sid();
    channel.sms.auth_token = proto.sms_auth_token();
    channel.sms.from = proto.sms_from();
  }
  if (proto.has_create_time()) {
    channel.create_time = FromProtoTime(proto.create_time());
  }
  return channel;
}

absl::StatusOr<RuleConfig> RuleFromProto(int64_t tenant_id,
                                         const v1::AlertRule& proto) {
  RuleConfig rule;
  rule.tenant_id = tenant_id;
  if (proto.kind() == v1::ALERT_KIND_TEST) {
    return Invalid("rule.kind", "TEST alerts are sent with SendTestAlert");
  }
  absl::StatusOr<AlertKind> kind = AlertKindFromProto(proto.kind());
  if (!kind.ok()) return Invalid("rule.kind", "required");
  rule.kind = *kind;
  switch (proto.severity()) {
    case v1::ALERT_SEVERITY_UNSPECIFIED:
      rule.severity = rule.kind == AlertKind::kMessageFailed ||
                              rule.kind == AlertKind::kQueueAge
                          ? AlertSeverity::kCritical
                          : AlertSeverity::kWarning;
      break;
    case v1::ALERT_SEVERITY_WARNING:
      rule.severity = AlertSeverity::kWarning;
      break;
    case v1::ALERT_SEVERITY_CRITICAL:
      rule.severity = AlertSeverity::kCritical;
      break;
    default:
      return Invalid("rule.severity", "unknown value");
  }
  if (proto.channels_size() < 1 || proto.channels_size() > kMaxRuleChannels) {
    return Invalid("rule.channels",
                   absl::StrCat("1 to ", kMaxRuleChannels, " channels"));
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < proto.channels_size(); ++i) {
    const std::string field = absl::StrCat("rule.channels[", i, "]");
    absl::StatusOr<std::string> name =
        ParseChannelName(field, proto.channels(i));
    if (!name.ok()) return name.status();
    if (!seen.insert(*name).second) return Invalid(field, "listed twice");
    rule.channels.push_back(*std::move(name));
  }
  // Settings of another kind, each named by itself.
  const bool rate = IsRateKind(rule.kind);
  const struct {
    absl::string_view field;
    bool set;
    bool allowed;
    absl::string_view kinds;
  } kind_fields[] = {
      {"rule.threshold", proto.threshold() != 0, rate,
       "BOUNCE_RATE and COMPLAINT_RATE"},
      {"rule.window_seconds", proto.window_seconds() != 0, rate,
       "BOUNCE_RATE and COMPLAINT_RATE"},
      {"rule.min_volume", proto.min_volume() != 0, rate,
       "BOUNCE_RATE and COMPLAINT_RATE"},
      {"rule.max_age_seconds", proto.max_age_seconds() != 0,
       rule.kind == AlertKind::kQueueAge, "QUEUE_AGE"},
      {"rule.domains", proto.domains_size() > 0,
       rule.kind == AlertKind::kDomainAuthRegressed, "DOMAIN_AUTH_REGRESSED"},
      {"rule.check_interval_seconds", proto.check_interval_seconds() != 0,
       rule.kind == AlertKind::kDomainAuthRegressed, "DOMAIN_AUTH_REGRESSED"},
  };
  for (const auto& f : kind_fields) {
    if (f.set && !f.allowed) {
      return Invalid(f.field, absl::StrCat("only for ", f.kinds));
    }
  }
  if (rate) {
    const double fallback = rule.kind == AlertKind::kBounceRate
                                ? kDefaultBounceRateThreshold
                                : kDefaultComplaintRateThreshold;
    if (proto.threshold() == 0) {
      rule.threshold = fallback;
    } else if (!(proto.threshold() > 0 && proto.threshold() <= 1)) {
      return Invalid("rule.threshold",
                     "a fraction above 0 and at most 1 (0.001 = 0.1%)");
    } else {
      rule.threshold = proto.threshold();
    }
    absl::StatusOr<absl::Duration> window =
        SecondsField("rule.window_seconds", proto.window_seconds(),
                     kDefaultRateWindow, absl::Minutes(1), absl::Hours(24 * 7));
    if (!window.ok()) return window.status();
    rule.window = *window;
    if (proto.min_volume() < 0 || proto.min_volume() > 1000000000) {
      return Invalid("rule.min_volume", "between 1 and 1,000,000,000");
    }
    rule.min_volume =
        proto.min_volume() == 0 ? kDefaultMinVolume : proto.min_volume();
  }
  if (rule.kind == AlertKind::kQueueAge) {
    absl::StatusOr<absl::Duration> age = SecondsField(
        "rule.max_age_seconds", proto.max_age_seconds(), kDefaultMaxQueueAge,
        absl::Minutes(1), absl::Hours(24 * 30));
    if (!age.ok()) return age.status();
    rule.max_age = *age;
  }
  if (rule.kind == AlertKind::kDomainAuthRegressed) {
    if (proto.domains_size() < 1 || proto.domains_size() > kMaxRuleDomains) {
      return Invalid("rule.domains",
                     absl::StrCat("1 to ", kMaxRuleDomains, " domains"));
    }
    absl::flat_hash_set<std::string> domains;
    for (int i = 0; i < proto.domains_size(); ++i) {
      const std::string field = absl::StrCat("rule.domains[", i, "]");
      absl::StatusOr<std::string> domain =
          hygiene::NormalizeDomain(proto.domains(i));
      if (!domain.ok()) return Invalid(field, domain.status().message());
      if (!domains.insert(*domain).second)
        return Invalid(field, "listed twice");
      rule.domains.push_back(*std::move(domain));
    }
    absl::StatusOr<absl::Duration> interval = SecondsField(
        "rule.check_interval_seconds", proto.check_interval_seconds(),
        kDefaultCheckInterval, absl::Minutes(5), absl::Hours(24 * 7));
    if (!interval.ok()) return interval.status();
    rule.check_interval = *interval;
  }
  absl::StatusOr<absl::Duration> cooldown =
      SecondsField("rule.cooldown_seconds", proto.cooldown_seconds(),
                   kDefaultCooldown, absl::Seconds(10), absl::Hours(24));
  if (!cooldown.ok()) return cooldown.status();
  rule.cooldown = *cooldown;
  if (proto.has_create_time()) {
    rule.create_time = FromProtoTime(proto.create_time());
  }
  return rule;
}

v1::AlertChannel ChannelToProto(const ChannelConfig& channel, bool redact) {
  v1::AlertChannel proto;
  proto.set_name(absl::StrCat(kChannelPrefix, channel.name));
  proto.set_type(static_cast<v1::AlertChannelType>(channel.type));
  if (!channel.url.empty()) {
    proto.set_url(redact ? RedactUrl(channel.url) : channel.url);
  }
  if (!redact) proto.set_secret(channel.secret);
  for (const std::string& to : channel.email_to) proto.add_email_to(to);
  if (channel.type == ChannelType::kSms) {
    proto.set_sms_base_url(channel.sms.base_url);
    proto.set_sms_account_sid(channel.sms.account_sid);
    if (!redact) proto.set_sms_auth_token(channel.sms.auth_token);
    proto.set_sms_from(channel.sms.from);
    for (const std::string& to : channel.sms_to) proto.add_sms_to(to);
  }
  ToProtoTime(channel.create_time, proto.mutable_create_time());
  return proto;
}

v1::AlertRule RuleToProto(const RuleConfig& rule) {
  v1::AlertRule proto;
  proto.set_name(absl::StrCat("alertRules/", rule.id));
  proto.set_kind(AlertKindToProto(rule.kind));
  for (const std::string& channel : rule.channels) {
    proto.add_channels(absl::StrCat(kChannelPrefix, channel));
  }
  proto.set_severity(AlertSeverityToProto(rule.severity));
  proto.set_threshold(rule.threshold);
  proto.set_window_seconds(absl::ToInt64Seconds(rule.window));
  proto.set_min_volume(rule.min_volume);
  proto.set_max_age_seconds(absl::ToInt64Seconds(rule.max_age));
  for (const std::string& domain : rule.domains) proto.add_domains(domain);
  proto.set_check_interval_seconds(absl::ToInt64Seconds(rule.check_interval));
  proto.set_cooldown_seconds(absl::ToInt64Seconds(rule.cooldown));
  ToProtoTime(rule.create_time, proto.mutable_create_time());
  return proto;
}

store::AlertChannelRow ChannelToRow(const ChannelConfig& channel) {
  store::AlertChannelRow row;
  row.tenant_id = channel.tenant_id;
  row.name = channel.name;
  row.type = static_cast<int>(channel.type);
  row.spec = ChannelToProto(channel, /*redact=*/false).SerializeAsString();
  row.create_time = channel.create_time;
  return row;
}

store::AlertRuleRow RuleToRow(const RuleConfig& rule) {
  store::AlertRuleRow row;
  row.tenant_id = rule.tenant_id;
  row.id = rule.id;
  row.kind = static_cast<int>(AlertKindToProto(rule.kind));
  row.channels = rule.channels;
  row.spec = RuleToProto(rule).SerializeAsString();
  row.create_time = rule.create_time;
  return row;
}

absl::StatusOr<ChannelConfig> DecodeChannel(const store::AlertChannelRow& row) {
  v1::AlertChannel proto;
  if (!proto.ParseFromString(row.spec)) {
    return absl::DataLossError(
        absl::StrCat("alert channel ", row.name, ": unreadable settings"));
  }
  absl::StatusOr<ChannelConfig> channel =
      ChannelFromProto(row.tenant_id, proto);
  if (!channel.ok()) {
    return absl::DataLossError(absl::StrCat("alert channel ", row.name, ": ",
                                            channel.status().message()));
  }
  channel->create_time = row.create_time;
  return channel;
}

absl::StatusOr<RuleConfig> DecodeRule(const store::AlertRuleRow& row) {
  v1::AlertRule proto;
  if (!proto.ParseFromString(row.spec)) {
    return absl::DataLossError(
        absl::StrCat("alert rule ", row.id, ": unreadable settings"));
  }
  absl::StatusOr<RuleConfig> rule = RuleFromProto(row.tenant_id, proto);
  if (!rule.ok()) {
    return absl::DataLossError(
        absl::StrCat("alert rule ", row.id, ": ", rule.status().message()));
  }
  rule->id = row.id;
  rule->create_time = row.create_time;
  return rule;
}

v1::AlertKind AlertKindToProto(AlertKind kind) {
  switch (kind) {
    case AlertKind::kMessageFailed:
      return v1::ALERT_KIND_MESSAGE_FAILED;
    case AlertKind::kHardBounce:
      return v1::ALERT_KIND_HARD_BOUNCE;
    case AlertKind::kComplaint:
      return v1::ALERT_KIND_COMPLAINT;
    case AlertKind::kBounceRate:
      return v1::ALERT_KIND_BOUNCE_RATE;
    case AlertKind::kComplaintRate:
      return v1::ALERT_KIND_COMPLAINT_RATE;
    case AlertKind::kQueueAge:
      return v1::ALERT_KIND_QUEUE_AGE;
    case AlertKind::kDomainAuthRegressed:
      return v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED;
    case AlertKind::kTest:
      return v1::ALERT_KIND_TEST;
  }
  return v1::ALERT_KIND_UNSPECIFIED;
}

absl::StatusOr<AlertKind> AlertKindFromProto(int kind) {
  switch (kind) {
    case v1::ALERT_KIND_MESSAGE_FAILED:
      return AlertKind::kMessageFailed;
    case v1::ALERT_KIND_HARD_BOUNCE:
      return AlertKind::kHardBounce;
    case v1::ALERT_KIND_COMPLAINT:
      return AlertKind::kComplaint;
    case v1::ALERT_KIND_BOUNCE_RATE:
      return AlertKind::kBounceRate;
    case v1::ALERT_KIND_COMPLAINT_RATE:
      return AlertKind::kComplaintRate;
    case v1::ALERT_KIND_QUEUE_AGE:
      return AlertKind::kQueueAge;
    case v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED:
      return AlertKind::kDomainAuthRegressed;
    case v1::ALERT_KIND_TEST:
      return AlertKind::kTest;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown alert kind ", kind));
  }
}

v1::AlertSeverity AlertSeverityToProto(AlertSeverity severity) {
  return severity == AlertSeverity::kCritical ? v1::ALERT_SEVERITY_CRITICAL
                                              : v1::ALERT_SEVERITY_WARNING;
}

std::string ChannelDestination(const ChannelConfig& channel) {
  switch (channel.type) {
    case ChannelType::kEmail:
      return absl::StrCat("email:", absl::StrJoin(channel.email_to, ", "));
    case ChannelType::kSms: {
      std::vector<std::string> masked;
      for (const std::string& to : channel.sms_to)
        masked.push_back(MaskNumber(to));
      return absl::StrCat("sms:", absl::StrJoin(masked, ", "));
    }
    default:
      return RedactUrl(channel.url);
  }
}

}  // namespace deliverd::alerts
