#include "client/alert_requests.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/enum_names.h"
#include "client/flag_values.h"
#include "client/times.h"

namespace deliverd::client {
namespace {

constexpr absl::string_view kChannelPrefix = "alertChannels/";
constexpr absl::string_view kRulePrefix = "alertRules/";

struct KindName {
  v1::AlertKind kind;
  absl::string_view name;
};

// In proto order; "test" last, since only `alerts list` takes it.
constexpr KindName kKindNames[] = {
    {v1::ALERT_KIND_MESSAGE_FAILED, "message-failed"},
    {v1::ALERT_KIND_HARD_BOUNCE, "hard-bounce"},
    {v1::ALERT_KIND_COMPLAINT, "complaint"},
    {v1::ALERT_KIND_BOUNCE_RATE, "bounce-rate"},
    {v1::ALERT_KIND_COMPLAINT_RATE, "complaint-rate"},
    {v1::ALERT_KIND_QUEUE_AGE, "queue-age"},
    {v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED, "domain-auth"},
    {v1::ALERT_KIND_TEST, "test"},
};

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

bool IsRateKind(v1::AlertKind kind) {
  return kind == v1::ALERT_KIND_BOUNCE_RATE ||
         kind == v1::ALERT_KIND_COMPLAINT_RATE;
}

// A flag that belongs to other channel types or rule kinds is a mistake
// about the type or kind, not something to ignore.
absl::Status OnlyFor(const ParsedCommandLine& args, absl::string_view flag,
                     bool allowed, absl::string_view what) {
  if (allowed || !args.Has(flag)) return absl::OkStatus();
  return Invalid(absl::StrCat("--", flag, " is only for ", what));
}

absl::Status Needs(const ParsedCommandLine& args, absl::string_view flag,
                   absl::string_view who) {
  if (args.Has(flag)) return absl::OkStatus();
  return Invalid(absl::StrCat(who, " needs --", flag));
}

// A secret from --<file_flag> FILE, else from $<env>.
absl::StatusOr<std::string> ReadSecret(const ParsedCommandLine& args,
                                       absl::string_view file_flag,
                                       absl::string_view env,
                                       absl::string_view who,
                                       const FileReader& read_file,
                                       const EnvLookup& get_env) {
  if (std::optional<std::string> path = args.Get(file_flag)) {
    absl::StatusOr<std::string> contents = read_file(*path);
    if (!contents.ok()) {
      return Invalid(absl::StrCat("cannot read --", file_flag, " ",
                                  contents.status().message()));
    }
    std::string secret = TrimOneTrailingNewline(*std::move(contents));
    if (secret.empty()) {
      return Invalid(absl::StrCat("--", file_flag, " ", *path, " is empty"));
    }
    return secret;
  }
  if (get_env) {
    std::optional<std::string> value = get_env(env);
    if (value.has_value() && !value->empty()) return *std::move(value);
  }
  return Invalid(
      absl::StrCat(who, " needs --", file_flag, " FILE (or $", env, ")"));
}

absl::StatusOr<int64_t> OptionalSeconds(const ParsedCommandLine& args,
                                        absl::string_view flag) {
  std::optional<std::string> text = args.Get(flag);
  if (!text.has_value()) return 0;
  return ParseDurationSeconds(flag, *text);
}

}  // namespace

std::string AlertKindCliName(int kind) {
  for (const KindName& entry : kKindNames) {
    if (entry.kind == kind) return std::string(entry.name);
  }
  return absl::StrCat(kind);
}

std::string AlertRuleKindCliNames() {
  std::vector<absl::string_view> names;
  for (const KindName& entry : kKindNames) {
    if (entry.kind != v1::ALERT_KIND_TEST) names.push_back(entry.name);
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<v1::AlertKind> ParseAlertKind(absl::string_view text,
                                             bool allow_test) {
  std::string wanted = absl::StrReplaceAll(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(text)), {{"_", "-"}});
  // The proto's name, for those who know it.
  if (wanted == "domain-auth-regressed") wanted = "domain-auth";
  for (const KindName& entry : kKindNames) {
    if (entry.name != wanted) continue;
    if (entry.kind == v1::ALERT_KIND_TEST && !allow_test) break;
    return entry.kind;
  }
  return Invalid(absl::StrCat("unknown alert kind \"", text,
                              "\" (one of: ", AlertRuleKindCliNames(),
                              allow_test ? ", test" : "", ")"));
}

std::string AlertChannelTypeCliName(int type) {
  return EnumCliName(v1::AlertChannelType_descriptor(), type);
}

std::string AlertSeverityCliName(int severity) {
  return EnumCliName(v1::AlertSeverity_descriptor(), severity);
}

absl::StatusOr<double> ParseThreshold(absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  const bool percent = absl::ConsumeSuffix(&number, "%");
  const auto error = [&] {
    return Invalid(absl::StrCat(
        "--threshold needs a percentage like 0.3% or a fraction like 0.003, "
        "above 0 and at most 100%, got \"",
        text, "\""));
  };
  double value;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(number), &value) ||
      !std::isfinite(value) || value <= 0) {
    return error();
  }
  if (percent) value /= 100;
  if (value > 1) {
    if (!percent) {
      return Invalid(absl::StrCat("--threshold ", text,
                                  " is more than 1: a fraction (0.003), or "
                                  "write a percentage with % (",
                                  text, "%)"));
    }
    return error();
  }
  return value;
}

std::string FormatThreshold(double fraction) {
  return absl::StrCat(fraction * 100, "%");
}

absl::StatusOr<int64_t> ParseDurationSeconds(absl::string_view flag,
                                             absl::string_view text) {
  absl::StatusOr<absl::Duration> duration = ParseDuration(text);
  if (!duration.ok()) {
    return Invalid(absl::StrCat("--", flag, ": ", duration.status().message()));
  }
  absl::Duration remainder;
  const int64_t seconds =
      absl::IDivDuration(*duration, absl::Seconds(1), &remainder);
  if (remainder != absl::ZeroDuration()) {
    return Invalid(absl::StrCat("--", flag, " \"", text,
                                "\" is not a whole number of seconds"));
  }
  return seconds;
}

std::string FormatSeconds(int64_t seconds) {
  if (seconds <= 0) return "-";
  std::string text;
  const std::pair<int64_t, absl::string_view> units[] = {
      {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (const auto& [size, unit] : units) {
    if (seconds >= size) {
      absl::StrAppend(&text, seconds / size, unit);
      seconds %= size;
    }
  }
  return text;
}

std::string TrimOneTrailingNewline(std::string text) {
  if (absl::EndsWith(text, "\r\n")) {
    text.resize(text.size() - 2);
  } else if (absl::EndsWith(text, "\n")) {
    text.pop_back();
  }
  return text;
}

std::string AlertChannelName(absl::string_view name_or_id) {
  if (absl::StartsWith(name_or_id, kChannelPrefix)) {
    return std::string(name_or_id);
  }
  return absl::StrCat(kChannelPrefix, name_or_id);
}

std::string BareAlertChannelName(absl::string_view name) {
  absl::ConsumePrefix(&name, kChannelPrefix);
  return std::string(name);
}

std::string AlertRuleName(absl::string_view name_or_id) {
  if (absl::StartsWith(name_or_id, kRulePrefix)) {
    return std::string(name_or_id);
  }
  return absl::StrCat(kRulePrefix, name_or_id);
}

std::string BareAlertName(absl::string_view name) {
  const size_t slash = name.rfind('/');
  if (slash != absl::string_view::npos) name.remove_prefix(slash + 1);
  return std::string(name);
}

absl::StatusOr<v1::CreateAlertChannelRequest> BuildCreateAlertChannelRequest(
    const ParsedCommandLine& args, const FileReader& read_file,
    const EnvLookup& get_env) {
  v1::CreateAlertChannelRequest request;
  v1::AlertChannel& channel = *request.mutable_channel();
  channel.set_name(AlertChannelName(args.positionals.at(0)));
  absl::StatusOr<int> type = ParseEnumCliName(v1::AlertChannelType_descriptor(),
                                              args.GetOr("type", ""), "type");
  if (!type.ok()) return type.status();
  channel.set_type(static_cast<v1::AlertChannelType>(*type));
  const bool webhook = *type == v1::ALERT_CHANNEL_TYPE_WEBHOOK;
  const bool http = webhook || *type == v1::ALERT_CHANNEL_TYPE_SLACK ||
                    *type == v1::ALERT_CHANNEL_TYPE_DISCORD ||
                    *type == v1::ALERT_CHANNEL_TYPE_TEAMS;
  const bool email = *type == v1::ALERT_CHANNEL_TYPE_EMAIL;
  const bool sms = *type == v1::ALERT_CHANNEL_TYPE_SMS;
  const std::string who =
      absl::StrCat("--type ", AlertChannelTypeCliName(*type));

  for (const absl::Status& s : {
           OnlyFor(args, "url", http,
                   "--type slack, discord, teams and webhook"),
           OnlyFor(args, "secret-file", webhook, "--type webhook"),
           OnlyFor(args, "email-to", email, "--type email"),
           OnlyFor(args, "sms-base-url", sms, "--type sms"),
           OnlyFor(args, "sms-account-sid", sms, "--type sms"),
           OnlyFor(args, "sms-auth-token-file", sms, "--type sms"),
           OnlyFor(args, "sms-from", sms, "--type sms"),
           OnlyFor(args, "sms-to", sms, "--type sms"),
       }) {
    if (!s.ok()) return s;
  }

  if (http) {
    if (absl::Status s = Needs(args, "url", who); !s.ok()) return s;
    channel.set_url(args.GetOr("url", ""));
  }
  if (webhook) {
    absl::StatusOr<std::string> secret = ReadSecret(
        args, "secret-file", kAlertSecretEnv, who, read_file, get_env);
    if (!secret.ok()) return secret.status();
    channel.set_secret(*std::move(secret));
  }
  if (email) {
    if (absl::Status s = Needs(args, "email-to", who); !s.ok()) return s;
    for (const std::string& to : args.GetAll("email-to")) {
      channel.add_email_to(to);
    }
  }
  if (sms) {
    for (absl::string_view flag : {"sms-account-sid", "sms-from", "sms-to"}) {
      if (absl::Status s = Needs(args, flag, who); !s.ok()) return s;
    }
    channel.set_sms_base_url(args.GetOr("sms-base-url", ""));
    channel.set_sms_account_sid(args.GetOr("sms-account-sid", ""));
    absl::StatusOr<std::string> token = ReadSecret(
        args, "sms-auth-token-file", kSmsAuthTokenEnv, who, read_file, get_env);
    if (!token.ok()) return token.status();
    channel.set_sms_auth_token(*std::move(token));
    channel.set_sms_from(args.GetOr("sms-from", ""));
    for (const std::string& to : args.GetAll("sms-to")) {
      channel.add_sms_to(to);
    }
  }
  return request;
}

absl::StatusOr<v1::CreateAlertRuleRequest> BuildCreateAlertRuleRequest(
    const ParsedCommandLine& args) {
  v1::CreateAlertRuleRequest request;
  v1::AlertRule& rule = *request.mutable_rule();
  absl::StatusOr<v1::AlertKind> kind =
      ParseAlertKind(args.positionals.at(0), /*allow_test=*/false);
  if (!kind.ok()) return kind.status();
  rule.set_kind(*kind);
  const bool rate = IsRateKind(*kind);
  const bool queue_age = *kind == v1::ALERT_KIND_QUEUE_AGE;
  const bool domain_auth = *kind == v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED;

  for (const absl::Status& s : {
           OnlyFor(args, "threshold", rate,
                   "bounce-rate and complaint-rate rules"),
           OnlyFor(args, "window", rate,
                   "bounce-rate and complaint-rate rules"),
           OnlyFor(args, "min-volume", rate,
                   "bounce-rate and complaint-rate rules"),
           OnlyFor(args, "max-age", queue_age, "queue-age rules"),
           OnlyFor(args, "domain", domain_auth, "domain-auth rules"),
           OnlyFor(args, "interval", domain_auth, "domain-auth rules"),
       }) {
    if (!s.ok()) return s;
  }

  for (const std::string& channel : args.GetAll("channel")) {
    rule.add_channels(AlertChannelName(channel));
  }
  if (std::optional<std::string> text = args.Get("severity")) {
    absl::StatusOr<int> severity =
        ParseEnumCliName(v1::AlertSeverity_descriptor(), *text, "severity");
    if (!severity.ok()) return severity.status();
    rule.set_severity(static_cast<v1::AlertSeverity>(*severity));
  }
  if (std::optional<std::string> text = args.Get("threshold")) {
    absl::StatusOr<double> threshold = ParseThreshold(*text);
    if (!threshold.ok()) return threshold.status();
    rule.set_threshold(*threshold);
  }
  if (std::optional<std::string> text = args.Get("min-volume")) {
    absl::StatusOr<int64_t> volume =
        ParseIntFlag("min-volume", *text, 1, 1000000000);
    if (!volume.ok()) return volume.status();
    rule.set_min_volume(*volume);
  }
  if (domain_auth) {
    if (absl::Status s = Needs(args, "domain", "a domain-auth rule"); !s.ok()) {
      return s;
    }
    for (const std::string& domain : args.GetAll("domain")) {
      rule.add_domains(domain);
    }
  }
  struct DurationField {
    absl::string_view flag;
    void (v1::AlertRule::*set)(int64_t);
  };
  for (const DurationField& field : {
           DurationField{"window", &v1::AlertRule::set_window_seconds},
           DurationField{"max-age", &v1::AlertRule::set_max_age_seconds},
           DurationField{"interval",
                         &v1::AlertRule::set_check_interval_seconds},
           DurationField{"cooldown", &v1::AlertRule::set_cooldown_seconds},
       }) {
    absl::StatusOr<int64_t> seconds = OptionalSeconds(args, field.flag);
    if (!seconds.ok()) return seconds.status();
    (rule.*field.set)(*seconds);
  }
  return request;
}

absl::StatusOr<v1::ListAlertsRequest> BuildListAlertsRequest(
    const ParsedCommandLine& args) {
  v1::ListAlertsRequest request;
  if (std::optional<std::string> channel = args.Get("channel")) {
    request.set_channel(AlertChannelName(*channel));
  }
  if (std::optional<std::string> text = args.Get("kind")) {
    absl::StatusOr<v1::AlertKind> kind =
        ParseAlertKind(*text, /*allow_test=*/true);
    if (!kind.ok()) return kind.status();
    request.set_kind(*kind);
  }
  if (std::optional<std::string> text = args.Get("limit")) {
    absl::StatusOr<int64_t> limit = ParseIntFlag("limit", *text, 1, 500);
    if (!limit.ok()) return limit.status();
    request.set_page_size(static_cast<int32_t>(*limit));
  }
  request.set_page_token(args.GetOr("page-token", ""));
  return request;
}

std::string AlertRuleParametersText(const v1::AlertRule& rule) {
  std::vector<std::string> parts;
  if (rule.threshold() > 0) {
    parts.push_back(
        absl::StrCat("threshold=", FormatThreshold(rule.threshold())));
  }
  if (rule.window_seconds() > 0) {
    parts.push_back(
        absl::StrCat("window=", FormatSeconds(rule.window_seconds())));
  }
  if (rule.min_volume() > 0) {
    parts.push_back(absl::StrCat("min-volume=", rule.min_volume()));
  }
  if (rule.max_age_seconds() > 0) {
    parts.push_back(
        absl::StrCat("max-age=", FormatSeconds(rule.max_age_seconds())));
  }
  if (rule.domains_size() > 0) {
    parts.push_back(
        absl::StrCat("domains=", absl::StrJoin(rule.domains(), ",")));
  }
  if (rule.check_interval_seconds() > 0) {
    parts.push_back(absl::StrCat("interval=",
                                 FormatSeconds(rule.check_interval_seconds())));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

std::string AlertChannelDestinationText(const v1::AlertChannel& channel) {
  if (!channel.url().empty()) return channel.url();
  if (channel.email_to_size() > 0) {
    return absl::StrJoin(channel.email_to(), ", ");
  }
  if (channel.sms_to_size() > 0) return absl::StrJoin(channel.sms_to(), ", ");
  return "-";
}

}  // namespace deliverd::client
