// Conformance: ListMessages — newest-first order, keyset paging, filters.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class ListMessagesTest : public StoreTest<F> {
 protected:
  // The expected listing: `messages` matching `keep`, newest first, ties
  // broken by the larger row id first. Row ids come from GetMessage.
  template <typename Pred>
  std::vector<std::string> Expected(int64_t tenant,
                                    const std::vector<Message>& messages,
                                    Pred keep) {
    struct Key {
      absl::Time create_time;
      int64_t row_id;
      std::string id;
    };
    std::vector<Key> keys;
    for (const Message& m : messages) {
      if (!keep(m)) continue;
      keys.push_back({m.create_time, this->Get(tenant, m.id).row_id, m.id});
    }
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
      if (a.create_time != b.create_time) return a.create_time > b.create_time;
      return a.row_id > b.row_id;
    });
    std::vector<std::string> ids;
    for (const Key& k : keys) ids.push_back(k.id);
    return ids;
  }
};
TYPED_TEST_SUITE(ListMessagesTest, StoreFactories, FactoryName);

TYPED_TEST(ListMessagesTest, NewestFirst) {
  int64_t tenant = this->MakeTenant("acme");
  NewMessage middle = this->MakeMessage(tenant, T0() + absl::Hours(1));
  NewMessage oldest = this->MakeMessage(tenant, T0());
  NewMessage newest = this->MakeMessage(tenant, T0() + absl::Hours(2));
  this->InsertAll({middle, oldest, newest});
  STORE_ASSERT_OK_AND_ASSIGN(
      MessagePage page,
      this->store().ListMessages(tenant, {}, 10, std::nullopt));
  EXPECT_EQ(IdsOf(page.messages),
            (std::vector<std::string>{newest.message.id, middle.message.id,
                                      oldest.message.id}));
  EXPECT_FALSE(page.next.has_value());
  ASSERT_EQ(page.messages.size(), 3u);
  EXPECT_EQ(page.messages[0].create_time, T0() + absl::Hours(2));
  EXPECT_EQ(page.messages[0].subject, newest.message.subject);
}

TYPED_TEST(ListMessagesTest, EmptyTenantListsNothing) {
  int64_t tenant = this->MakeTenant("acme");
  STORE_ASSERT_OK_AND_ASSIGN(
      MessagePage page,
      this->store().ListMessages(tenant, {}, 10, std::nullopt));
  EXPECT_TRUE(page.messages.empty());
  EXPECT_FALSE(page.next.has_value());
}

TYPED_TEST(ListMessagesTest, PagingHasNoDuplicatesOrGapsWithEqualTimes) {
  int64_t tenant = this->MakeTenant("acme");
  constexpr int kMessages = 250;
  std::vector<Message> inserted;
  std::vector<NewMessage> batch;
  for (int i = 0; i < kMessages; ++i) {
    // 25 distinct times, 10 messages each, interleaved so that insertion
    // (row id) order differs from time order.
    batch.push_back(
        this->MakeMessage(tenant, T0() + absl::Seconds((i * 7) % 25)));
    inserted.push_back(batch.back().message);
    if (batch.size() == 100 || i == kMessages - 1) {
      this->InsertAll(std::move(batch));
      batch.clear();
    }
  }
  std::vector<std::string> want =
      this->Expected(tenant, inserted, [](const Message&) { return true; });
  ASSERT_EQ(want.size(), static_cast<size_t>(kMessages));

  for (int page_size : {1, 7, 50, 249, 250, 251}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    std::vector<std::string> got;
    std::optional<MessageCursor> cursor;
    int pages = 0;
    while (true) {
      STORE_ASSERT_OK_AND_ASSIGN(
          MessagePage page,
          this->store().ListMessages(tenant, {}, page_size, cursor));
      ++pages;
      ASSERT_LE(pages, kMessages + 1) << "paging does not end";
      ASSERT_LE(page.messages.size(), static_cast<size_t>(page_size));
      for (const Message& m : page.messages) got.push_back(m.id);
      if (!page.next.has_value()) break;
      // A cursor means a full page.
      EXPECT_EQ(page.messages.size(), static_cast<size_t>(page_size));
      cursor = page.next;
    }
    EXPECT_EQ(got, want);
    EXPECT_EQ(pages, (kMessages + page_size - 1) / page_size)
        << "an empty trailing page, or too few pages";
  }
}

TYPED_TEST(ListMessagesTest, CursorFromAnEarlierPageSurvivesNewInserts) {
  int64_t tenant = this->MakeTenant("acme");
  std::vector<NewMessage> batch;
  for (int i = 0; i < 6; ++i) {
    batch.push_back(this->MakeMessage(tenant, T0() + absl::Seconds(i)));
  }
  this->InsertAll(batch);
  STORE_ASSERT_OK_AND_ASSIGN(
      MessagePage first,
      this->store().ListMessages(tenant, {}, 3, std::nullopt));
  ASSERT_TRUE(first.next.has_value());
  // A newer message arriving between pages must not shift the next page.
  this->InsertOne(this->MakeMessage(tenant, T0() + absl::Hours(1)));
  STORE_ASSERT_OK_AND_ASSIGN(
      MessagePage second,
      this->store().ListMessages(tenant, {}, 3, first.next));
  EXPECT_EQ(IdsOf(second.messages),
            (std::vector<std::string>{batch[2].message.id, batch[1].message.id,
                                      batch[0].message.id}));
  EXPECT_FALSE(second.next.has_value());
}

TYPED_TEST(ListMessagesTest, FiltersAloneAndCombined) {
  int64_t tenant = this->MakeTenant("acme");
  int64_t other = this->MakeTenant("globex");
  const MessageStatus kStatuses[] = {MessageStatus::kQueued,
                                     MessageStatus::kSent,
                                     MessageStatus::kBounced,
                                     MessageStatus::kConfirmed};
  constexpr int kMessages = 40;
  std::vector<Message> inserted;
  std::vector<NewMessage> batch;
  for (int n = 0; n < kMessages; ++n) {
    int i = (n * 17) % kMessages;  // insert in a scrambled order
    std::vector<std::string> to;
    if (i % 5 == 0) {
      to = {"Alice@Example.org"};
    } else {
      to = {"bob@example.org",
            i % 2 ? "carol@example.org" : "dave@example.org"};
    }
    // Pairs of messages share a create_time.
    NewMessage item =
        this->MakeMessage(tenant, T0() + absl::Minutes(i / 2), to);
    item.message.status = kStatuses[i % 4];
    item.message.from_address =
        i % 3 == 0 ? "News@Example.com" : "billing@example.com";
    if (i % 2 == 0) item.message.tags.push_back("even");
    if (i % 3 == 0) item.message.tags.push_back("three");
    item.message.recipients[0].kind =
        i % 7 == 0 ? RecipientKind::kCc : RecipientKind::kTo;
    inserted.push_back(item.message);
    batch.push_back(std::move(item));
  }
  this->InsertAll(std::move(batch));
  // Another tenant with matching data must never show up.
  for (int i = 0; i < 4; ++i) {
    NewMessage item = this->MakeMessage(
        other, T0() + absl::Minutes(i), {"alice@example.org"});
    item.message.from_address = "news@example.com";
    item.message.tags = {"even", "three"};
    this->InsertOne(item);
  }

  auto has_recipient = [](const Message& m, const std::string& address) {
    for (const Recipient& r : m.recipients) {
      if (absl::EqualsIgnoreCase(r.address, address)) return true;
    }
    return false;
  };
  auto has_tag = [](const Message& m, const std::string& tag) {
    return std::find(m.tags.begin(), m.tags.end(), tag) != m.tags.end();
  };
  auto in = [](const std::vector<MessageStatus>& statuses, MessageStatus s) {
    return statuses.empty() ||
           std::find(statuses.begin(), statuses.end(), s) != statuses.end();
  };
  // The reference semantics of MessageFilter.
  auto matches = [&](const MessageFilter& f, const Message& m) {
    return in(f.statuses, m.status) &&
           (f.recipient.empty() || has_recipient(m, f.recipient)) &&
           (f.sender.empty() || absl::EqualsIgnoreCase(m.from_address,
                                                       f.sender)) &&
           (f.tag.empty() || has_tag(m, f.tag)) &&
           m.create_time >= f.start_time && m.create_time < f.end_time;
  };

  struct Case {
    std::string name;
    MessageFilter filter;
    bool may_be_empty = false;
  };
  std::vector<Case> cases;
  cases.push_back({"none", {}});
  {
    MessageFilter f;
    f.statuses = {MessageStatus::kBounced};
    cases.push_back({"one status", f});
    f.statuses = {MessageStatus::kSent, MessageStatus::kConfirmed};
    cases.push_back({"two statuses", f});
    f.statuses = {MessageStatus::kFailed};
    cases.push_back({"absent status", f, true});
  }
  {
    MessageFilter f;
    f.recipient = "ALICE@example.ORG";
    cases.push_back({"recipient, other case", f});
    f.recipient = "carol@example.org";
    cases.push_back({"recipient, second position", f});
    f.recipient = "carol@example";
    cases.push_back({"recipient prefix is not a match", f, true});
  }
  {
    MessageFilter f;
    f.sender = "news@EXAMPLE.com";
    cases.push_back({"sender, other case", f});
    f.sender = "billing@example.com";
    cases.push_back({"sender, exact", f});
  }
  {
    MessageFilter f;
    f.tag = "three";
    cases.push_back({"tag", f});
    f.tag = "even";
    cases.push_back({"tag 2", f});
    f.tag = "nope";
    cases.push_back({"absent tag", f, true});
  }
  {
    MessageFilter f;
    f.start_time = T0() + absl::Minutes(5);
    cases.push_back({"start only (inclusive)", f});
    f = {};
    f.end_time = T0() + absl::Minutes(5);
    cases.push_back({"end only (exclusive)", f});
    f.start_time = T0() + absl::Minutes(3);
    f.end_time = T0() + absl::Minutes(7);
    cases.push_back({"start and end", f});
    f.start_time = T0() + absl::Minutes(3);
    f.end_time = T0() + absl::Minutes(3);
    cases.push_back({"empty range", f, true});
  }
  {
    MessageFilter f;
    f.statuses = {MessageStatus::kQueued, MessageStatus::kBounced};
    f.tag = "even";
    cases.push_back({"statuses + tag", f});
    f.sender = "BILLING@example.com";
    cases.push_back({"statuses + tag + sender", f});
    f.recipient = "Bob@Example.org";
    f.start_time = T0() + absl::Minutes(1);
    f.end_time = T0() + absl::Minutes(19);
    cases.push_back({"everything", f});
  }
  {
    MessageFilter f;
    f.recipient = "alice@example.org";
    f.tag = "three";
    f.sender = "news@example.com";
    cases.push_back({"recipient + tag + sender", f});
  }

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> want = this->Expected(
        tenant, inserted, [&](const Message& m) { return matches(c.filter, m); });
    if (!c.may_be_empty) {
      // Guards against a vacuous case.
      ASSERT_FALSE(want.empty());
    }
    if (c.name != "none") {
      EXPECT_LT(want.size(), static_cast<size_t>(kMessages));
    }
    EXPECT_EQ(IdsOf(this->ListAll(tenant, c.filter, 1000)), want);
    EXPECT_EQ(IdsOf(this->ListAll(tenant, c.filter, 3)), want)
        << "paging with a filter";
  }
}

}  // namespace
}  // namespace deliverd::store::conformance
