#include "server/alerts/alert_engine.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "auth_checks/domain_check.h"
#include "server/alerts/discord_payload.h"
#include "server/alerts/http_client.h"
#include "server/alerts/slack_payload.h"
#include "server/alerts/teams_payload.h"
#include "server/alerts/twilio_payload.h"
#include "server/alerts/webhook_payload.h"

namespace deliverd::alerts {

struct AlertEngine::Config {
  // Per tenant: its rules, and its channels by name.
  struct Tenant {
    std::string name;  // "tenant <id>" when the store could not say
    std::vector<RuleConfig> rules;
    absl::flat_hash_map<std::string, ChannelConfig> channels;
    bool has_rate_rules = false;
    absl::Duration longest_window = absl::ZeroDuration();
  };
  absl::flat_hash_map<int64_t, Tenant> tenants;

  std::string TenantName(int64_t tenant_id) const {
    auto it = tenants.find(tenant_id);
    if (it == tenants.end() || it->second.name.empty()) {
      return absl::StrCat("tenant ", tenant_id);
    }
    return it->second.name;
  }
};

struct AlertEngine::RuleState {
  absl::Time cooldown_until = absl::InfinitePast();
  // Matches counted during the cooldown, for the summary.
  int64_t suppressed = 0;
  std::vector<std::string> sample_ids;
  std::string last_evidence;
  std::string last_recipient;
  absl::Time first_suppressed = absl::InfinitePast();

  // Matches held back by the cooldown, for the summary.
  void Count(const std::vector<const Match*>& group, absl::Time now) {
    if (suppressed == 0) first_suppressed = now;
    suppressed += static_cast<int64_t>(group.size());
    for (const Match* match : group) {
      if (sample_ids.size() >= kMaxListedMessageIds) break;
      sample_ids.push_back(match->message_id);
    }
    last_evidence = group.back()->evidence;
    last_recipient = group.back()->recipient;
  }
};

struct AlertEngine::TenantRates {
  struct Bucket {
    absl::Time minute;
    int64_t sent = 0;  // every delivery outcome: sent, bounced, blocked
    int64_t bounced = 0;
    int64_t complained = 0;
  };
  std::deque<Bucket> buckets;  // oldest first
};

namespace {

constexpr size_t kSampleIds = kMaxListedMessageIds;

// Rule ids are unique per tenant (the store's key is tenant and id).
std::string RuleKey(const RuleConfig& rule) {
  return absl::StrCat(rule.tenant_id, "/", rule.id);
}

absl::Time MinuteOf(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 60 * 60);
}

std::string Evidence(const store::Event& event) {
  const store::Reply& reply = event.reply;
  if (reply.code == 0 && reply.text.empty()) return event.detail;
  std::string text = reply.code > 0 ? absl::StrCat(reply.code) : "";
  if (!reply.enhanced_code.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", reply.enhanced_code);
  }
  if (!reply.text.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", reply.text);
  }
  if (!reply.remote_host.empty()) {
    absl::StrAppend(&text, " (from ", reply.remote_host, ")");
  }
  return text;
}

std::string Percent(double fraction) {
  return absl::StrFormat("%.2f%%", fraction * 100);
}

std::string KindNoun(AlertKind kind, int64_t count) {
  const bool one = count == 1;
  switch (kind) {
    case AlertKind::kMessageFailed:
      return one ? "failed message" : "failed messages";
    case AlertKind::kHardBounce:
      return one ? "hard bounce" : "hard bounces";
    case AlertKind::kComplaint:
      return one ? "complaint" : "complaints";
    default:
      return one ? "alert" : "alerts";
  }
}

std::string WhatToDo(AlertKind kind, store::EventType type) {
  switch (kind) {
    case AlertKind::kMessageFailed:
      return "Read the evidence: a failure that is not about the recipient "
             "(relay credentials, TLS, DNS, a refused connection) fails every "
             "message until it is fixed. GetMessage shows each attempt; once "
             "fixed, Resend the failed messages.";
    case AlertKind::kHardBounce:
      if (type == store::EventType::kBlocked) {
        return "The receiving server refused the mail for policy, "
               "reputation or content, not for the address. Check the "
               "sending domain's SPF, DKIM and DMARC (CheckDomain), the "
               "sending IP's reputation and the content; the reply names "
               "the reason.";
      }
      return "The address does not exist: deliverd suppressed it. Remove it "
             "from your lists; if many addresses bounce, check where the list "
             "came from and clean it (CleanList).";
    case AlertKind::kComplaint:
      return "The recipient reported the mail as spam: deliverd suppressed "
             "the address. Keep complaints under 0.1% (the large mailbox "
             "providers act at 0.3%): send only to people who asked, and keep "
             "one-click unsubscribe working.";
    case AlertKind::kBounceRate:
      return "Stop or slow the campaign that is bouncing, clean its list "
             "(CleanList) and find where the bad addresses came from; a high "
             "bounce rate hurts the sending domain's reputation.";
    case AlertKind::kComplaintRate:
      return "Pause the sending that draws complaints, check that everyone "
             "on the list asked for it, and make unsubscribing easy; "
             "providers start filtering above 0.3%.";
    case AlertKind::kQueueAge:
      return "Mail is not leaving: check the relay (ListMessages with "
             "status WAITING shows the replies), the dispatcher's log and "
             "whether a replica is running.";
    case AlertKind::kDomainAuthRegressed:
      return "Fix the DNS records named in the evidence (CheckDomain shows "
             "the whole report and each fix); receivers may reject or junk "
             "mail from this domain until then.";
    case AlertKind::kTest:
      return "Nothing: this is a test. If you see it, the channel works.";
  }
  return "";
}

std::string NewAlertId() {
  static absl::Mutex* mu = new absl::Mutex;
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(mu);
  return absl::StrFormat("al_%016x%08x", absl::Uniform<uint64_t>(*gen),
                         absl::Uniform<uint32_t>(*gen));
}

}  // namespace

AlertEngine::AlertEngine(store::Store* store, Clock* clock, HttpClient* http,
                         EmailAlertDelivery* email,
                         auth_checks::dns::Resolver* resolver,
                         AlertEngineOptions options)
    : store_(store),
      clock_(clock),
      sender_(http, clock, options.retry),
      test_sender_(http, clock, options.test_retry),
      email_(email),
      resolver_(resolver),
      options_(std::move(options)),
      queue_(std::make_unique<AlertQueue>(&sender_, options_.queue_capacity,
                                          nullptr)) {}

AlertEngine::~AlertEngine() { Stop(); }

void AlertEngine::Start() {
  absl::MutexLock lock(&mu_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::thread([this] { Run(); });
}

void AlertEngine::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
  queue_->Shutdown();
}

void AlertEngine::ConfigChanged() {
  absl::MutexLock lock(&mu_);
  ++config_generation_;
}

int64_t AlertEngine::dropped_matches() const {
  absl::MutexLock lock(&mu_);
  return dropped_matches_;
}

std::shared_ptr<const AlertEngine::Config> AlertEngine::config() const {
  absl::MutexLock lock(&mu_);
  return config_;
}

void AlertEngine::OnEvents(const std::vector<store::Event>& events) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  for (const store::Event& event : events) {
    const store::EventType type = event.type;
    const bool outcome = type == store::EventType::kSent ||
                         type == store::EventType::kBounced ||
                         type == store::EventType::kBlocked;
    const bool complaint = type == store::EventType::kComplained;
    const bool failed = type == store::EventType::kFailed;
    if (!outcome && !complaint && !failed) continue;
    const Config::Tenant* tenant = nullptr;
    // A stale configuration may lack a rule created a moment ago on this
    // replica: then every event is kept and the worker filters it.
    if (config_ != nullptr && loaded_generation_ == config_generation_) {
      auto it = config_->tenants.find(event.tenant_id);
      if (it == config_->tenants.end()) continue;  // no rules: nothing to do
      tenant = &it->second;
    }
    if ((tenant == nullptr || tenant->has_rate_rules) &&
        (outcome || complaint)) {
      std::unique_ptr<TenantRates>& rates = rates_[event.tenant_id];
      if (rates == nullptr) rates = std::make_unique<TenantRates>();
      const absl::Time minute = MinuteOf(now);
      if (rates->buckets.empty() || rates->buckets.back().minute < minute) {
        rates->buckets.push_back({minute});
      }
      TenantRates::Bucket& bucket = rates->buckets.back();
      if (outcome) ++bucket.sent;
      if (type != store::EventType::kSent && outcome) ++bucket.bounced;
      if (complaint) ++bucket.complained;
      const absl::Duration keep =
          tenant != nullptr ? tenant->longest_window : absl::Hours(24 * 7);
      while (!rates->buckets.empty() &&
             rates->buckets.front().minute + keep + absl::Minutes(1) < now) {
        rates->buckets.pop_front();
      }
    }
    if (type == store::EventType::kSent) continue;
    if (pending_.size() >= options_.max_pending_matches) {
      ++dropped_matches_;
      continue;
    }
    Match match;
    match.tenant_id = event.tenant_id;
    match.message_id = event.message_id;
    match.type = type;
    match.recipient = event.recipient;
    match.evidence = Evidence(event);
    match.detail = event.detail;
    pending_.push_back(std::move(match));
  }
}

absl::Status AlertEngine::RefreshConfig(bool force) {
  const absl::Time now = clock_->Now();
  // The configuration read below is current as of this generation; a
  // change made while it is read leaves the engine stale (read again).
  int64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!force && loaded_generation_ == config_generation_ &&
        config_ != nullptr && now - config_loaded_ < options_.config_refresh) {
      return absl::OkStatus();
    }
    generation = config_generation_;
  }
  absl::StatusOr<std::vector<store::AlertRuleRow>> rules =
      store_->ListAllAlertRules();
  if (!rules.ok()) return rules.status();
  absl::StatusOr<std::vector<store::AlertChannelRow>> channels =
      store_->ListAllAlertChannels();
  if (!channels.ok()) return channels.status();
  auto config = std::make_shared<Config>();
  for (const store::AlertRuleRow& row : *rules) {
    absl::StatusOr<RuleConfig> rule = DecodeRule(row);
    if (!rule.ok()) {
      std::fprintf(stderr, "deliverd: alerts: %s (rule ignored)\n",
                   std::string(rule.status().message()).c_str());
      continue;
    }
    Config::Tenant& tenant = config->tenants[row.tenant_id];
    if (rule->kind == AlertKind::kBounceRate ||
        rule->kind == AlertKind::kComplaintRate) {
      tenant.has_rate_rules = true;
      tenant.longest_window = std::max(tenant.longest_window, rule->window);
    }
    tenant.rules.push_back(*std::move(rule));
  }
  for (const store::AlertChannelRow& row : *channels) {
    auto tenant = config->tenants.find(row.tenant_id);
    if (tenant == config->tenants.end()) continue;  // no rule uses it
    absl::StatusOr<ChannelConfig> channel = DecodeChannel(row);
    if (!channel.ok()) {
      std::fprintf(stderr, "deliverd: alerts: %s (channel ignored)\n",
                   std::string(channel.status().message()).c_str());
      continue;
    }
    tenant->second.channels[row.name] = *std::move(channel);
  }
  for (auto& [tenant_id, tenant] : config->tenants) {
    absl::StatusOr<std::string> name = store_->TenantName(tenant_id);
    if (name.ok()) tenant.name = *std::move(name);
  }
  absl::MutexLock lock(&mu_);
  config_ = std::move(config);
  config_loaded_ = now;
  loaded_generation_ = generation;
  return absl::OkStatus();
}

void AlertEngine::Run() {
  absl::Time last_tick = absl::InfinitePast();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty();
      };
      // The periodic work runs on real time; matches wake the worker early,
      // and so does the end of a cooldown with a summary to send.
      absl::Duration wait = options_.tick - (absl::Now() - last_tick);
      if (next_summary_ != absl::InfiniteFuture()) {
        wait = std::min(wait, next_summary_ - clock_->Now());
      }
      mu_.AwaitWithTimeout(absl::Condition(&ready),
                           std::max(absl::ZeroDuration(), wait));
      if (stopping_) return;
    }
    RunOnce();
    if (absl::Now() - last_tick >= options_.tick) last_tick = absl::Now();
  }
}

void AlertEngine::RunOnce() {
  absl::MutexLock run_lock(&run_mu_);
  const absl::Time now = clock_->Now();
  absl::Status refreshed = RefreshConfig(false);
  if (!refreshed.ok()) {
    std::fprintf(stderr, "deliverd: alerts: cannot read rules: %s\n",
                 refreshed.ToString().c_str());
  }
  std::shared_ptr<const Config> config = this->config();
  if (config == nullptr) return;  // not loaded yet; matches wait
  std::vector<Match> matches;
  {
    absl::MutexLock lock(&mu_);
    matches.swap(pending_);
  }
  // Summaries first: a cooldown that has ended sends its summary now (the
  // rule's one alert of the next window), and matches arriving at that
  // moment are counted for the next summary. The other way round, a steady
  // stream of matches would send a new first alert at each cooldown's end
  // and put the summary off again and again.
  SendSummaries(*config, now);
  ProcessMatches(std::move(matches), *config, now);
  absl::Time next_summary = absl::InfiniteFuture();
  for (const auto& [key, state] : rule_states_) {
    if (state->suppressed > 0) {
      next_summary = std::min(next_summary, state->cooldown_until);
    }
  }
  {
    absl::MutexLock lock(&mu_);
    next_summary_ = next_summary;
  }
  // The checks that read or write the store run once per tick, not at every
  // wake-up: a stream of failures must not turn into a stream of queries.
  if (now - last_periodic_ < options_.tick) return;
  last_periodic_ = now;
  CheckRates(*config, now);
  CheckQueueAge(*config, now);
  CheckDomains(*config, now);
}

void AlertEngine::ProcessMatches(std::vector<Match> matches,
                                 const Config& config, absl::Time now) {
  if (matches.empty()) return;
  // Group by (tenant, kind), keeping arrival order inside a group.
  absl::flat_hash_map<std::pair<int64_t, AlertKind>, std::vector<const Match*>>
      groups;
  std::vector<std::pair<int64_t, AlertKind>> order;
  for (const Match& match : matches) {
    AlertKind kind;
    switch (match.type) {
      case store::EventType::kFailed:
        kind = AlertKind::kMessageFailed;
        break;
      case store::EventType::kBounced:
      case store::EventType::kBlocked:
        kind = AlertKind::kHardBounce;
        break;
      case store::EventType::kComplained:
        kind = AlertKind::kComplaint;
        break;
      default:
        continue;
    }
    auto key = std::make_pair(match.tenant_id, kind);
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) order.push_back(key);
    it->second.push_back(&match);
  }
  for (const auto& key : order) {
    auto tenant = config.tenants.find(key.first);
    if (tenant == config.tenants.end()) continue;
    const std::vector<const Match*>& group = groups[key];
    for (const RuleConfig& rule : tenant->second.rules) {
      if (rule.kind != key.second) continue;
      std::unique_ptr<RuleState>& state = rule_states_[RuleKey(rule)];
      if (state == nullptr) state = std::make_unique<RuleState>();
      const Match& first = *group.front();
      if (now < state->cooldown_until) {
        state->Count(group, now);
        continue;
      }
      Alert alert;
      alert.kind = rule.kind;
      alert.severity = rule.severity;
      alert.tenant = config.TenantName(rule.tenant_id);
      alert.time = now;
      alert.count = static_cast<int64_t>(group.size());
      absl::flat_hash_set<std::string> ids;
      for (const Match* match : group) {
        if (alert.message_ids.size() >= kSampleIds) break;
        if (ids.insert(match->message_id).second) {
          alert.message_ids.push_back(match->message_id);
        }
      }
      const bool blocked = first.type == store::EventType::kBlocked;
      const std::string who =
          first.recipient.empty() ? "its recipients" : first.recipient;
      if (group.size() == 1) {
        switch (rule.kind) {
          case AlertKind::kMessageFailed:
            alert.title = absl::StrCat("Message to ", who, " failed");
            alert.what_happened = absl::StrCat(
                "deliverd could not send message ", first.message_id, " to ",
                who, " and gave up", first.detail.empty() ? "" : ": ",
                first.detail, ".");
            break;
          case AlertKind::kHardBounce:
            alert.title =
                absl::StrCat(blocked ? "Blocked: " : "Hard bounce: ", who);
            alert.what_happened = absl::StrCat(
                "The receiving server permanently refused message ",
                first.message_id, " for ", who,
                blocked ? " for policy or reputation."
                        : ": the address is bad.");
            break;
          default:
            alert.title = absl::StrCat("Complaint from ", who);
            alert.what_happened = absl::StrCat(who, " marked message ",
                                               first.message_id, " as spam.");
            break;
        }
      } else {
        alert.title =
            absl::StrCat(group.size(), " ", KindNoun(rule.kind, group.size()));
        alert.what_happened =
            absl::StrCat(group.size(), " ", KindNoun(rule.kind, group.size()),
                         " at once; the first: message ", first.message_id,
                         " to ", who, ". Further ones are counted for ",
                         absl::FormatDuration(rule.cooldown),
                         " and then summarised in one alert.");
      }
      alert.evidence = first.evidence;
      alert.what_to_do = WhatToDo(rule.kind, first.type);
      if (!RaiseIfFree(rule, config, std::move(alert), now)) {
        // Another replica alerted within the cooldown: count these for the
        // summary.
        state->Count(group, now);
      }
      state->cooldown_until = now + rule.cooldown;
    }
  }
}

void AlertEngine::SendSummaries(const Config& config, absl::Time now) {
  for (const auto& [tenant_id, tenant] : config.tenants) {
    for (const RuleConfig& rule : tenant.rules) {
      auto it = rule_states_.find(RuleKey(rule));
      if (it == rule_states_.end()) continue;
      RuleState& state = *it->second;
      if (state.suppressed == 0 || now < state.cooldown_until) continue;
      Alert alert;
      alert.kind = rule.kind;
      alert.severity = rule.severity;
      alert.tenant = config.TenantName(rule.tenant_id);
      alert.time = now;
      alert.count = state.suppressed;
      alert.message_ids = state.sample_ids;
      alert.title = absl::StrCat("Summary: ", state.suppressed, " more ",
                                 KindNoun(rule.kind, state.suppressed));
      alert.what_happened = absl::StrCat(
          state.suppressed, " more ", KindNoun(rule.kind, state.suppressed),
          " since ", RenderAlertTime(state.first_suppressed),
          " (counted during the rule's cooldown of ",
          absl::FormatDuration(rule.cooldown), "); the latest for ",
          state.last_recipient.empty() ? "its recipients"
                                       : state.last_recipient,
          ".");
      alert.evidence = state.last_evidence;
      alert.what_to_do = WhatToDo(rule.kind, store::EventType::kUnspecified);
      // The counts are this replica's own: the summary goes out even when
      // another replica holds the window, so none is lost.
      absl::StatusOr<store::AlertWindow> window = store_->ClaimAlertWindow(
          rule.tenant_id, absl::StrCat("rule:", rule.id), now,
          now + rule.cooldown);
      (void)window;
      for (const std::string& name : rule.channels) {
        auto channel = tenant.channels.find(name);
        if (channel != tenant.channels.end()) {
          Dispatch(&rule, channel->second, alert);
        }
      }
      state.suppressed = 0;
      state.sample_ids.clear();
      state.cooldown_until = now + rule.cooldown;
    }
  }
}

bool AlertEngine::RaiseIfFree(const RuleConfig& rule, const Config& config,
                              Alert alert, absl::Time now) {
  absl::StatusOr<store::AlertWindow> window = store_->ClaimAlertWindow(
      rule.tenant_id, absl::StrCat("rule:", rule.id), now, now + rule.cooldown);
  // A store that is away must not silence alerts: send, at worst twice.
  if (window.ok() && !window->claimed) return false;
  auto tenant = config.tenants.find(rule.tenant_id);
  if (tenant == config.tenants.end()) return true;
  for (const std::string& name : rule.channels) {
    auto channel = tenant->second.channels.find(name);
    if (channel != tenant->second.channels.end()) {
      Dispatch(&rule, channel->second, alert);
    }
  }
  return true;
}

void AlertEngine::CheckRates(const Config& config, absl::Time now) {
  for (const auto& [tenant_id, tenant] : config.tenants) {
    if (!tenant.has_rate_rules) continue;
    for (const RuleConfig& rule : tenant.rules) {
      if (rule.kind != AlertKind::kBounceRate &&
          rule.kind != AlertKind::kComplaintRate) {
        continue;
      }
      int64_t sent = 0;
      int64_t bad = 0;
      {
        absl::MutexLock lock(&mu_);
        auto rates = rates_.find(tenant_id);
        if (rates == rates_.end()) continue;
        const absl::Time since = MinuteOf(now - rule.window);
        for (const TenantRates::Bucket& bucket : rates->second->buckets) {
          if (bucket.minute < since) continue;
          sent += bucket.sent;
          bad += rule.kind == AlertKind::kBounceRate ? bucket.bounced
                                                     : bucket.complained;
        }
      }
      if (sent < rule.min_volume || sent == 0) continue;
      const double rate = static_cast<double>(bad) / static_cast<double>(sent);
      if (rate <= rule.threshold) continue;
      const bool bounce = rule.kind == AlertKind::kBounceRate;
      Alert alert;
      alert.kind = rule.kind;
      alert.severity = rule.severity;
      alert.tenant = config.TenantName(tenant_id);
      alert.time = now;
      alert.count = bad;
      alert.title =
          absl::StrCat(bounce ? "Bounce rate " : "Complaint rate ",
                       Percent(rate), " is above ", Percent(rule.threshold));
      alert.what_happened =
          absl::StrCat(bad, bounce ? " bounces" : " complaints", " out of ",
                       sent, " messages delivered or refused in the last ",
                       absl::FormatDuration(rule.window), ": ", Percent(rate),
                       " (threshold ", Percent(rule.threshold), ").");
      alert.evidence = absl::StrCat(
          "window ", absl::FormatDuration(rule.window), ", messages ", sent,
          ", ", bounce ? "bounced or blocked " : "complaints ", bad);
      alert.what_to_do = WhatToDo(rule.kind, store::EventType::kUnspecified);
      RaiseIfFree(rule, config, std::move(alert), now);
    }
  }
}

void AlertEngine::CheckQueueAge(const Config& config, absl::Time now) {
  bool any = false;
  for (const auto& [tenant_id, tenant] : config.tenants) {
    for (const RuleConfig& rule : tenant.rules) {
      any = any || rule.kind == AlertKind::kQueueAge;
    }
  }
  if (!any) return;
  absl::StatusOr<std::vector<store::OldestUnsentMessage>> oldest =
      store_->OldestUnsentMessages();
  if (!oldest.ok()) {
    std::fprintf(stderr, "deliverd: alerts: queue age: %s\n",
                 oldest.status().ToString().c_str());
    return;
  }
  for (const store::OldestUnsentMessage& entry : *oldest) {
    auto tenant = config.tenants.find(entry.tenant_id);
    if (tenant == config.tenants.end()) continue;
    for (const RuleConfig& rule : tenant->second.rules) {
      if (rule.kind != AlertKind::kQueueAge) continue;
      const absl::Duration age = now - entry.create_time;
      if (age <= rule.max_age) continue;
      Alert alert;
      alert.kind = rule.kind;
      alert.severity = rule.severity;
      alert.tenant = config.TenantName(entry.tenant_id);
      alert.time = now;
      alert.message_ids = {entry.message_id};
      alert.count = entry.unsent_count;
      alert.title = absl::StrCat(
          "Oldest unsent message is ",
          absl::FormatDuration(absl::Trunc(age, absl::Seconds(1))), " old");
      alert.what_happened = absl::StrCat(
          "Message ", entry.message_id, " has been ",
          store::MessageStatusName(entry.status), " since ",
          RenderAlertTime(entry.create_time), ", longer than the rule's ",
          absl::FormatDuration(rule.max_age), "; ", entry.unsent_count,
          " messages are queued or waiting.");
      alert.evidence =
          absl::StrCat("oldest ", entry.message_id, " created ",
                       RenderAlertTime(entry.create_time), ", status ",
                       store::MessageStatusName(entry.status));
      alert.what_to_do = WhatToDo(rule.kind, store::EventType::kUnspecified);
      RaiseIfFree(rule, config, std::move(alert), now);
    }
  }
}

void AlertEngine::CheckDomains(const Config& config, absl::Time now) {
  if (resolver_ == nullptr) return;
  for (const auto& [tenant_id, tenant] : config.tenants) {
    for (const RuleConfig& rule : tenant.rules) {
      if (rule.kind != AlertKind::kDomainAuthRegressed) continue;
      for (const std::string& domain : rule.domains) {
        const std::string key = absl::StrCat("domain:", rule.id, ":", domain);
        absl::StatusOr<store::AlertWindow> window = store_->ClaimAlertWindow(
            tenant_id, key, now, now + rule.check_interval);
        if (!window.ok() || !window->claimed) continue;
        auth_checks::DomainCheckOptions options;
        absl::StatusOr<store::TenantSendPolicy> policy =
            store_->GetSendPolicy(tenant_id);
        if (policy.ok()) options.dkim_selectors = policy->dkim_selectors;
        const auth_checks::DomainReport report =
            auth_checks::CheckDomain(*resolver_, domain, options);
        // The note: "checked" then one error code per line.
        std::vector<std::string> errors;
        std::vector<const auth_checks::Finding*> error_findings;
        for (const auth_checks::Finding& finding : report.findings) {
          if (finding.severity != auth_checks::Finding::kError) continue;
          if (std::find(errors.begin(), errors.end(), finding.code) ==
              errors.end()) {
            errors.push_back(finding.code);
            error_findings.push_back(&finding);
          }
        }
        std::string note = "checked";
        for (const std::string& code : errors)
          absl::StrAppend(&note, "\n", code);
        (void)store_->SetAlertWindowNote(tenant_id, key, note);
        if (window->note.empty()) continue;  // the first check: the baseline
        std::vector<std::string> before =
            absl::StrSplit(window->note, '\n', absl::SkipEmpty());
        std::vector<const auth_checks::Finding*> fresh;
        for (const auth_checks::Finding* finding : error_findings) {
          if (std::find(before.begin(), before.end(), finding->code) ==
              before.end()) {
            fresh.push_back(finding);
          }
        }
        if (fresh.empty()) continue;
        Alert alert;
        alert.kind = rule.kind;
        alert.severity = rule.severity;
        alert.tenant = config.TenantName(tenant_id);
        alert.time = now;
        alert.title = absl::StrCat("Authentication of ", domain, " regressed");
        alert.what_happened = absl::StrCat(
            "The scheduled check of ", domain, " found ", fresh.size(),
            " new error", fresh.size() == 1 ? "" : "s",
            " in its SPF, DKIM or DMARC records that the previous check did "
            "not.");
        std::vector<std::string> evidence;
        std::vector<std::string> fixes;
        for (const auth_checks::Finding* finding : fresh) {
          evidence.push_back(
              absl::StrCat(finding->code, ": ", finding->message));
          if (!finding->fix.empty()) fixes.push_back(finding->fix);
        }
        alert.evidence = absl::StrJoin(evidence, "\n");
        alert.what_to_do =
            fixes.empty() ? WhatToDo(rule.kind, store::EventType::kUnspecified)
                          : absl::StrJoin(fixes, " ");
        // Regressions are rare and each one matters: not held back by the
        // cooldown of an earlier domain's alert.
        for (const std::string& name : rule.channels) {
          auto channel = tenant.channels.find(name);
          if (channel != tenant.channels.end()) {
            Dispatch(&rule, channel->second, alert);
          }
        }
      }
    }
  }
}

std::vector<AlertJob> AlertEngine::JobsFor(const ChannelConfig& channel,
                                           const Alert& alert,
                                           const std::string& alert_id) {
  std::vector<AlertJob> jobs;
  AlertJob job;
  job.channel = channel.name;
  job.destination = ChannelDestination(channel);
  switch (channel.type) {
    case ChannelType::kSlack:
      job.build = [url = channel.url, alert](absl::Time) {
        return BuildSlackRequest(url, alert);
      };
      jobs.push_back(std::move(job));
      break;
    case ChannelType::kDiscord:
      job.build = [url = channel.url, alert](absl::Time) {
        return BuildDiscordRequest(url, alert);
      };
      jobs.push_back(std::move(job));
      break;
    case ChannelType::kTeams:
      job.build = [url = channel.url, alert](absl::Time) {
        return BuildTeamsRequest(url, alert);
      };
      jobs.push_back(std::move(job));
      break;
    case ChannelType::kWebhook: {
      WebhookChannel webhook{channel.url, channel.secret};
      job.build = [webhook, alert_id, alert](absl::Time now) {
        return BuildWebhookRequest(webhook, alert_id, alert, now);
      };
      jobs.push_back(std::move(job));
      break;
    }
    case ChannelType::kSms:
      for (const std::string& to : channel.sms_to) {
        AlertJob sms = job;
        // This number (masked), not the SMS API's host: each number's
        // delivery is recorded on its own.
        ChannelConfig one = channel;
        one.sms_to = {to};
        sms.destination = ChannelDestination(one);
        absl::StatusOr<HttpRequest> request =
            BuildTwilioRequest(channel.sms, to, alert);
        if (request.ok()) {
          sms.build = [request = *std::move(request)](absl::Time) {
            return request;
          };
        } else {
          const std::string error(request.status().message());
          sms.deliver = [name = channel.name, destination = sms.destination,
                         error](const absl::Notification*) {
            DeliveryRecord record;
            record.channel = name;
            record.destination = destination;
            record.error = error;
            return record;
          };
        }
        jobs.push_back(std::move(sms));
      }
      break;
    case ChannelType::kEmail: {
      EmailAlertDelivery* email = email_;
      const EmailAlertSettings settings = options_.email;
      job.deliver = [email, settings, name = channel.name,
                     destination = job.destination, to = channel.email_to,
                     alert](const absl::Notification* cancel) {
        if (email == nullptr) {
          DeliveryRecord record;
          record.channel = name;
          record.destination = destination;
          record.error = "no transport for alert email is configured";
          return record;
        }
        return email->Deliver(name, alert, settings, to, cancel);
      };
      jobs.push_back(std::move(job));
      break;
    }
  }
  return jobs;
}

void AlertEngine::Record(const RuleConfig* rule, const ChannelConfig& channel,
                         const Alert& alert, const DeliveryRecord& delivery,
                         v1::AlertRecord* out) {
  v1::AlertRecord record;
  record.set_kind(AlertKindToProto(alert.kind));
  record.set_severity(AlertSeverityToProto(alert.severity));
  if (rule != nullptr) record.set_rule(absl::StrCat("alertRules/", rule->id));
  record.set_channel(absl::StrCat("alertChannels/", channel.name));
  record.set_channel_type(static_cast<v1::AlertChannelType>(channel.type));
  record.set_destination(delivery.destination.empty()
                             ? ChannelDestination(channel)
                             : delivery.destination);
  record.set_title(alert.title);
  record.set_text(RenderAlertText(alert));
  for (const std::string& id : alert.message_ids) record.add_message_ids(id);
  record.set_count(AlertMessageCount(alert));
  ToProtoTime(alert.time, record.mutable_create_time());
  ToProtoTime(delivery.last_attempt, record.mutable_last_attempt_time());
  record.set_attempts(delivery.attempts);
  record.set_status_code(delivery.status_code);
  record.set_accepted(delivery.accepted);
  record.set_error(delivery.error);
  store::AlertRecordRow row;
  row.tenant_id = channel.tenant_id;
  row.kind = static_cast<int>(record.kind());
  row.channel = channel.name;
  row.rule_id = rule != nullptr ? rule->id : "";
  row.accepted = delivery.accepted;
  row.create_time = alert.time;
  row.record = record.SerializeAsString();
  absl::StatusOr<int64_t> id = store_->InsertAlertRecord(row);
  if (!id.ok()) {
    std::fprintf(stderr, "deliverd: alerts: cannot record an alert: %s\n",
                 id.status().ToString().c_str());
  } else {
    record.set_name(absl::StrCat("alerts/", *id));
  }
  if (out != nullptr) *out = std::move(record);
}

void AlertEngine::Dispatch(const RuleConfig* rule, const ChannelConfig& channel,
                           const Alert& alert) {
  const std::string alert_id = NewAlertId();
  std::vector<AlertJob> jobs = JobsFor(channel, alert, alert_id);
  for (AlertJob& job : jobs) {
    std::optional<RuleConfig> rule_copy;
    if (rule != nullptr) rule_copy = *rule;
    job.done = [this, rule_copy, channel, alert,
                destination = job.destination](const DeliveryRecord& record) {
      // The sender records the request's host; an SMS is recorded by its
      // (masked) number.
      DeliveryRecord recorded = record;
      if (channel.type == ChannelType::kSms) recorded.destination = destination;
      Record(rule_copy ? &*rule_copy : nullptr, channel, alert, recorded,
             nullptr);
      absl::MutexLock lock(&mu_);
      ++finished_;
    };
    {
      absl::MutexLock lock(&mu_);
      ++enqueued_;
    }
    // A refused job (queue full, or shutting down) never reaches `done`:
    // its drop is recorded here.
    const std::string name = job.channel;
    const std::string destination = job.destination;
    if (!queue_->Enqueue(std::move(job))) {
      DeliveryRecord dropped;
      dropped.channel = name;
      dropped.destination = destination;
      dropped.error = "dropped: the alert queue is full";
      Record(rule, channel, alert, dropped, nullptr);
      absl::MutexLock lock(&mu_);
      ++finished_;
    }
  }
}

absl::StatusOr<v1::AlertRecord> AlertEngine::SendTestAlert(
    int64_t tenant_id, absl::string_view tenant_name,
    absl::string_view channel_name) {
  absl::StatusOr<std::vector<store::AlertChannelRow>> rows =
      store_->ListAlertChannels(tenant_id);
  if (!rows.ok()) return rows.status();
  const store::AlertChannelRow* row = nullptr;
  for (const store::AlertChannelRow& candidate : *rows) {
    if (candidate.name == channel_name) row = &candidate;
  }
  if (row == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("alert channel ", channel_name, " does not exist"));
  }
  absl::StatusOr<ChannelConfig> channel = DecodeChannel(*row);
  if (!channel.ok()) return channel.status();
  Alert alert;
  alert.kind = AlertKind::kTest;
  alert.severity = AlertSeverity::kWarning;
  alert.tenant = std::string(tenant_name);
  alert.time = clock_->Now();
  alert.title = absl::StrCat("Test alert for channel ", channel->name);
  alert.what_happened =
      absl::StrCat("Someone asked deliverd to send a test alert to channel ",
                   channel->name, ".");
  alert.what_to_do = WhatToDo(AlertKind::kTest, store::EventType::kUnspecified);
  const std::string alert_id = NewAlertId();
  std::vector<AlertJob> jobs = JobsFor(*channel, alert, alert_id);
  DeliveryRecord combined;
  combined.accepted = !jobs.empty();
  std::vector<std::string> errors;
  for (AlertJob& job : jobs) {
    DeliveryRecord delivery =
        job.deliver ? job.deliver(nullptr)
                    : test_sender_.Deliver(job.channel, job.build);
    combined.attempts += delivery.attempts;
    combined.status_code = delivery.status_code;
    combined.accepted = combined.accepted && delivery.accepted;
    combined.last_attempt = delivery.last_attempt;
    if (combined.destination.empty()) combined.destination = job.destination;
    if (!delivery.error.empty()) errors.push_back(delivery.error);
  }
  combined.destination = ChannelDestination(*channel);
  combined.error = absl::StrJoin(errors, "; ");
  v1::AlertRecord record;
  Record(nullptr, *channel, alert, combined, &record);
  return record;
}

bool AlertEngine::WaitForDeliveries(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = enqueued_;
  const auto done = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return finished_ >= target;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

}  // namespace deliverd::alerts
