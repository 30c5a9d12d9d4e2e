// The storage conformance suite's fixture, shared by every
// tests/server/store/store_*_test.cc file.
//
// Every test is a TYPED_TEST over StoreFactories, so each Store
// implementation runs the exact same tests. To add an implementation, write
// a factory (see testing_sqlite_factory.h for the shape and for how a MySQL
// factory plugs in) and add its type to StoreFactories below.
//
// Each test gets a fresh store over a fresh database in a fresh temporary
// directory (mkdtemp under $TEST_TMPDIR, else /tmp), removed afterwards.
// Tests are deterministic: no sleeps; times passed to the store are fixed
// instants around T0(), and waits for callbacks use condition variables
// with a generous timeout that only guards against a hang.
#ifndef DELIVERD_TESTS_SERVER_STORE_TESTING_STORE_FIXTURE_H_
#define DELIVERD_TESTS_SERVER_STORE_TESTING_STORE_FIXTURE_H_

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/store/store.h"
#include "server/store/types.h"
#include "testing_mysql_factory.h"
#include "testing_sqlite_factory.h"

namespace deliverd::store {

// Readable enum values in gtest failure messages (found by ADL).
inline void PrintTo(MessageStatus v, std::ostream* os) {
  *os << MessageStatusName(v);
}
inline void PrintTo(EventType v, std::ostream* os) { *os << EventTypeName(v); }
inline void PrintTo(SuppressionReason v, std::ostream* os) {
  *os << SuppressionReasonName(v);
}
inline void PrintTo(RecipientKind v, std::ostream* os) {
  *os << "kind" << static_cast<int>(v);
}

namespace conformance {

// The implementations under test.
using StoreFactories = ::testing::Types<SqliteStoreFactory,
                                       SqliteIntakeStoreFactory,
                                       MysqlStoreFactory>;

// Test names end in the factory's name ("MessagesTest/Sqlite.Foo").
struct FactoryName {
  template <typename F>
  static std::string GetName(int) {
    return F::kName;
  }
};

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

#define STORE_CONCAT_INNER(a, b) a##b
#define STORE_CONCAT(a, b) STORE_CONCAT_INNER(a, b)

// ASSERT that a Status or StatusOr is OK, printing the status otherwise.
#define STORE_ASSERT_OK(expr)                                              \
  do {                                                                     \
    const auto& store_assert_ok_value = (expr);                            \
    ASSERT_TRUE(::deliverd::store::conformance::StatusOf(                  \
                    store_assert_ok_value)                                 \
                    .ok())                                                 \
        << #expr << ": "                                                   \
        << ::deliverd::store::conformance::StatusOf(store_assert_ok_value); \
  } while (0)

// `lhs` = the value of a StatusOr, or a fatal failure.
#define STORE_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  STORE_ASSERT_OK_AND_ASSIGN_IMPL(STORE_CONCAT(store_or_, __LINE__), lhs, expr)
#define STORE_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)    \
  auto tmp = (expr);                                      \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status(); \
  lhs = std::move(*tmp)

// A fixed base instant with a microsecond part, so every stored time is
// checked to the microsecond.
inline absl::Time T0() { return absl::FromUnixMicros(1700000000123456); }

// A temporary directory, removed with its contents when destroyed.
class TempDir {
 public:
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  // mkdtemp under $TEST_TMPDIR (Bazel, ctest setups) or /tmp.
  absl::Status Create() {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(
        (base != nullptr && *base != '\0') ? base : "/tmp",
        "/deliverd_store_test_XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("mkdtemp ", pattern));
    }
    path_ = pattern;
    return absl::OkStatus();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Field-by-field comparison, so a failure names the field.
inline void ExpectSameReply(const Reply& want, const Reply& got) {
  EXPECT_EQ(got.code, want.code);
  EXPECT_EQ(got.enhanced_code, want.enhanced_code);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.remote_host, want.remote_host);
}

inline void ExpectSameRecipients(const std::vector<Recipient>& want,
                                 const std::vector<Recipient>& got,
                                 bool compare_replies) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("recipient #", i));
    EXPECT_EQ(got[i].address, want[i].address);
    EXPECT_EQ(got[i].kind, want[i].kind);
    EXPECT_EQ(got[i].status, want[i].status);
    EXPECT_EQ(got[i].detail, want[i].detail);
    if (compare_replies) ExpectSameReply(want[i].last_reply, got[i].last_reply);
  }
}

// Compares every field of a stored message except row_id (assigned by the
// store) and content (compared only when `with_content`; otherwise it must
// come back empty).
inline void ExpectSameMessage(const Message& want, const Message& got,
                              bool with_content) {
  SCOPED_TRACE(absl::StrCat("message ", want.id));
  EXPECT_GT(got.row_id, 0);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.from_address, want.from_address);
  EXPECT_EQ(got.from_name, want.from_name);
  EXPECT_EQ(got.subject, want.subject);
  EXPECT_EQ(got.tags, want.tags);
  EXPECT_EQ(got.metadata, want.metadata);
  EXPECT_EQ(got.stream, want.stream);
  EXPECT_EQ(got.create_time, want.create_time);
  EXPECT_EQ(got.update_time, want.update_time);
  EXPECT_EQ(got.next_attempt_time, want.next_attempt_time);
  EXPECT_EQ(got.attempt_count, want.attempt_count);
  EXPECT_EQ(got.resend_of, want.resend_of);
  EXPECT_EQ(got.rfc822_message_id, want.rfc822_message_id);
  EXPECT_EQ(got.size_bytes, want.size_bytes);
  EXPECT_EQ(got.request_id, want.request_id);
  if (with_content) {
    EXPECT_EQ(got.content, want.content);
  } else {
    EXPECT_EQ(got.content, "") << "content returned without with_content";
  }
  ExpectSameRecipients(want.recipients, got.recipients,
                       /*compare_replies=*/false);
}

// Compares an event as read back with the one written, whose tags are
// replaced by the tags the store must stamp (the message's).
inline void ExpectSameEvent(const Event& want,
                            const std::vector<std::string>& want_tags,
                            const Event& got) {
  SCOPED_TRACE(absl::StrCat("event ", EventTypeName(want.type), " on ",
                            want.message_id));
  EXPECT_GT(got.id, 0);
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.message_id, want.message_id);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.time, want.time);
  EXPECT_EQ(got.recipient, want.recipient);
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(got.detail, want.detail);
  ExpectSameReply(want.reply, got.reply);
  EXPECT_EQ(got.tags, want_tags);
}

inline std::vector<std::string> IdsOf(const std::vector<Message>& messages) {
  std::vector<std::string> ids;
  for (const Message& m : messages) ids.push_back(m.id);
  return ids;
}

inline std::vector<int64_t> EventIdsOf(const std::vector<Event>& events) {
  std::vector<int64_t> ids;
  for (const Event& e : events) ids.push_back(e.id);
  return ids;
}

template <typename Factory>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!Factory::Available(&why)) GTEST_SKIP() << why;
    STORE_ASSERT_OK(temp_dir_.Create());
    factory_ = std::make_unique<Factory>(temp_dir_.path());
    STORE_ASSERT_OK_AND_ASSIGN(store_, factory_->Open());
  }

  // Every test leaves a database whose rows keep the schema's foreign keys.
  void TearDown() override {
    if (factory_ == nullptr) return;
    store_.reset();
    absl::StatusOr<int64_t> violations = factory_->ForeignKeyViolations();
    ASSERT_TRUE(violations.ok()) << violations.status();
    EXPECT_EQ(*violations, 0) << "rows break a declared foreign key";
  }

  Store& store() { return *store_; }

  // Destroys the store (finishing its writes) and opens the same database.
  void Reopen() {
    store_.reset();
    STORE_ASSERT_OK_AND_ASSIGN(store_, factory_->Open());
  }

  int64_t MakeTenant(const std::string& name) {
    absl::StatusOr<int64_t> id = store_->CreateTenant(name);
    EXPECT_TRUE(id.ok()) << "CreateTenant(" << name << "): " << id.status();
    return id.value_or(-1);
  }

  // A queued message due at `create_time`, with one QUEUED event, unique id
  // and content.
  NewMessage MakeMessage(int64_t tenant_id, absl::Time create_time,
                         std::vector<std::string> to = {"rcpt@example.org"}) {
    NewMessage item;
    Message& m = item.message;
    m.id = absl::StrCat("m_", ++next_message_);
    m.tenant_id = tenant_id;
    m.status = MessageStatus::kQueued;
    m.from_address = "sender@example.com";
    m.subject = absl::StrCat("subject ", next_message_);
    m.create_time = create_time;
    m.update_time = create_time;
    m.next_attempt_time = create_time;
    m.content = absl::StrCat("content of ", m.id);
    for (std::string& address : to) {
      Recipient r;
      r.address = std::move(address);
      m.recipients.push_back(std::move(r));
    }
    Event queued;
    queued.tenant_id = tenant_id;
    queued.message_id = m.id;
    queued.type = EventType::kQueued;
    queued.time = create_time;
    queued.source = "api";
    item.events.push_back(queued);
    return item;
  }

  // Inserts a batch that must succeed as a whole; returns the outcomes.
  std::vector<InsertOutcome> InsertAll(std::vector<NewMessage> batch) {
    size_t n = batch.size();
    absl::StatusOr<std::vector<InsertOutcome>> outcomes =
        store_->InsertMessagesAndWait(std::move(batch));
    EXPECT_TRUE(outcomes.ok()) << outcomes.status();
    if (!outcomes.ok()) return {};
    EXPECT_EQ(outcomes->size(), n);
    for (const InsertOutcome& o : *outcomes) {
      EXPECT_TRUE(o.status.ok()) << o.status;
    }
    return *std::move(outcomes);
  }

  // Inserts one message that must be stored; returns its id.
  std::string InsertOne(NewMessage item) {
    std::vector<NewMessage> batch;
    batch.push_back(std::move(item));
    std::vector<InsertOutcome> outcomes = InsertAll(std::move(batch));
    if (outcomes.size() != 1) return "";
    EXPECT_FALSE(outcomes[0].replayed);
    return outcomes[0].message_id;
  }

  // Every message of the tenant matching `filter`, newest first, following
  // the cursor with `page_size`. Fails the test on a duplicate or on a
  // cursor that does not advance.
  std::vector<Message> ListAll(int64_t tenant_id,
                               const MessageFilter& filter = {},
                               int page_size = 1000) {
    std::vector<Message> all;
    std::set<std::string> seen;
    std::optional<MessageCursor> cursor;
    for (int pages = 0; pages < 100000; ++pages) {
      absl::StatusOr<MessagePage> page =
          store_->ListMessages(tenant_id, filter, page_size, cursor);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) return all;
      EXPECT_LE(page->messages.size(), static_cast<size_t>(page_size));
      for (Message& m : page->messages) {
        EXPECT_TRUE(seen.insert(m.id).second) << "listed twice: " << m.id;
        all.push_back(std::move(m));
      }
      if (!page->next.has_value()) return all;
      EXPECT_FALSE(page->messages.empty()) << "a next cursor on an empty page";
      if (page->messages.empty()) return all;
      cursor = page->next;
    }
    ADD_FAILURE() << "ListMessages paging did not end";
    return all;
  }

  int64_t CountMessages(int64_t tenant_id) {
    return static_cast<int64_t>(ListAll(tenant_id).size());
  }

  Message Get(int64_t tenant_id, const std::string& id,
              bool with_content = false) {
    absl::StatusOr<Message> m = store_->GetMessage(tenant_id, id, with_content);
    EXPECT_TRUE(m.ok()) << "GetMessage(" << id << "): " << m.status();
    return m.ok() ? *std::move(m) : Message();
  }

  std::vector<Event> EventsOf(int64_t tenant_id, const std::string& id) {
    absl::StatusOr<std::vector<Event>> events =
        store_->MessageEvents(tenant_id, id);
    EXPECT_TRUE(events.ok()) << "MessageEvents(" << id << "): "
                             << events.status();
    return events.ok() ? *std::move(events) : std::vector<Event>();
  }

  TempDir temp_dir_;  // declared first: removed after the store closes
  std::unique_ptr<Factory> factory_;
  std::unique_ptr<Store> store_;
  int next_message_ = 0;
};

}  // namespace conformance
}  // namespace deliverd::store

#endif  // DELIVERD_TESTS_SERVER_STORE_TESTING_STORE_FIXTURE_H_
