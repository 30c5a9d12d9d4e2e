// Conformance: alerts — channels and rules per tenant (duplicates, channel
// updates, deletes refused while in use, rules naming missing channels,
// ordering, isolation), the all-tenant lists, alert records (newest first,
// paging, filters), the oldest unsent message per tenant, and the shared alert
// windows (claims, notes, concurrent claims).
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class AlertsTest : public StoreTest<F> {
 protected:
  void SetUp() override {
    StoreTest<F>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    a_ = this->MakeTenant("acme");
    b_ = this->MakeTenant("globex");
  }

  static AlertChannelRow Channel(int64_t tenant, const std::string& name,
                                 int type = 1) {
    AlertChannelRow c;
    c.tenant_id = tenant;
    c.name = name;
    c.type = type;
    // Opaque bytes, with a NUL and a byte that is not UTF-8.
    c.spec = std::string("spec\0of ", 8) + name + "\xff";
    c.create_time = T0() + absl::Microseconds(name.size());
    return c;
  }

  static AlertRuleRow Rule(int64_t tenant, const std::string& id,
                           std::vector<std::string> channels, int kind = 2) {
    AlertRuleRow r;
    r.tenant_id = tenant;
    r.id = id;
    r.kind = kind;
    r.channels = std::move(channels);
    r.spec = std::string("rule\0", 5) + id;
    r.create_time = T0() - absl::Microseconds(id.size());
    return r;
  }

  static AlertRecordRow Record(int64_t tenant, const std::string& channel,
                               int kind, const std::string& rule_id) {
    AlertRecordRow r;
    r.tenant_id = tenant;
    r.kind = kind;
    r.channel = channel;
    r.rule_id = rule_id;
    r.accepted = kind % 2 == 0;
    r.create_time = T0() + absl::Seconds(kind);
    r.record = std::string("record\0", 7) + channel;
    return r;
  }

  std::vector<AlertChannelRow> Channels(int64_t tenant) {
    absl::StatusOr<std::vector<AlertChannelRow>> got =
        this->store().ListAlertChannels(tenant);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *std::move(got) : std::vector<AlertChannelRow>();
  }

  std::vector<AlertRuleRow> Rules(int64_t tenant) {
    absl::StatusOr<std::vector<AlertRuleRow>> got =
        this->store().ListAlertRules(tenant);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *std::move(got) : std::vector<AlertRuleRow>();
  }

  std::vector<int64_t> RecordIds(int64_t tenant, const std::string& channel,
                                 int kind, int page_size, int64_t before_id) {
    absl::StatusOr<std::vector<AlertRecordRow>> got =
        this->store().ListAlertRecords(tenant, channel, kind, page_size,
                                       before_id);
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<int64_t> ids;
    if (!got.ok()) return ids;
    for (const AlertRecordRow& r : *got) {
      EXPECT_EQ(r.tenant_id, tenant) << "record " << r.id;
      ids.push_back(r.id);
    }
    return ids;
  }

  std::vector<OldestUnsentMessage> Oldest() {
    absl::StatusOr<std::vector<OldestUnsentMessage>> got =
        this->store().OldestUnsentMessages();
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *std::move(got) : std::vector<OldestUnsentMessage>();
  }

  AlertWindow Claim(int64_t tenant, const std::string& key, absl::Time now,
                    absl::Time until) {
    absl::StatusOr<AlertWindow> got =
        this->store().ClaimAlertWindow(tenant, key, now, until);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *std::move(got) : AlertWindow();
  }

  static void ExpectSameChannel(const AlertChannelRow& want,
                                const AlertChannelRow& got) {
    SCOPED_TRACE(absl::StrCat("channel ", want.name));
    EXPECT_EQ(got.tenant_id, want.tenant_id);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.spec, want.spec);
    EXPECT_EQ(got.create_time, want.create_time);
  }

  static void ExpectSameRule(const AlertRuleRow& want,
                             const AlertRuleRow& got) {
    SCOPED_TRACE(absl::StrCat("rule ", want.id));
    EXPECT_EQ(got.tenant_id, want.tenant_id);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.channels, want.channels);
    EXPECT_EQ(got.spec, want.spec);
    EXPECT_EQ(got.create_time, want.create_time);
  }

  // Claims message `id` (due) and records `status` for it.
  void SetStatus(const std::string& id, MessageStatus status) {
    absl::StatusOr<std::vector<Message>> claimed =
        this->store().ClaimDueMessages("alerts-test", T0() + absl::Hours(1000),
                                       absl::Minutes(5), 1000);
    ASSERT_TRUE(claimed.ok()) << claimed.status();
    bool found = false;
    for (const Message& m : *claimed) {
      if (m.id != id) continue;
      found = true;
      DeliveryUpdate u;
      u.tenant_id = m.tenant_id;
      u.message_id = m.id;
      u.lease_owner = "alerts-test";
      u.status = status;
      u.recipients = m.recipients;
      for (Recipient& r : u.recipients) r.status = status;
      // Unsent messages stay due, so a later call can change them again.
      bool unsent =
          status == MessageStatus::kQueued || status == MessageStatus::kWaiting;
      u.next_attempt_time = unsent ? T0() : absl::InfiniteFuture();
      u.attempt_count = m.attempt_count + 1;
      STORE_ASSERT_OK(this->store().RecordDelivery(u));
    }
    ASSERT_TRUE(found) << id << " was not claimable";
    // Give every other claimed message back, unchanged and due again.
    STORE_ASSERT_OK(this->store().ReleaseAllLeases());
  }

  int64_t a_ = 0;
  int64_t b_ = 0;
};
TYPED_TEST_SUITE(AlertsTest, StoreFactories, FactoryName);

TYPED_TEST(AlertsTest, ChannelsAreCreatedListedByNameAndDeleted) {
  auto& store = this->store();
  AlertChannelRow pager = this->Channel(this->a_, "pager", 1);
  AlertChannelRow email = this->Channel(this->a_, "email", 2);
  AlertChannelRow ops = this->Channel(this->a_, "ops-team", 3);
  STORE_ASSERT_OK(store.CreateAlertChannel(pager));
  STORE_ASSERT_OK(store.CreateAlertChannel(email));
  STORE_ASSERT_OK(store.CreateAlertChannel(ops));

  std::vector<AlertChannelRow> listed = this->Channels(this->a_);
  ASSERT_EQ(listed.size(), 3u);
  this->ExpectSameChannel(email, listed[0]);
  this->ExpectSameChannel(ops, listed[1]);
  this->ExpectSameChannel(pager, listed[2]);

  // A taken name, even with other settings.
  absl::Status again =
      store.CreateAlertChannel(this->Channel(this->a_, "pager", 9));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  ASSERT_EQ(this->Channels(this->a_).size(), 3u);
  EXPECT_EQ(this->Channels(this->a_)[2].type, 1);

  STORE_ASSERT_OK(store.DeleteAlertChannel(this->a_, "email"));
  listed = this->Channels(this->a_);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "ops-team");
  EXPECT_EQ(listed[1].name, "pager");
  absl::Status gone = store.DeleteAlertChannel(this->a_, "email");
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound) << gone;
  // The name is free again.
  STORE_ASSERT_OK(store.CreateAlertChannel(email));
  EXPECT_EQ(this->Channels(this->a_).size(), 3u);
}

TYPED_TEST(AlertsTest, ChannelsAreIsolatedPerTenant) {
  auto& store = this->store();
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "pager")));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "email")));
  // The same name in another tenant is another channel.
  AlertChannelRow b_pager = this->Channel(this->b_, "pager", 7);
  STORE_ASSERT_OK(store.CreateAlertChannel(b_pager));

  std::vector<AlertChannelRow> b = this->Channels(this->b_);
  ASSERT_EQ(b.size(), 1u);
  this->ExpectSameChannel(b_pager, b[0]);
  EXPECT_TRUE(this->Channels(this->MakeTenant("initech")).empty());

  // B cannot delete A's channel, even knowing its name.
  absl::Status other = store.DeleteAlertChannel(this->b_, "email");
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound) << other;
  EXPECT_EQ(this->Channels(this->a_).size(), 2u);
  // Deleting B's "pager" leaves A's.
  STORE_ASSERT_OK(store.DeleteAlertChannel(this->b_, "pager"));
  EXPECT_TRUE(this->Channels(this->b_).empty());
  ASSERT_EQ(this->Channels(this->a_).size(), 2u);
  EXPECT_EQ(this->Channels(this->a_)[1].name, "pager");
}

TYPED_TEST(AlertsTest, ChannelUpdateReplacesTypeAndSpecOnly) {
  auto& store = this->store();
  AlertChannelRow pager = this->Channel(this->a_, "pager", 1);
  STORE_ASSERT_OK(store.CreateAlertChannel(pager));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->b_, "pager")));

  AlertChannelRow changed = pager;
  changed.type = 4;
  changed.spec = std::string("new\0spec", 8);
  changed.create_time = T0() + absl::Hours(1);  // ignored: kept as created
  STORE_ASSERT_OK(store.UpdateAlertChannel(changed));
  std::vector<AlertChannelRow> listed = this->Channels(this->a_);
  ASSERT_EQ(listed.size(), 1u);
  changed.create_time = pager.create_time;
  this->ExpectSameChannel(changed, listed[0]);
  // The same settings again still find the channel.
  STORE_ASSERT_OK(store.UpdateAlertChannel(changed));
  // B's channel of that name is untouched.
  ASSERT_EQ(this->Channels(this->b_).size(), 1u);
  this->ExpectSameChannel(this->Channel(this->b_, "pager"),
                          this->Channels(this->b_)[0]);

  AlertChannelRow missing = this->Channel(this->a_, "email");
  absl::Status not_found = store.UpdateAlertChannel(missing);
  EXPECT_EQ(not_found.code(), absl::StatusCode::kNotFound) << not_found;
  EXPECT_EQ(this->Channels(this->a_).size(), 1u) << "not created";
  // Without a channel of that name, B cannot update A's.
  STORE_ASSERT_OK(store.DeleteAlertChannel(this->b_, "pager"));
  AlertChannelRow foreign = changed;
  foreign.tenant_id = this->b_;
  foreign.type = 9;
  not_found = store.UpdateAlertChannel(foreign);
  EXPECT_EQ(not_found.code(), absl::StatusCode::kNotFound) << not_found;
  EXPECT_EQ(this->Channels(this->a_)[0].type, 4);
}

TYPED_TEST(AlertsTest, RulesAreCreatedListedByIdAndDeleted) {
  auto& store = this->store();
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "pager")));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "email")));
  AlertRuleRow r2 = this->Rule(this->a_, "r_2", {"pager", "email"}, 3);
  AlertRuleRow r1 = this->Rule(this->a_, "r_1", {"email"}, 1);
  AlertRuleRow r3 = this->Rule(this->a_, "r_3", {}, 2);  // no channel yet
  STORE_ASSERT_OK(store.CreateAlertRule(r2));
  STORE_ASSERT_OK(store.CreateAlertRule(r1));
  STORE_ASSERT_OK(store.CreateAlertRule(r3));

  std::vector<AlertRuleRow> listed = this->Rules(this->a_);
  ASSERT_EQ(listed.size(), 3u);
  this->ExpectSameRule(r1, listed[0]);
  this->ExpectSameRule(r2, listed[1]);  // channels keep their order
  this->ExpectSameRule(r3, listed[2]);

  absl::Status again =
      store.CreateAlertRule(this->Rule(this->a_, "r_1", {"pager"}, 5));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  ASSERT_EQ(this->Rules(this->a_).size(), 3u);
  this->ExpectSameRule(r1, this->Rules(this->a_)[0]);

  STORE_ASSERT_OK(store.DeleteAlertRule(this->a_, "r_2"));
  listed = this->Rules(this->a_);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, "r_1");
  EXPECT_EQ(listed[1].id, "r_3");
  absl::Status gone = store.DeleteAlertRule(this->a_, "r_2");
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound) << gone;
}

TYPED_TEST(AlertsTest, RulesAreIsolatedPerTenant) {
  auto& store = this->store();
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "pager")));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->a_, "r_a", {"pager"})));
  EXPECT_TRUE(this->Rules(this->b_).empty());
  // B cannot delete A's rule, even knowing its id.
  absl::Status other = store.DeleteAlertRule(this->b_, "r_a");
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound) << other;
  EXPECT_EQ(this->Rules(this->a_).size(), 1u);
  // Nor name A's channel in a rule of its own.
  absl::Status foreign =
      store.CreateAlertRule(this->Rule(this->b_, "r_b", {"pager"}));
  EXPECT_EQ(foreign.code(), absl::StatusCode::kFailedPrecondition) << foreign;
  EXPECT_TRUE(this->Rules(this->b_).empty());
  // With its own channel of that name it can.
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->b_, "pager")));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->b_, "r_b", {"pager"})));
  ASSERT_EQ(this->Rules(this->b_).size(), 1u);
  EXPECT_EQ(this->Rules(this->b_)[0].id, "r_b");
  ASSERT_EQ(this->Rules(this->a_).size(), 1u);
  EXPECT_EQ(this->Rules(this->a_)[0].id, "r_a");
}

TYPED_TEST(AlertsTest, RuleNamingAMissingChannelIsRefused) {
  auto& store = this->store();
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "pager")));
  absl::Status missing =
      store.CreateAlertRule(this->Rule(this->a_, "r_1", {"pager", "nowhere"}));
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition) << missing;
  EXPECT_TRUE(this->Rules(this->a_).empty()) << "nothing inserted";
  // Once the channel exists, the same rule is accepted.
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "nowhere")));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->a_, "r_1", {"pager", "nowhere"})));
  EXPECT_EQ(this->Rules(this->a_).size(), 1u);
}

TYPED_TEST(AlertsTest, ChannelInUseCannotBeDeleted) {
  auto& store = this->store();
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "ops")));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "ops-2")));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "pager")));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->a_, "r_1", {"pager", "ops-2"})));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->a_, "r_2", {"pager"})));

  for (const char* name : {"pager", "ops-2"}) {
    absl::Status in_use = store.DeleteAlertChannel(this->a_, name);
    EXPECT_EQ(in_use.code(), absl::StatusCode::kFailedPrecondition)
        << name << ": " << in_use;
  }
  EXPECT_EQ(this->Channels(this->a_).size(), 3u);
  // "ops" is a prefix of a used name, not used itself.
  STORE_ASSERT_OK(store.DeleteAlertChannel(this->a_, "ops"));

  // Another tenant's rule naming a channel of the same name does not count.
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->b_, "pager")));
  STORE_ASSERT_OK(store.DeleteAlertChannel(this->b_, "pager"));

  STORE_ASSERT_OK(store.DeleteAlertRule(this->a_, "r_1"));
  STORE_ASSERT_OK(store.DeleteAlertChannel(this->a_, "ops-2"));
  absl::Status still = store.DeleteAlertChannel(this->a_, "pager");
  EXPECT_EQ(still.code(), absl::StatusCode::kFailedPrecondition) << still;
  STORE_ASSERT_OK(store.DeleteAlertRule(this->a_, "r_2"));
  STORE_ASSERT_OK(store.DeleteAlertChannel(this->a_, "pager"));
  EXPECT_TRUE(this->Channels(this->a_).empty());
}

TYPED_TEST(AlertsTest, ListAllIsOrderedByTenantThenNameOrId) {
  auto& store = this->store();
  {
    STORE_ASSERT_OK_AND_ASSIGN(std::vector<AlertChannelRow> none,
                               store.ListAllAlertChannels());
    EXPECT_TRUE(none.empty());
    STORE_ASSERT_OK_AND_ASSIGN(std::vector<AlertRuleRow> no_rules,
                               store.ListAllAlertRules());
    EXPECT_TRUE(no_rules.empty());
  }
  // Created out of order.
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->b_, "alpha")));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "zulu")));
  STORE_ASSERT_OK(store.CreateAlertChannel(this->Channel(this->a_, "alpha")));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->b_, "r_1", {"alpha"})));
  STORE_ASSERT_OK(store.CreateAlertRule(this->Rule(this->a_, "r_9", {"zulu"})));
  STORE_ASSERT_OK(
      store.CreateAlertRule(this->Rule(this->a_, "r_5", {"alpha", "zulu"})));

  STORE_ASSERT_OK_AND_ASSIGN(std::vector<AlertChannelRow> channels,
                             store.ListAllAlertChannels());
  ASSERT_EQ(channels.size(), 3u);
  ASSERT_LT(this->a_, this->b_);
  this->ExpectSameChannel(this->Channel(this->a_, "alpha"), channels[0]);
  this->ExpectSameChannel(this->Channel(this->a_, "zulu"), channels[1]);
  this->ExpectSameChannel(this->Channel(this->b_, "alpha"), channels[2]);

  STORE_ASSERT_OK_AND_ASSIGN(std::vector<AlertRuleRow> rules,
                             store.ListAllAlertRules());
  ASSERT_EQ(rules.size(), 3u);
  this->ExpectSameRule(this->Rule(this->a_, "r_5", {"alpha", "zulu"}),
                       rules[0]);
  this->ExpectSameRule(this->Rule(this->a_, "r_9", {"zulu"}), rules[1]);
  this->ExpectSameRule(this->Rule(this->b_, "r_1", {"alpha"}), rules[2]);
}

TYPED_TEST(AlertsTest, RecordsAreListedNewestFirstWithPagingAndFilters) {
  auto& store = this->store();
  // A: kinds 1 and 2 on two channels; B: the same channel name.
  struct Want {
    std::string channel;
    int kind;
    std::string rule;
  };
  const std::vector<Want> wants = {
      {"pager", 1, "r_1"}, {"email", 1, "r_1"}, {"pager", 2, ""},
      {"email", 2, "r_2"}, {"pager", 1, "r_1"}, {"pager", 2, "r_2"},
  };
  std::vector<int64_t> ids;
  for (size_t i = 0; i < wants.size(); ++i) {
    AlertRecordRow record =
        this->Record(this->a_, wants[i].channel, wants[i].kind, wants[i].rule);
    STORE_ASSERT_OK_AND_ASSIGN(int64_t id, store.InsertAlertRecord(record));
    if (!ids.empty()) {
      EXPECT_GT(id, ids.back()) << "ids increase";
    }
    ids.push_back(id);
    if (i == 2) {
      STORE_ASSERT_OK_AND_ASSIGN(
          int64_t b_id,
          store.InsertAlertRecord(this->Record(this->b_, "pager", 1, "r_b")));
      EXPECT_GT(b_id, id);
    }
  }

  // Everything of A, newest first, with every field.
  STORE_ASSERT_OK_AND_ASSIGN(std::vector<AlertRecordRow> all,
                             store.ListAlertRecords(this->a_, "", 0, 100, 0));
  ASSERT_EQ(all.size(), wants.size());
  for (size_t i = 0; i < all.size(); ++i) {
    size_t w = wants.size() - 1 - i;
    SCOPED_TRACE(absl::StrCat("record #", w));
    AlertRecordRow want =
        this->Record(this->a_, wants[w].channel, wants[w].kind, wants[w].rule);
    EXPECT_EQ(all[i].id, ids[w]);
    EXPECT_EQ(all[i].tenant_id, this->a_);
    EXPECT_EQ(all[i].kind, want.kind);
    EXPECT_EQ(all[i].channel, want.channel);
    EXPECT_EQ(all[i].rule_id, want.rule_id);
    EXPECT_EQ(all[i].accepted, want.accepted);
    EXPECT_EQ(all[i].create_time, want.create_time);
    EXPECT_EQ(all[i].record, want.record);
  }

  // Paging: before_id is the last id of the previous page.
  EXPECT_EQ(this->RecordIds(this->a_, "", 0, 4, 0),
            (std::vector<int64_t>{ids[5], ids[4], ids[3], ids[2]}));
  EXPECT_EQ(this->RecordIds(this->a_, "", 0, 4, ids[2]),
            (std::vector<int64_t>{ids[1], ids[0]}));
  EXPECT_TRUE(this->RecordIds(this->a_, "", 0, 4, ids[0]).empty());

  // Filters, alone and together, with paging.
  EXPECT_EQ(this->RecordIds(this->a_, "pager", 0, 100, 0),
            (std::vector<int64_t>{ids[5], ids[4], ids[2], ids[0]}));
  EXPECT_EQ(this->RecordIds(this->a_, "pager", 0, 2, ids[4]),
            (std::vector<int64_t>{ids[2], ids[0]}));
  EXPECT_EQ(this->RecordIds(this->a_, "", 1, 100, 0),
            (std::vector<int64_t>{ids[4], ids[1], ids[0]}));
  EXPECT_EQ(this->RecordIds(this->a_, "", 2, 1, ids[5]),
            (std::vector<int64_t>{ids[3]}));
  EXPECT_EQ(this->RecordIds(this->a_, "email", 2, 100, 0),
            (std::vector<int64_t>{ids[3]}));
  EXPECT_TRUE(this->RecordIds(this->a_, "nowhere", 0, 100, 0).empty());
  EXPECT_TRUE(this->RecordIds(this->a_, "", 7, 100, 0).empty());

  // B sees only its own record, and A's filters never reach it.
  std::vector<int64_t> b = this->RecordIds(this->b_, "", 0, 100, 0);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(this->RecordIds(this->b_, "pager", 1, 100, 0), b);
  EXPECT_TRUE(this->RecordIds(this->b_, "email", 0, 100, 0).empty());
  EXPECT_TRUE(
      this->RecordIds(this->MakeTenant("initech"), "", 0, 100, 0).empty());
}

TYPED_TEST(AlertsTest, OldestUnsentMessagePerTenant) {
  EXPECT_TRUE(this->Oldest().empty());
  int64_t c = this->MakeTenant("initech");
  int64_t d = this->MakeTenant("hooli");
  // A: three messages; the oldest is sent, the next waiting, the last queued.
  std::string a1 =
      this->InsertOne(this->MakeMessage(this->a_, T0() - absl::Hours(3)));
  std::string a2 =
      this->InsertOne(this->MakeMessage(this->a_, T0() - absl::Hours(2)));
  std::string a3 =
      this->InsertOne(this->MakeMessage(this->a_, T0() - absl::Hours(1)));
  // B: one queued.
  std::string b1 =
      this->InsertOne(this->MakeMessage(this->b_, T0() - absl::Minutes(30)));
  // C: everything sent.
  std::string c1 = this->InsertOne(this->MakeMessage(c, T0() - absl::Hours(9)));
  // D: two queued at the same instant: the first inserted is the older.
  std::string d1 = this->InsertOne(this->MakeMessage(d, T0() - absl::Hours(5)));
  std::string d2 = this->InsertOne(this->MakeMessage(d, T0() - absl::Hours(5)));
  // Other final statuses do not count either.
  NewMessage bounced = this->MakeMessage(this->b_, T0() - absl::Hours(8));
  bounced.message.status = MessageStatus::kBounced;
  bounced.message.next_attempt_time = absl::InfiniteFuture();
  this->InsertOne(bounced);

  this->SetStatus(a1, MessageStatus::kSent);
  this->SetStatus(a2, MessageStatus::kWaiting);
  this->SetStatus(c1, MessageStatus::kSent);

  std::vector<OldestUnsentMessage> oldest = this->Oldest();
  ASSERT_EQ(oldest.size(), 3u);
  ASSERT_LT(this->a_, this->b_);
  ASSERT_LT(this->b_, d);
  EXPECT_EQ(oldest[0].tenant_id, this->a_);
  EXPECT_EQ(oldest[0].message_id, a2);
  EXPECT_EQ(oldest[0].status, MessageStatus::kWaiting);
  EXPECT_EQ(oldest[0].create_time, T0() - absl::Hours(2));
  EXPECT_EQ(oldest[0].unsent_count, 2);
  EXPECT_EQ(oldest[1].tenant_id, this->b_);
  EXPECT_EQ(oldest[1].message_id, b1);
  EXPECT_EQ(oldest[1].status, MessageStatus::kQueued);
  EXPECT_EQ(oldest[1].create_time, T0() - absl::Minutes(30));
  EXPECT_EQ(oldest[1].unsent_count, 1);
  EXPECT_EQ(oldest[2].tenant_id, d);
  EXPECT_EQ(oldest[2].message_id, d1) << d2 << " has a later row";
  EXPECT_EQ(oldest[2].unsent_count, 2);

  // Once A's waiting message is confirmed, its queued one is the oldest.
  this->SetStatus(a2, MessageStatus::kConfirmed);
  oldest = this->Oldest();
  ASSERT_EQ(oldest.size(), 3u);
  EXPECT_EQ(oldest[0].message_id, a3);
  EXPECT_EQ(oldest[0].status, MessageStatus::kQueued);
  EXPECT_EQ(oldest[0].unsent_count, 1);
  // A queued message older than a waiting one wins over it.
  this->SetStatus(d2, MessageStatus::kWaiting);
  oldest = this->Oldest();
  ASSERT_EQ(oldest.size(), 3u);
  EXPECT_EQ(oldest[2].message_id, d1);
  EXPECT_EQ(oldest[2].status, MessageStatus::kQueued);
  EXPECT_EQ(oldest[2].unsent_count, 2);
  // And when everything of B is sent, B is gone from the list.
  this->SetStatus(b1, MessageStatus::kSent);
  oldest = this->Oldest();
  ASSERT_EQ(oldest.size(), 2u);
  EXPECT_EQ(oldest[0].tenant_id, this->a_);
  EXPECT_EQ(oldest[1].tenant_id, d);
}

TYPED_TEST(AlertsTest, WindowIsClaimedWhenFreeOrEnded) {
  const absl::Time until = T0() + absl::Minutes(10);
  AlertWindow first = this->Claim(this->a_, "cooldown:r_1", T0(), until);
  EXPECT_TRUE(first.claimed);
  EXPECT_EQ(first.note, "");
  // Before it ends: not claimed, whatever the new end.
  EXPECT_FALSE(
      this->Claim(this->a_, "cooldown:r_1", T0(), T0() + absl::Hours(1))
          .claimed);
  EXPECT_FALSE(this->Claim(this->a_, "cooldown:r_1",
                           until - absl::Microseconds(1),
                           until + absl::Hours(1))
                   .claimed);
  // The refused claims did not move the end: it is free at `until`.
  const absl::Time until2 = until + absl::Minutes(10);
  EXPECT_TRUE(this->Claim(this->a_, "cooldown:r_1", until, until2).claimed);
  EXPECT_FALSE(this->Claim(this->a_, "cooldown:r_1", until, until2).claimed);
  // After the end.
  EXPECT_TRUE(this->Claim(this->a_, "cooldown:r_1", until2 + absl::Hours(1),
                          until2 + absl::Hours(2))
                  .claimed);

  // Other keys and other tenants have windows of their own.
  EXPECT_TRUE(this->Claim(this->a_, "cooldown:r_2", T0(), until).claimed);
  EXPECT_TRUE(this->Claim(this->b_, "cooldown:r_1", T0(), until).claimed);
  EXPECT_FALSE(this->Claim(this->b_, "cooldown:r_1", T0(), until).claimed);
}

TYPED_TEST(AlertsTest, WindowNoteIsKeptAcrossClaims) {
  auto& store = this->store();
  const absl::Time until = T0() + absl::Minutes(10);
  ASSERT_TRUE(this->Claim(this->a_, "dns:example.com", T0(), until).claimed);
  STORE_ASSERT_OK(store.SetAlertWindowNote(this->a_, "dns:example.com",
                                           "spf=pass dkim=fail"));
  // Setting the note does not end the window.
  AlertWindow held = this->Claim(this->a_, "dns:example.com", T0(), until);
  EXPECT_FALSE(held.claimed);
  EXPECT_EQ(held.note, "spf=pass dkim=fail");
  // Claimed again once ended: the note is still there.
  AlertWindow again = this->Claim(this->a_, "dns:example.com", until,
                                  until + absl::Minutes(10));
  EXPECT_TRUE(again.claimed);
  EXPECT_EQ(again.note, "spf=pass dkim=fail");
  // A new note replaces it.
  STORE_ASSERT_OK(store.SetAlertWindowNote(this->a_, "dns:example.com", ""));
  EXPECT_EQ(this->Claim(this->a_, "dns:example.com", T0(), until).note, "");
  // B's window of the same key has no note.
  STORE_ASSERT_OK(store.SetAlertWindowNote(this->a_, "dns:other", "a's"));
  AlertWindow b = this->Claim(this->b_, "dns:other", T0(), until);
  EXPECT_TRUE(b.claimed);
  EXPECT_EQ(b.note, "");
}

TYPED_TEST(AlertsTest, NoteOnAMissingWindowCreatesItEnded) {
  auto& store = this->store();
  STORE_ASSERT_OK(
      store.SetAlertWindowNote(this->a_, "dns:example.org", "first look"));
  // Ended, so claimable at any time, with the note.
  AlertWindow w = this->Claim(this->a_, "dns:example.org",
                              T0() - absl::Hours(24 * 365), T0());
  EXPECT_TRUE(w.claimed);
  EXPECT_EQ(w.note, "first look");
  EXPECT_FALSE(
      this->Claim(this->a_, "dns:example.org", T0() - absl::Seconds(1), T0())
          .claimed);
  EXPECT_TRUE(this->Claim(this->a_, "dns:example.org", T0(), T0()).claimed);
}

TYPED_TEST(AlertsTest, ConcurrentClaimsHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    // Rounds alternate between a new window and the same one, ended.
    std::string key = absl::StrCat("race:", round / 2);
    absl::Time now = T0() + absl::Hours(round);
    std::atomic<int> winners{0};
    std::atomic<int> errors{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        absl::StatusOr<AlertWindow> w = this->store().ClaimAlertWindow(
            this->a_, key, now, now + absl::Minutes(30));
        if (!w.ok()) {
          ++errors;
        } else if (w->claimed) {
          ++winners;
        }
      });
    }
    go.store(true);
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(winners.load(), 1);
  }
}

}  // namespace
}  // namespace deliverd::store::conformance
