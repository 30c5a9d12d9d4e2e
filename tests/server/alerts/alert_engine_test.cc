// The alert engine over a real SqliteStore, a fake clock and a scripted HTTP
// client: which rules events raise, the cooldown and its summary, the
// cooldown shared by replicas through the store, rates, queue age, domain
// checks, channel failures, test alerts, the record of every delivery, and
// the AlertingStore decorator.
//
// The engine is not started: each test drives it with OnEvents(), RunOnce()
// and WaitForDeliveries() (the delivery queue has its own thread; the wait is
// bounded).
#include "server/alerts/alert_engine.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "auth_checks/dns/fake_resolver.h"
#include "deliverd/v1/alerts.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/alerts/alert_config.h"
#include "server/alerts/alerting_store.h"
#include "server/alerts/webhook_signature.h"
#include "server/store/forwarding_store.h"
#include "server/store/sqlite_store.h"
#include "testing_fakes.h"

namespace deliverd::alerts {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using store::EventType;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);
constexpr char kSlackUrl[] = "https://hooks.slack.com/services/T1/B1/one";
constexpr char kOtherUrl[] = "https://hooks.slack.com/services/T2/B2/two";
constexpr char kSecret[] = "webhook-secret-0123456789";
const absl::Duration kWait = absl::Seconds(10);

v1::AlertChannel SlackChannel(const std::string& name, const std::string& url) {
  v1::AlertChannel proto;
  proto.set_name(name);
  proto.set_type(v1::ALERT_CHANNEL_TYPE_SLACK);
  proto.set_url(url);
  return proto;
}

v1::AlertRule RuleOf(v1::AlertKind kind, const std::string& channel) {
  v1::AlertRule proto;
  proto.set_kind(kind);
  proto.add_channels(channel);
  return proto;
}

store::Event EventOf(int64_t tenant, EventType type, const std::string& id,
                     const std::string& recipient = "bob@example.com") {
  store::Event event;
  event.tenant_id = tenant;
  event.message_id = id;
  event.type = type;
  event.time = kStart;
  event.recipient = recipient;
  return event;
}

std::vector<store::Event> Events(int64_t tenant, EventType type, int n,
                                 const std::string& prefix) {
  std::vector<store::Event> events;
  events.reserve(n);
  for (int i = 0; i < n; ++i) {
    events.push_back(EventOf(tenant, type, absl::StrCat(prefix, i)));
  }
  return events;
}

RetryPolicy FastRetry(int attempts) {
  RetryPolicy policy;
  policy.max_attempts = attempts;
  policy.initial_delay = absl::Seconds(1);
  policy.max_delay = absl::Seconds(4);
  policy.jitter = 0;
  policy.max_retry_after = absl::Seconds(30);
  return policy;
}

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/alert-engine-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store::SqliteOptions options;
    options.full_sync = false;
    absl::StatusOr<std::unique_ptr<store::SqliteStore>> opened =
        store::SqliteStore::Open(dir_ + "/db", options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    tenant_ = *store_->CreateTenant("acme");
    other_ = *store_->CreateTenant("globex");
  }

  void TearDown() override {
    engines_.clear();  // before the store they record into
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  AlertEngineOptions Options() {
    AlertEngineOptions options;
    options.tick = absl::ZeroDuration();
    options.retry = FastRetry(3);
    options.test_retry = FastRetry(2);
    options.email.from = "alerts@deliverd.example";
    return options;
  }

  AlertEngine& NewEngine(HttpClient* http, AlertEngineOptions options,
                         EmailAlertDelivery* email = nullptr,
                         auth_checks::dns::Resolver* resolver = nullptr) {
    engines_.push_back(std::make_unique<AlertEngine>(
        store_.get(), &clock_, http, email, resolver, std::move(options)));
    return *engines_.back();
  }
  AlertEngine& engine() {
    if (engines_.empty()) NewEngine(&http_, Options());
    return *engines_.front();
  }

  void AddChannel(int64_t tenant, const v1::AlertChannel& proto) {
    absl::StatusOr<ChannelConfig> channel = ChannelFromProto(tenant, proto);
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel->create_time = kStart;
    absl::Status created = store_->CreateAlertChannel(ChannelToRow(*channel));
    ASSERT_TRUE(created.ok()) << created;
    for (auto& engine : engines_) engine->ConfigChanged();
  }

  void AddRule(int64_t tenant, const std::string& id,
               const v1::AlertRule& proto) {
    absl::StatusOr<RuleConfig> rule = RuleFromProto(tenant, proto);
    ASSERT_TRUE(rule.ok()) << rule.status();
    rule->id = id;
    rule->create_time = kStart;
    absl::Status created = store_->CreateAlertRule(RuleToRow(*rule));
    ASSERT_TRUE(created.ok()) << created;
    for (auto& engine : engines_) engine->ConfigChanged();
  }

  // A Slack channel "ops" (kSlackUrl) and a rule of `kind` sending to it.
  void SlackRule(v1::AlertKind kind, const std::string& id = "r_main",
                 int64_t cooldown_seconds = 0) {
    AddChannel(tenant_, SlackChannel("ops", kSlackUrl));
    v1::AlertRule rule = RuleOf(kind, "ops");
    rule.set_cooldown_seconds(cooldown_seconds);
    AddRule(tenant_, id, rule);
  }

  // One pass of the periodic work, then the deliveries it queued.
  void Run(AlertEngine& engine) {
    engine.RunOnce();
    ASSERT_TRUE(engine.WaitForDeliveries(kWait));
  }
  void Run() { Run(engine()); }

  void Advance(absl::Duration d) { clock_.Sleep(d, nullptr); }

  std::vector<HttpRequest> RequestsTo(FakeHttpClient& http,
                                      const std::string& url) {
    std::vector<HttpRequest> out;
    for (const HttpRequest& request : http.requests()) {
      if (request.url == url) out.push_back(request);
    }
    return out;
  }

  // The tenant's records, oldest first.
  std::vector<v1::AlertRecord> Records(int64_t tenant) {
    absl::StatusOr<std::vector<store::AlertRecordRow>> rows =
        store_->ListAlertRecords(tenant, "", 0, 500, 0);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<v1::AlertRecord> out;
    if (!rows.ok()) return out;
    for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
      v1::AlertRecord record;
      EXPECT_TRUE(record.ParseFromString(it->record));
      EXPECT_EQ(it->accepted, record.accepted());
      EXPECT_EQ(it->kind, static_cast<int>(record.kind()));
      out.push_back(std::move(record));
    }
    return out;
  }

  // Inserts a queued message of `tenant` created at `created`.
  std::string InsertMessage(int64_t tenant, const std::string& id,
                            absl::Time created) {
    store::NewMessage item;
    store::Message& m = item.message;
    m.id = id;
    m.tenant_id = tenant;
    m.status = store::MessageStatus::kQueued;
    m.from_address = "from@example.com";
    m.subject = "subject";
    m.create_time = m.update_time = created;
    m.next_attempt_time = created;
    m.rfc822_message_id = id + "@example.com";
    store::Recipient r;
    r.address = "bob@example.com";
    m.recipients.push_back(r);
    absl::StatusOr<std::vector<store::InsertOutcome>> inserted =
        store_->InsertMessagesAndWait({item});
    EXPECT_TRUE(inserted.ok()) << inserted.status();
    return id;
  }

  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
  int64_t tenant_ = 0;
  int64_t other_ = 0;
  FakeClock clock_{kStart};
  FakeHttpClient http_;
  std::vector<std::unique_ptr<AlertEngine>> engines_;
};

TEST_F(AlertEngineTest, FailedMessageAlertsOnceWithItsEvidence) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  store::Event failed = EventOf(tenant_, EventType::kFailed, "m_failed1");
  failed.detail = "retries exhausted";
  failed.reply.code = 554;
  failed.reply.enhanced_code = "5.7.1";
  failed.reply.text = "Relay access denied for this sender";
  failed.reply.remote_host = "mx.example.net";
  engine().OnEvents({failed});
  Run();

  const std::vector<HttpRequest> requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, kSlackUrl);
  EXPECT_THAT(requests[0].body, HasSubstr("m_failed1"));
  EXPECT_THAT(requests[0].body,
              HasSubstr("554 5.7.1 Relay access denied for this sender"));
  EXPECT_THAT(requests[0].body, HasSubstr("mx.example.net"));

  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  const v1::AlertRecord& record = records[0];
  EXPECT_TRUE(record.accepted());
  EXPECT_EQ(record.kind(), v1::ALERT_KIND_MESSAGE_FAILED);
  EXPECT_EQ(record.severity(), v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_EQ(record.rule(), "alertRules/r_main");
  EXPECT_EQ(record.channel(), "alertChannels/ops");
  EXPECT_EQ(record.channel_type(), v1::ALERT_CHANNEL_TYPE_SLACK);
  EXPECT_EQ(record.destination(), "https://hooks.slack.com");
  EXPECT_EQ(record.attempts(), 1);
  EXPECT_EQ(record.status_code(), 200);
  EXPECT_EQ(record.error(), "");
  EXPECT_EQ(record.count(), 1);
  EXPECT_THAT(record.message_ids(), ::testing::ElementsAre("m_failed1"));
  EXPECT_THAT(record.title(), HasSubstr("bob@example.com"));
  EXPECT_THAT(record.text(), HasSubstr("Relay access denied"));
  EXPECT_EQ(record.create_time().seconds(), absl::ToUnixSeconds(kStart));

  // Nothing more: the next pass has nothing to say.
  Run();
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(Records(tenant_).size(), 1u);
}

TEST_F(AlertEngineTest, BurstIsOneAlertThenOneSummaryAfterTheCooldown) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  engine().OnEvents(Events(tenant_, EventType::kFailed, 10000, "m_burst"));
  Run();
  std::vector<HttpRequest> requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0].body, HasSubstr("10000 failed messages"));
  std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].count(), 10000);
  EXPECT_EQ(records[0].message_ids_size(),
            static_cast<int>(kMaxListedMessageIds));
  EXPECT_EQ(records[0].message_ids(0), "m_burst0");

  // Cooling down (15 minutes by default): counted, not sent.
  Advance(absl::Minutes(5));
  engine().OnEvents(Events(tenant_, EventType::kFailed, 500, "m_more"));
  Run();
  Advance(absl::Minutes(5));
  Run();
  EXPECT_EQ(http_.requests().size(), 1u);

  // The cooldown ends: one summary of the 500.
  Advance(absl::Minutes(6));
  Run();
  requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[1].body, HasSubstr("500 more failed messages"));
  records = Records(tenant_);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].count(), 500);
  EXPECT_EQ(records[1].message_ids(0), "m_more0");
  EXPECT_TRUE(records[1].accepted());

  // Then nothing more, however long.
  Run();
  Advance(absl::Hours(2));
  Run();
  EXPECT_EQ(http_.requests().size(), 2u);
  EXPECT_EQ(Records(tenant_).size(), 2u);
}

// Matches keep arriving as the cooldown ends: the summary of the cooldown's
// matches goes out then (it is the rule's one alert of the new window), and
// the new matches are counted for the next summary, rather than a new first
// alert postponing the summary again and again.
TEST_F(AlertEngineTest, SummaryIsNotStarvedByAStreamOfMatches) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_first")});
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);

  Advance(absl::Minutes(1));
  engine().OnEvents(Events(tenant_, EventType::kFailed, 500, "m_during"));
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);

  Advance(absl::Minutes(15));
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_after1")});
  Run();
  std::vector<HttpRequest> requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[1].body, HasSubstr("500 more failed messages"));
  EXPECT_THAT(requests[1].body, Not(HasSubstr("m_after1")));

  Advance(absl::Minutes(16));
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_after2")});
  Run();
  requests = http_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(requests[2].body, HasSubstr("1 more failed message"));
  EXPECT_THAT(requests[2].body, HasSubstr("m_after1"));

  Advance(absl::Minutes(16));
  Run();
  requests = http_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_THAT(requests[3].body, HasSubstr("m_after2"));
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].count() + records[1].count() + records[2].count() +
                records[3].count(),
            503);
}

TEST_F(AlertEngineTest, ReplicasSharingTheStoreSendTheFirstAlertOnce) {
  FakeHttpClient http_a;
  FakeHttpClient http_b;
  AlertEngine& a = NewEngine(&http_a, Options());
  AlertEngine& b = NewEngine(&http_b, Options());
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);

  a.OnEvents({EventOf(tenant_, EventType::kFailed, "m_on_a")});
  b.OnEvents({EventOf(tenant_, EventType::kFailed, "m_on_b")});
  Run(a);
  Run(b);
  EXPECT_EQ(http_a.requests().size() + http_b.requests().size(), 1u);
  ASSERT_EQ(http_a.requests().size(), 1u);
  EXPECT_THAT(http_a.requests()[0].body, HasSubstr("m_on_a"));
  EXPECT_EQ(Records(tenant_).size(), 1u);

  // Within the window, neither sends again.
  Advance(absl::Minutes(5));
  a.OnEvents({EventOf(tenant_, EventType::kFailed, "m_on_a2")});
  Run(a);
  Run(b);
  EXPECT_EQ(http_a.requests().size() + http_b.requests().size(), 1u);

  // After it, each summarises what it saw itself: nothing is lost.
  Advance(absl::Minutes(11));
  Run(a);
  Run(b);
  ASSERT_EQ(http_a.requests().size(), 2u);
  ASSERT_EQ(http_b.requests().size(), 1u);
  EXPECT_THAT(http_a.requests()[1].body, HasSubstr("m_on_a2"));
  EXPECT_THAT(http_b.requests()[0].body, HasSubstr("m_on_b"));
}

TEST_F(AlertEngineTest, HardBounceRuleFiresForBouncedAndBlockedOnly) {
  SlackRule(v1::ALERT_KIND_HARD_BOUNCE, "r_bounce", /*cooldown_seconds=*/10);
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_failed"),
                     EventOf(tenant_, EventType::kSent, "m_sent"),
                     EventOf(tenant_, EventType::kComplained, "m_complained"),
                     EventOf(tenant_, EventType::kDeferred, "m_deferred")});
  Run();
  EXPECT_TRUE(http_.requests().empty());

  engine().OnEvents({EventOf(tenant_, EventType::kBounced, "m_bounced",
                             "nobody@example.com")});
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body,
              HasSubstr("Hard bounce: nobody@example.com"));

  Advance(absl::Seconds(11));
  engine().OnEvents({EventOf(tenant_, EventType::kBlocked, "m_blocked",
                             "policy@example.org")});
  Run();
  ASSERT_EQ(http_.requests().size(), 2u);
  EXPECT_THAT(http_.requests()[1].body,
              HasSubstr("Blocked: policy@example.org"));
  EXPECT_THAT(http_.requests()[1].body, HasSubstr("m_blocked"));

  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 2u);
  for (const v1::AlertRecord& record : records) {
    EXPECT_EQ(record.kind(), v1::ALERT_KIND_HARD_BOUNCE);
    EXPECT_EQ(record.severity(), v1::ALERT_SEVERITY_WARNING);
    EXPECT_EQ(record.rule(), "alertRules/r_bounce");
  }
}

TEST_F(AlertEngineTest, ComplaintRuleFiresForComplaintsOnly) {
  SlackRule(v1::ALERT_KIND_COMPLAINT, "r_complaint");
  engine().OnEvents({EventOf(tenant_, EventType::kBounced, "m_bounced"),
                     EventOf(tenant_, EventType::kFailed, "m_failed")});
  Run();
  EXPECT_TRUE(http_.requests().empty());

  engine().OnEvents({EventOf(tenant_, EventType::kComplained, "m_spam",
                             "angry@example.com")});
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body,
              HasSubstr("Complaint from angry@example.com"));
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind(), v1::ALERT_KIND_COMPLAINT);
}

TEST_F(AlertEngineTest, EveryChannelOfTheRuleGetsTheAlert) {
  AddChannel(tenant_, SlackChannel("ops", kSlackUrl));
  AddChannel(tenant_, SlackChannel("pager", kOtherUrl));
  v1::AlertRule rule = RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "ops");
  rule.add_channels("pager");
  AddRule(tenant_, "r_two", rule);
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_1")});
  Run();
  EXPECT_EQ(RequestsTo(http_, kSlackUrl).size(), 1u);
  EXPECT_EQ(RequestsTo(http_, kOtherUrl).size(), 1u);
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].channel(), records[1].channel());
}

TEST_F(AlertEngineTest, TenantsWithoutRulesRaiseNothing) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  Run();  // loads the configuration
  for (EventType type : {EventType::kFailed, EventType::kBounced,
                         EventType::kBlocked, EventType::kComplained}) {
    engine().OnEvents({EventOf(other_, type, "m_other")});
  }
  Run();
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_TRUE(Records(tenant_).empty());
  EXPECT_TRUE(Records(other_).empty());
}

TEST_F(AlertEngineTest, TenantsEventsReachOnlyTheirOwnChannels) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED, "r_acme");
  AddChannel(other_, SlackChannel("ops", kOtherUrl));
  AddRule(other_, "r_globex", RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "ops"));

  engine().OnEvents({EventOf(other_, EventType::kFailed, "m_globex")});
  Run();
  EXPECT_TRUE(RequestsTo(http_, kSlackUrl).empty());
  ASSERT_EQ(RequestsTo(http_, kOtherUrl).size(), 1u);
  EXPECT_TRUE(Records(tenant_).empty());
  ASSERT_EQ(Records(other_).size(), 1u);

  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_acme")});
  Run();
  ASSERT_EQ(RequestsTo(http_, kSlackUrl).size(), 1u);
  EXPECT_THAT(RequestsTo(http_, kSlackUrl)[0].body, HasSubstr("m_acme"));
  EXPECT_THAT(RequestsTo(http_, kSlackUrl)[0].body,
              Not(HasSubstr("m_globex")));
  EXPECT_EQ(RequestsTo(http_, kOtherUrl).size(), 1u);
}

// Rule ids are unique per tenant only (the store's key is tenant and id):
// two tenants' rules with the same id keep apart their cooldowns, counts and
// summaries.
TEST_F(AlertEngineTest, SameRuleIdInTwoTenantsIsKeptApart) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED, "r_same");
  AddChannel(other_, SlackChannel("ops", kOtherUrl));
  AddRule(other_, "r_same", RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "ops"));

  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_acme1")});
  Run();
  ASSERT_EQ(RequestsTo(http_, kSlackUrl).size(), 1u);

  // acme's rule cools down; globex's does not.
  engine().OnEvents({EventOf(other_, EventType::kFailed, "m_globex1")});
  Run();
  ASSERT_EQ(RequestsTo(http_, kOtherUrl).size(), 1u);
  EXPECT_THAT(RequestsTo(http_, kOtherUrl)[0].body, HasSubstr("m_globex1"));

  engine().OnEvents({EventOf(other_, EventType::kFailed, "m_globex2")});
  Run();
  Advance(absl::Minutes(16));
  Run();
  // Only globex's channel hears of globex's messages.
  for (const HttpRequest& request : RequestsTo(http_, kSlackUrl)) {
    EXPECT_THAT(request.body, Not(HasSubstr("m_globex")));
  }
  EXPECT_EQ(RequestsTo(http_, kSlackUrl).size(), 1u);
  ASSERT_EQ(RequestsTo(http_, kOtherUrl).size(), 2u);
  EXPECT_THAT(RequestsTo(http_, kOtherUrl)[1].body, HasSubstr("m_globex2"));
  for (const v1::AlertRecord& record : Records(tenant_)) {
    for (const std::string& id : record.message_ids()) {
      EXPECT_FALSE(absl::StartsWith(id, "m_globex")) << id;
    }
  }
}

// A store whose ListAllAlertRules waits at a gate once armed, to hold the
// engine in the middle of reading its configuration.
class GatedRulesStore : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::StatusOr<std::vector<store::AlertRuleRow>> ListAllAlertRules()
      override {
    if (armed_) {
      armed_ = false;
      entered_.Notify();
      release_.WaitForNotification();
    }
    return ForwardingStore::ListAllAlertRules();
  }
  std::atomic<bool> armed_{false};
  absl::Notification entered_;
  absl::Notification release_;
};

TEST_F(AlertEngineTest, EventsWhileTheNewConfigurationIsReadAreKept) {
  GatedRulesStore gated(store_.get());
  AlertEngine engine(&gated, &clock_, &http_, nullptr, nullptr, Options());
  engine.RunOnce();  // an empty configuration is loaded
  AddChannel(tenant_, SlackChannel("ops", kSlackUrl));
  v1::AlertRule rule = RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "ops");
  AddRule(tenant_, "r_new", rule);
  engine.ConfigChanged();
  gated.armed_ = true;
  std::thread reader([&engine] { engine.RunOnce(); });
  gated.entered_.WaitForNotification();
  // The engine still holds the old configuration, without this tenant.
  engine.OnEvents({EventOf(tenant_, EventType::kFailed, "m_during")});
  gated.release_.Notify();
  reader.join();
  engine.RunOnce();
  ASSERT_TRUE(engine.WaitForDeliveries(kWait));
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("m_during"));
}

TEST_F(AlertEngineTest, RuleCreatedLaterAppliesAfterConfigChanged) {
  Run();  // loads an empty configuration
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_before")});
  Run();
  EXPECT_TRUE(http_.requests().empty());

  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);  // calls ConfigChanged()
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_after")});
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("m_after"));
  EXPECT_THAT(http_.requests()[0].body, Not(HasSubstr("m_before")));
}

TEST_F(AlertEngineTest, PendingMatchesAreBoundedAndOverflowIsCounted) {
  AlertEngineOptions options = Options();
  options.max_pending_matches = 5;
  AlertEngine& engine = NewEngine(&http_, options);
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  engine.OnEvents(Events(tenant_, EventType::kFailed, 12, "m_"));
  EXPECT_EQ(engine.dropped_matches(), 7);
  Run(engine);
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].count(), 5);
}

TEST_F(AlertEngineTest, BounceRateBelowThresholdOrVolumeIsQuiet) {
  SlackRule(v1::ALERT_KIND_BOUNCE_RATE, "r_rate");
  Run();
  // 5 of 205: 2.4%, under 5%.
  engine().OnEvents(Events(tenant_, EventType::kSent, 200, "m_sent"));
  engine().OnEvents(Events(tenant_, EventType::kBounced, 5, "m_bounced"));
  Run();
  EXPECT_TRUE(http_.requests().empty());

  // 40 of 90: a high rate, but under the minimum volume of 100.
  AddChannel(other_, SlackChannel("ops", kOtherUrl));
  AddRule(other_, "r_rate_other", RuleOf(v1::ALERT_KIND_BOUNCE_RATE, "ops"));
  engine().OnEvents(Events(other_, EventType::kSent, 50, "m_o_sent"));
  engine().OnEvents(Events(other_, EventType::kBounced, 40, "m_o_bounced"));
  Run();
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_TRUE(Records(tenant_).empty());
  EXPECT_TRUE(Records(other_).empty());
}

TEST_F(AlertEngineTest, BounceRateAboveThresholdAlertsWithThePercentage) {
  SlackRule(v1::ALERT_KIND_BOUNCE_RATE, "r_rate");
  Run();
  engine().OnEvents(Events(tenant_, EventType::kSent, 200, "m_sent"));
  engine().OnEvents(Events(tenant_, EventType::kBounced, 15, "m_bounced"));
  engine().OnEvents(Events(tenant_, EventType::kBlocked, 5, "m_blocked"));
  Run();
  // 20 of 220.
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body,
              HasSubstr("Bounce rate 9.09% is above 5.00%"));
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("20 bounces out of 220"));
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind(), v1::ALERT_KIND_BOUNCE_RATE);
  EXPECT_EQ(records[0].count(), 20);
  EXPECT_THAT(records[0].text(), HasSubstr("9.09%"));

  // Still above, but cooling down: no repeat.
  Advance(absl::Minutes(5));
  Run();
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(AlertEngineTest, RateWindowForgetsOldTraffic) {
  SlackRule(v1::ALERT_KIND_BOUNCE_RATE, "r_rate");
  Run();
  engine().OnEvents(Events(tenant_, EventType::kSent, 100, "m_sent"));
  engine().OnEvents(Events(tenant_, EventType::kBounced, 50, "m_bounced"));
  // Two hours later (the window is one hour), with clean traffic since.
  Advance(absl::Hours(2));
  engine().OnEvents(Events(tenant_, EventType::kSent, 150, "m_sent_later"));
  Run();
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(AlertEngineTest, ComplaintRateAlertsAboveItsThreshold) {
  SlackRule(v1::ALERT_KIND_COMPLAINT_RATE, "r_complaints");
  Run();
  // 2 of 1000: 0.2%, under 0.3%.
  engine().OnEvents(Events(tenant_, EventType::kSent, 1000, "m_sent"));
  engine().OnEvents(Events(tenant_, EventType::kComplained, 2, "m_c"));
  Run();
  EXPECT_TRUE(http_.requests().empty());

  // 6 of 1000: 0.6%.
  engine().OnEvents(Events(tenant_, EventType::kComplained, 4, "m_c_more"));
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body,
              HasSubstr("Complaint rate 0.60% is above 0.30%"));
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind(), v1::ALERT_KIND_COMPLAINT_RATE);
  EXPECT_EQ(records[0].count(), 6);
}

TEST_F(AlertEngineTest, OldQueuedMessageRaisesQueueAge) {
  SlackRule(v1::ALERT_KIND_QUEUE_AGE, "r_age");
  InsertMessage(tenant_, "m_stuck", kStart - absl::Hours(1));
  InsertMessage(tenant_, "m_young", kStart - absl::Minutes(1));
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("m_stuck"));
  EXPECT_THAT(http_.requests()[0].body,
              HasSubstr("Oldest unsent message is 1h old"));
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind(), v1::ALERT_KIND_QUEUE_AGE);
  EXPECT_EQ(records[0].severity(), v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_THAT(records[0].message_ids(), ::testing::ElementsAre("m_stuck"));
  EXPECT_EQ(records[0].count(), 2);  // queued or waiting in all

  // The cooldown holds back the repeat.
  Advance(absl::Minutes(1));
  Run();
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(AlertEngineTest, StoreChecksRunOncePerTickNotAtEveryWakeUp) {
  AlertEngineOptions options = Options();
  options.tick = absl::Minutes(1);
  AlertEngine& engine = NewEngine(&http_, options);
  SlackRule(v1::ALERT_KIND_QUEUE_AGE, "r_age", /*cooldown_seconds=*/10);
  InsertMessage(tenant_, "m_stuck", kStart - absl::Hours(1));
  Run(engine);
  ASSERT_EQ(http_.requests().size(), 1u);
  // The cooldown is over, but the next queue check is a tick away, however
  // often matches wake the engine.
  Advance(absl::Seconds(20));
  for (int i = 0; i < 3; ++i) {
    engine.OnEvents({EventOf(tenant_, EventType::kSent, "m_ok")});
    Run(engine);
  }
  EXPECT_EQ(http_.requests().size(), 1u);
  Advance(absl::Seconds(45));
  Run(engine);
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(AlertEngineTest, YoungQueueRaisesNothing) {
  SlackRule(v1::ALERT_KIND_QUEUE_AGE, "r_age");
  InsertMessage(tenant_, "m_young", kStart - absl::Minutes(29));
  // Another tenant's old message is not this tenant's business, and that
  // tenant has no rule.
  InsertMessage(other_, "m_other_old", kStart - absl::Hours(3));
  Run();
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_TRUE(Records(tenant_).empty());
  EXPECT_TRUE(Records(other_).empty());

  Advance(absl::Minutes(2));  // now 31 minutes old
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("m_young"));
}

TEST_F(AlertEngineTest, FailingChannelIsRecordedAfterItsRetries) {
  FakeHttpClient failing({Status(500), Status(502), Status(503), Status(500)});
  AlertEngine& engine = NewEngine(&failing, Options());  // 3 attempts
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  engine.OnEvents({EventOf(tenant_, EventType::kFailed, "m_1")});
  Run(engine);
  EXPECT_EQ(failing.requests().size(), 3u);
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].accepted());
  EXPECT_EQ(records[0].attempts(), 3);
  EXPECT_EQ(records[0].status_code(), 503);
  EXPECT_FALSE(records[0].error().empty());
  // The backoff waited on the fake clock: 1 s, then 2 s.
  EXPECT_EQ(records[0].last_attempt_time().seconds(),
            absl::ToUnixSeconds(kStart) + 3);
}

TEST_F(AlertEngineTest, SendTestAlertDeliversNowAndRecordsKindTest) {
  AddChannel(tenant_, SlackChannel("ops", kSlackUrl));
  absl::StatusOr<v1::AlertRecord> record =
      engine().SendTestAlert(tenant_, "acme", "ops");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(record->accepted());
  EXPECT_EQ(record->kind(), v1::ALERT_KIND_TEST);
  EXPECT_EQ(record->rule(), "");
  EXPECT_EQ(record->channel(), "alertChannels/ops");
  EXPECT_EQ(record->attempts(), 1);
  EXPECT_EQ(record->status_code(), 200);
  EXPECT_EQ(record->destination(), "https://hooks.slack.com");
  EXPECT_THAT(record->name(), ::testing::StartsWith("alerts/"));
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("Test alert for channel ops"));
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("acme"));

  absl::StatusOr<std::vector<store::AlertRecordRow>> rows =
      store_->ListAlertRecords(tenant_, "ops", v1::ALERT_KIND_TEST, 10, 0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].rule_id, "");
  EXPECT_TRUE((*rows)[0].accepted);
  EXPECT_EQ(record->name(), absl::StrCat("alerts/", (*rows)[0].id));
}

TEST_F(AlertEngineTest, SendTestAlertToAnUnknownChannelIsNotFound) {
  AddChannel(other_, SlackChannel("ops", kSlackUrl));  // another tenant's
  absl::StatusOr<v1::AlertRecord> record =
      engine().SendTestAlert(tenant_, "acme", "ops");
  EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound);
  record = engine().SendTestAlert(tenant_, "acme", "missing");
  EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_TRUE(Records(tenant_).empty());
}

TEST_F(AlertEngineTest, SendTestAlertToAFailingChannelReportsTheFailure) {
  FakeHttpClient failing({Status(500), Status(500), Status(500)});
  AlertEngine& engine = NewEngine(&failing, Options());  // test: 2 attempts
  AddChannel(tenant_, SlackChannel("ops", kSlackUrl));
  absl::StatusOr<v1::AlertRecord> record =
      engine.SendTestAlert(tenant_, "acme", "ops");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_FALSE(record->accepted());
  EXPECT_EQ(record->attempts(), 2);
  EXPECT_EQ(record->status_code(), 500);
  EXPECT_FALSE(record->error().empty());
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].accepted());
}

TEST_F(AlertEngineTest, WebhookRequestsAreSignedWithTheChannelSecret) {
  v1::AlertChannel webhook;
  webhook.set_name("hook");
  webhook.set_type(v1::ALERT_CHANNEL_TYPE_WEBHOOK);
  webhook.set_url("https://receiver.example/deliverd?key=1");
  webhook.set_secret(kSecret);
  AddChannel(tenant_, webhook);
  AddRule(tenant_, "r_hook", RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "hook"));
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_signed")});
  Run();

  ASSERT_EQ(http_.requests().size(), 1u);
  const HttpRequest request = http_.requests()[0];
  EXPECT_EQ(request.url, "https://receiver.example/deliverd?key=1");
  EXPECT_THAT(request.body, HasSubstr("\"kind\":\"message_failed\""));
  EXPECT_THAT(request.body, HasSubstr("m_signed"));
  const std::optional<std::string> timestamp =
      request.Header(kWebhookTimestampHeader);
  const std::optional<std::string> signature =
      request.Header(kWebhookSignatureHeader);
  ASSERT_TRUE(timestamp.has_value());
  ASSERT_TRUE(signature.has_value());
  EXPECT_TRUE(VerifyWebhookSignature(kSecret, *timestamp, *signature,
                                     request.body, clock_.Now(),
                                     absl::Minutes(5))
                  .ok());
  EXPECT_FALSE(VerifyWebhookSignature("another-secret-0123456789", *timestamp,
                                      *signature, request.body, clock_.Now(),
                                      absl::Minutes(5))
                   .ok());
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].accepted());
  EXPECT_EQ(records[0].destination(), "https://receiver.example");

  // A test alert is signed too.
  absl::StatusOr<v1::AlertRecord> test =
      engine().SendTestAlert(tenant_, "acme", "hook");
  ASSERT_TRUE(test.ok()) << test.status();
  ASSERT_EQ(http_.requests().size(), 2u);
  const HttpRequest second = http_.requests()[1];
  EXPECT_TRUE(VerifyWebhookSignature(
                  kSecret, *second.Header(kWebhookTimestampHeader),
                  *second.Header(kWebhookSignatureHeader), second.body,
                  clock_.Now(), absl::Minutes(5))
                  .ok());
}

TEST_F(AlertEngineTest, EmailChannelWithoutATransportRecordsTheError) {
  v1::AlertChannel email;
  email.set_name("mail");
  email.set_type(v1::ALERT_CHANNEL_TYPE_EMAIL);
  email.add_email_to("ops@example.com");
  AddChannel(tenant_, email);
  AddRule(tenant_, "r_mail", RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "mail"));
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_1")});
  Run();
  EXPECT_TRUE(http_.requests().empty());
  std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].accepted());
  EXPECT_FALSE(records[0].error().empty());
  EXPECT_EQ(records[0].channel_type(), v1::ALERT_CHANNEL_TYPE_EMAIL);
  EXPECT_EQ(records[0].destination(), "email:ops@example.com");

  absl::StatusOr<v1::AlertRecord> test =
      engine().SendTestAlert(tenant_, "acme", "mail");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_FALSE(test->accepted());
  EXPECT_FALSE(test->error().empty());
  EXPECT_EQ(Records(tenant_).size(), 2u);
}

TEST_F(AlertEngineTest, DomainCheckAlertsOnANewErrorOnly) {
  auth_checks::dns::FakeResolver dns;
  dns.Add("example.com", auth_checks::dns::RrType::kTxt,
          "v=spf1 ip4:198.51.100.0/24 -all");
  dns.Add("example.com", auth_checks::dns::RrType::kMx, "mx.example.com", 10);
  dns.Add("mx.example.com", auth_checks::dns::RrType::kA, "198.51.100.1");
  dns.Add("_dmarc.example.com", auth_checks::dns::RrType::kTxt,
          "v=DMARC1; p=reject; rua=mailto:d@example.com");
  AlertEngine& engine = NewEngine(&http_, Options(), nullptr, &dns);
  AddChannel(tenant_, SlackChannel("ops", kSlackUrl));
  v1::AlertRule rule = RuleOf(v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED, "ops");
  rule.add_domains("example.com");
  rule.set_check_interval_seconds(600);
  AddRule(tenant_, "r_dns", rule);

  Run(engine);  // the baseline
  const int baseline_queries = dns.query_count();
  EXPECT_GT(baseline_queries, 0);
  Advance(absl::Minutes(5));
  Run(engine);  // not due again yet
  EXPECT_EQ(dns.query_count(), baseline_queries);
  EXPECT_TRUE(http_.requests().empty());

  // A second SPF record breaks SPF.
  dns.Add("example.com", auth_checks::dns::RrType::kTxt, "v=spf1 -all");
  Advance(absl::Minutes(6));
  Run(engine);
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body,
              HasSubstr("Authentication of example.com regressed"));
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind(), v1::ALERT_KIND_DOMAIN_AUTH_REGRESSED);

  // The same error at the next check is no longer new.
  Advance(absl::Minutes(11));
  Run(engine);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(AlertEngineTest, DiscordAndTeamsChannelsArePosted) {
  v1::AlertChannel discord = SlackChannel("chat", kSlackUrl);
  discord.set_type(v1::ALERT_CHANNEL_TYPE_DISCORD);
  discord.set_url("https://discord.com/api/webhooks/1/abc");
  v1::AlertChannel teams = SlackChannel("teams", kOtherUrl);
  teams.set_type(v1::ALERT_CHANNEL_TYPE_TEAMS);
  teams.set_url("https://example.webhook.office.com/webhookb2/x");
  AddChannel(tenant_, discord);
  AddChannel(tenant_, teams);
  v1::AlertRule rule = RuleOf(v1::ALERT_KIND_HARD_BOUNCE, "chat");
  rule.add_channels("teams");
  AddRule(tenant_, "r_chat", rule);
  engine().OnEvents({EventOf(tenant_, EventType::kBounced, "m_b1")});
  Run();
  ASSERT_EQ(RequestsTo(http_, "https://discord.com/api/webhooks/1/abc").size(),
            1u);
  ASSERT_EQ(RequestsTo(http_, "https://example.webhook.office.com/webhookb2/x")
                .size(),
            1u);
  for (const HttpRequest& request : http_.requests()) {
    EXPECT_THAT(request.body, HasSubstr("m_b1"));
  }
  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 2u);
  std::vector<std::string> destinations;
  for (const v1::AlertRecord& record : records) {
    EXPECT_TRUE(record.accepted());
    destinations.push_back(record.destination());
  }
  EXPECT_THAT(destinations, ::testing::UnorderedElementsAre(
                                "https://discord.com",
                                "https://example.webhook.office.com"));
}

// One SMS per number; each record says which number (masked), as a test
// alert's record does, not the SMS API's host.
TEST_F(AlertEngineTest, SmsChannelSendsToEachNumberAndRecordsIt) {
  v1::AlertChannel sms;
  sms.set_name("pager");
  sms.set_type(v1::ALERT_CHANNEL_TYPE_SMS);
  sms.set_sms_base_url("https://sms.example");
  sms.set_sms_account_sid("AC123");
  sms.set_sms_auth_token("auth-token-1");
  sms.set_sms_from("+15005550006");
  sms.add_sms_to("+14155550123");
  sms.add_sms_to("+447700900123");
  AddChannel(tenant_, sms);
  AddRule(tenant_, "r_sms", RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "pager"));
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_sms")});
  Run();

  const std::vector<HttpRequest> requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const HttpRequest& request : requests) {
    EXPECT_TRUE(absl::StartsWith(request.url, "https://sms.example/"))
        << request.url;
    EXPECT_THAT(request.body, HasSubstr("m_sms"));
  }
  EXPECT_THAT(requests[0].body, HasSubstr("14155550123"));
  EXPECT_THAT(requests[1].body, HasSubstr("447700900123"));

  const std::vector<v1::AlertRecord> records = Records(tenant_);
  ASSERT_EQ(records.size(), 2u);
  std::vector<std::string> destinations;
  for (const v1::AlertRecord& record : records) {
    EXPECT_TRUE(record.accepted());
    EXPECT_EQ(record.channel_type(), v1::ALERT_CHANNEL_TYPE_SMS);
    EXPECT_EQ(record.destination().find("5550123"), std::string::npos);
    EXPECT_EQ(record.destination().find("auth-token-1"), std::string::npos);
    destinations.push_back(record.destination());
  }
  EXPECT_THAT(destinations, ::testing::UnorderedElementsAre(
                                "sms:+141******23", "sms:+447*******23"));

  absl::StatusOr<v1::AlertRecord> test =
      engine().SendTestAlert(tenant_, "acme", "pager");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_TRUE(test->accepted());
  EXPECT_EQ(test->attempts(), 2);
  EXPECT_EQ(test->destination(), "sms:+141******23, +447*******23");
}

// A rule created through another replica (no ConfigChanged here) applies
// once this replica reads the configuration again.
TEST_F(AlertEngineTest, AnotherReplicasRuleAppliesAfterTheRefresh) {
  Run();  // loads the (empty) configuration
  absl::StatusOr<ChannelConfig> channel =
      ChannelFromProto(tenant_, SlackChannel("ops", kSlackUrl));
  ASSERT_TRUE(channel.ok());
  ASSERT_TRUE(store_->CreateAlertChannel(ChannelToRow(*channel)).ok());
  absl::StatusOr<RuleConfig> rule =
      RuleFromProto(tenant_, RuleOf(v1::ALERT_KIND_MESSAGE_FAILED, "ops"));
  ASSERT_TRUE(rule.ok());
  rule->id = "r_elsewhere";
  ASSERT_TRUE(store_->CreateAlertRule(RuleToRow(*rule)).ok());

  Advance(absl::Seconds(11));  // config_refresh is 10 s
  Run();
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_1")});
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("m_1"));
}

// A stored rule or channel that no longer decodes is skipped; the others
// still work.
TEST_F(AlertEngineTest, UnreadableStoredRowsAreSkipped) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED, "r_good");
  store::AlertChannelRow bad_channel;
  bad_channel.tenant_id = tenant_;
  bad_channel.name = "broken";
  bad_channel.type = 1;
  bad_channel.spec = "\xff\xff";
  ASSERT_TRUE(store_->CreateAlertChannel(bad_channel).ok());
  store::AlertRuleRow bad_rule;
  bad_rule.tenant_id = tenant_;
  bad_rule.id = "r_bad";
  bad_rule.kind = v1::ALERT_KIND_MESSAGE_FAILED;
  bad_rule.channels = {"broken"};
  bad_rule.spec = "\xff\xff";
  ASSERT_TRUE(store_->CreateAlertRule(bad_rule).ok());
  engine().ConfigChanged();
  engine().OnEvents({EventOf(tenant_, EventType::kFailed, "m_1")});
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.requests()[0].url, kSlackUrl);
  ASSERT_EQ(Records(tenant_).size(), 1u);
  EXPECT_EQ(Records(tenant_)[0].rule(), "alertRules/r_good");
}

// AlertingStore: the engine hears of outcomes the store really stored.

class AlertingStoreTest : public AlertEngineTest {};

TEST_F(AlertingStoreTest, RecordDeliveryAlertsOnlyWhenTheStoreAccepted) {
  SlackRule(v1::ALERT_KIND_MESSAGE_FAILED);
  AlertingStore alerting(store_.get(), &engine());
  InsertMessage(tenant_, "m_leased", kStart - absl::Minutes(1));
  absl::StatusOr<std::vector<store::Message>> claimed =
      alerting.ClaimDueMessages("replica-a", kStart, absl::Minutes(5), 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);

  store::DeliveryUpdate update;
  update.tenant_id = tenant_;
  update.message_id = "m_leased";
  update.status = store::MessageStatus::kFailed;
  update.recipients = (*claimed)[0].recipients;
  update.recipients[0].status = store::MessageStatus::kFailed;
  update.attempt_count = 1;
  update.events = {EventOf(tenant_, EventType::kFailed, "m_leased")};

  update.lease_owner = "replica-b";  // not the holder
  EXPECT_EQ(alerting.RecordDelivery(update).code(),
            absl::StatusCode::kFailedPrecondition);
  Run();
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_TRUE(Records(tenant_).empty());

  update.lease_owner = "replica-a";
  absl::Status recorded = alerting.RecordDelivery(update);
  ASSERT_TRUE(recorded.ok()) << recorded;
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_THAT(http_.requests()[0].body, HasSubstr("m_leased"));
  EXPECT_EQ(Records(tenant_).size(), 1u);
}

TEST_F(AlertingStoreTest, ApplyFeedbackAlertsOnlyWhenApplied) {
  SlackRule(v1::ALERT_KIND_COMPLAINT, "r_complaint");
  AlertingStore alerting(store_.get(), &engine());
  store::FeedbackUpdate update;
  update.tenant_id = tenant_;
  update.fingerprint = "fbl-report-1";
  update.events = {EventOf(tenant_, EventType::kComplained, "")};
  absl::StatusOr<bool> applied = alerting.ApplyFeedback(update);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(*applied);
  Run();
  ASSERT_EQ(http_.requests().size(), 1u);

  // The same report again changes nothing, and so raises nothing (even
  // with the cooldown over).
  Advance(absl::Hours(1));
  applied = alerting.ApplyFeedback(update);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_FALSE(*applied);
  Run();
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(Records(tenant_).size(), 1u);
}

}  // namespace
}  // namespace deliverd::alerts
