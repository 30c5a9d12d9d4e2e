#include "server/alerts/alerts_file.h"

#include <sys/stat.h>

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "deliverd/v1/alerts.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/store/file_util.h"
#include "server/store/sha256.h"

namespace deliverd::alerts {
namespace {

constexpr absl::string_view kFileRulePrefix = "r_cfg";
constexpr size_t kMaxFileBytes = 4 << 20;

// What identifies a declared rule: every setting, in a fixed order.
std::string RuleFingerprint(absl::string_view tenant, const RuleConfig& rule) {
  return absl::StrFormat(
      "%s|%d|%d|%s|%.17g|%d|%d|%d|%s|%d|%d", tenant,
      static_cast<int>(rule.kind), static_cast<int>(rule.severity),
      absl::StrJoin(rule.channels, ","), rule.threshold,
      absl::ToInt64Seconds(rule.window), rule.min_volume,
      absl::ToInt64Seconds(rule.max_age), absl::StrJoin(rule.domains, ","),
      absl::ToInt64Seconds(rule.check_interval),
      absl::ToInt64Seconds(rule.cooldown));
}

// Strips "channel: " / "rule: " style prefixes the API validation adds, so
// the path reads tenants[0].channels[1].url.
std::string Located(absl::string_view file, absl::string_view where,
                    absl::string_view message, absl::string_view api_prefix) {
  if (absl::StartsWith(message, api_prefix)) {
    message.remove_prefix(api_prefix.size());
  }
  return absl::StrCat("alerts-file ", file, ": ", where, message);
}

// Whether two stored channel specs hold the same settings. create_time is
// left out: the store keeps the row's create_time in microseconds while a
// spec written at creation holds the full time, so comparing it would see
// a change at every start.
bool SameChannelSettings(const std::string& a, const std::string& b) {
  v1::AlertChannel first;
  v1::AlertChannel second;
  if (!first.ParseFromString(a) || !second.ParseFromString(b)) return false;
  first.clear_create_time();
  second.clear_create_time();
  return google::protobuf::util::MessageDifferencer::Equals(first, second);
}

// Every rule names channels the file declares for its tenant or the tenant
// already has; checked for the whole file before anything is changed.
absl::Status CheckRuleChannels(store::Store& store,
                               const DeclaredAlerts& alerts) {
  for (size_t t = 0; t < alerts.tenants.size(); ++t) {
    const DeclaredAlerts::Tenant& declared = alerts.tenants[t];
    absl::flat_hash_set<std::string> known;
    for (const ChannelConfig& channel : declared.channels) {
      known.insert(channel.name);
    }
    absl::StatusOr<int64_t> tenant_id = store.FindTenant(declared.name);
    if (tenant_id.ok()) {
      absl::StatusOr<std::vector<store::AlertChannelRow>> stored =
          store.ListAlertChannels(*tenant_id);
      if (!stored.ok()) return stored.status();
      for (const store::AlertChannelRow& row : *stored) known.insert(row.name);
    } else if (!absl::IsNotFound(tenant_id.status())) {
      return tenant_id.status();
    }
    for (size_t r = 0; r < declared.rules.size(); ++r) {
      const std::vector<std::string>& channels = declared.rules[r].channels;
      for (size_t c = 0; c < channels.size(); ++c) {
        if (known.contains(channels[c])) continue;
        return absl::InvalidArgumentError(absl::StrCat(
            "alerts-file ", alerts.file, ": tenants[", t, "].rules[", r,
            "].channels[", c, "]: channel \"", channels[c],
            "\" is neither declared in the file nor an existing channel of "
            "tenant ",
            declared.name));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DeclaredAlerts> ParseAlertsFile(absl::string_view file,
                                               absl::string_view json) {
  v1::AlertsFile proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  absl::Status parsed = [&]() -> absl::Status {
    auto status = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                              &proto, options);
    if (status.ok()) return absl::OkStatus();
    return absl::InvalidArgumentError(std::string(status.message()));
  }();
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "alerts-file ", file, ": not a valid alerts file: ", parsed.message()));
  }
  DeclaredAlerts declared;
  declared.file = std::string(file);
  absl::flat_hash_set<std::string> tenant_names;
  for (int t = 0; t < proto.tenants_size(); ++t) {
    const v1::AlertsFile::Tenant& entry = proto.tenants(t);
    const std::string where = absl::StrCat("tenants[", t, "]");
    if (entry.tenant().empty() || entry.tenant().size() > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat("alerts-file ", file, ": ", where,
                       ".tenant: required (1 to 64 characters)"));
    }
    if (!tenant_names.insert(entry.tenant()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("alerts-file ", file, ": ", where,
                       ".tenant: ", entry.tenant(), " is declared twice"));
    }
    DeclaredAlerts::Tenant tenant;
    tenant.name = entry.tenant();
    absl::flat_hash_set<std::string> channel_names;
    for (int c = 0; c < entry.channels_size(); ++c) {
      absl::StatusOr<ChannelConfig> channel =
          ChannelFromProto(0, entry.channels(c));
      if (!channel.ok()) {
        return absl::InvalidArgumentError(
            Located(file, absl::StrCat(where, ".channels[", c, "]."),
                    channel.status().message(), "channel."));
      }
      if (!channel_names.insert(channel->name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("alerts-file ", file, ": ", where, ".channels[", c,
                         "].name: ", channel->name, " is declared twice"));
      }
      tenant.channels.push_back(*std::move(channel));
    }
    absl::flat_hash_set<std::string> rule_ids;
    for (int r = 0; r < entry.rules_size(); ++r) {
      absl::StatusOr<RuleConfig> rule = RuleFromProto(0, entry.rules(r));
      if (!rule.ok()) {
        return absl::InvalidArgumentError(
            Located(file, absl::StrCat(where, ".rules[", r, "]."),
                    rule.status().message(), "rule."));
      }
      rule->id = absl::StrCat(
          kFileRulePrefix,
          store::Sha256Hex(RuleFingerprint(tenant.name, *rule)).substr(0, 24));
      if (!rule_ids.insert(rule->id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("alerts-file ", file, ": ", where, ".rules[", r,
                         "]: the same rule is declared twice"));
      }
      tenant.rules.push_back(*std::move(rule));
    }
    declared.tenants.push_back(std::move(tenant));
  }
  return declared;
}

absl::StatusOr<DeclaredAlerts> LoadAlertsFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("alerts-file: cannot read ", path));
  }
  if ((st.st_mode & 0077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "alerts-file: ", path,
        " is readable by other users and may hold secrets (chmod 600 it)"));
  }
  absl::StatusOr<std::string> text = store::ReadSmallFile(path, kMaxFileBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("alerts-file: ", text.status().message()));
  }
  return ParseAlertsFile(path, *text);
}

absl::StatusOr<AlertsFileChanges> ApplyAlertsFile(store::Store& store,
                                                  const DeclaredAlerts& alerts,
                                                  absl::Time now) {
  if (absl::Status checked = CheckRuleChannels(store, alerts); !checked.ok()) {
    return checked;
  }
  AlertsFileChanges changes;
  for (const DeclaredAlerts::Tenant& declared : alerts.tenants) {
    absl::StatusOr<int64_t> tenant_id = store.FindTenant(declared.name);
    if (absl::IsNotFound(tenant_id.status())) {
      tenant_id = store.CreateTenant(declared.name);
      // Another replica may have created it a moment ago.
      if (absl::IsAlreadyExists(tenant_id.status())) {
        tenant_id = store.FindTenant(declared.name);
      }
    }
    if (!tenant_id.ok()) return tenant_id.status();
    absl::StatusOr<std::vector<store::AlertChannelRow>> stored =
        store.ListAlertChannels(*tenant_id);
    if (!stored.ok()) return stored.status();
    absl::flat_hash_map<std::string, const store::AlertChannelRow*> by_name;
    for (const store::AlertChannelRow& row : *stored) by_name[row.name] = &row;
    for (ChannelConfig channel : declared.channels) {
      channel.tenant_id = *tenant_id;
      auto it = by_name.find(channel.name);
      if (it == by_name.end()) {
        channel.create_time = now;
        absl::Status created = store.CreateAlertChannel(ChannelToRow(channel));
        if (absl::IsAlreadyExists(created)) continue;  // a replica's
        if (!created.ok()) return created;
        ++changes.channels_created;
        continue;
      }
      channel.create_time = it->second->create_time;
      store::AlertChannelRow row = ChannelToRow(channel);
      if (row.type == it->second->type &&
          SameChannelSettings(row.spec, it->second->spec)) {
        continue;
      }
      if (absl::Status updated = store.UpdateAlertChannel(row); !updated.ok()) {
        return updated;
      }
      ++changes.channels_updated;
    }
    absl::StatusOr<std::vector<store::AlertRuleRow>> rules =
        store.ListAlertRules(*tenant_id);
    if (!rules.ok()) return rules.status();
    absl::flat_hash_set<std::string> existing;
    for (const store::AlertRuleRow& row : *rules) existing.insert(row.id);
    absl::flat_hash_set<std::string> wanted;
    for (RuleConfig rule : declared.rules) {
      wanted.insert(rule.id);
      if (existing.contains(rule.id)) continue;
      rule.tenant_id = *tenant_id;
      rule.create_time = now;
      absl::Status created = store.CreateAlertRule(RuleToRow(rule));
      if (absl::IsAlreadyExists(created)) continue;
      if (absl::IsFailedPrecondition(created)) {
        // A channel checked above was deleted through the API meanwhile.
        return absl::InvalidArgumentError(absl::StrCat(
            "alerts-file ", alerts.file, ": tenant ", declared.name,
            ": a rule names a channel that neither the file nor the API "
            "created: ",
            created.message()));
      }
      if (!created.ok()) return created;
      ++changes.rules_created;
    }
    for (const store::AlertRuleRow& row : *rules) {
      if (!absl::StartsWith(row.id, kFileRulePrefix) ||
          wanted.contains(row.id)) {
        continue;
      }
      absl::Status deleted = store.DeleteAlertRule(*tenant_id, row.id);
      if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
      if (deleted.ok()) ++changes.rules_deleted;
    }
  }
  return changes;
}

}  // namespace deliverd::alerts
