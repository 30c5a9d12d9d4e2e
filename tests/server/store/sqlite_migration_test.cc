// SqliteStore's schema migrations on a database written by an older
// deliverd: data stored under the old schema stays readable after the
// upgrade.
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/store/migrations.h"
#include "server/store/sqlite_store.h"

namespace deliverd::store {
namespace {

class SqliteMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sqlite-migration-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Builds a database as the deliverd of schema `version` left it.
  void CreateAtVersion(int version) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    Exec(db,
         "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name "
         "TEXT NOT NULL, applied_time INTEGER NOT NULL)");
    for (const Migration& m : SqliteMigrations()) {
      if (m.version > version) break;
      Exec(db, m.sql);
      Exec(db, absl::StrCat("INSERT INTO schema_migrations VALUES (",
                            m.version, ", '", m.name, "', 0)"));
    }
    sqlite3_close(db);
  }

  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    Exec(db, sql);
    sqlite3_close(db);
  }

  // Runs `sql` on a connection of its own, calling `on_row` for each row.
  void ForEachRow(const std::string& sql,
                  const std::function<void(sqlite3_stmt*)>& on_row) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) on_row(stmt);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }

  // The first row's first column, or -1 without a row.
  int64_t QueryInt(const std::string& sql) {
    int64_t value = -1;
    bool first = true;
    ForEachRow(sql, [&](sqlite3_stmt* stmt) {
      if (first) value = sqlite3_column_int64(stmt, 0);
      first = false;
    });
    return value;
  }

  // The plan's detail lines, joined by " | ".
  std::string Plan(const std::string& sql) {
    std::string plan;
    ForEachRow("EXPLAIN QUERY PLAN " + sql, [&](sqlite3_stmt* stmt) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      plan += " | ";
    });
    return plan;
  }

  static void Exec(sqlite3* db, const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << (error ? error : "") << " in " << sql;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteMigrationTest, ContentStoredInTheMessageRowStaysReadable) {
  CreateAtVersion(6);
  // Two messages as schema 6 stored them: content in the message row. The
  // second is due, so the queue must hand its content to the dispatcher.
  Exec("INSERT INTO tenants (id, name, create_time) VALUES (1, 't', 0)");
  Exec(
      "INSERT INTO messages (row_id, id, tenant_id, status, from_address, "
      "create_time, update_time, next_attempt_time, content) VALUES "
      "(7, 'm_sent', 1, 2, 'a@example.com', 1, 1, NULL, x'0a01410a'), "
      "(9, 'm_due', 1, 1, 'a@example.com', 2, 2, 2, x'0a01420a')");
  Exec(
      "INSERT INTO message_recipients (message_row, position, tenant_id, "
      "address, kind, status) VALUES (7, 0, 1, 'b@example.org', 0, 2), "
      "(9, 0, 1, 'c@example.org', 0, 1)");

  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(),
            static_cast<int>(SqliteMigrations().size()));

  absl::StatusOr<Message> sent =
      (*store)->GetMessage(1, "m_sent", /*with_content=*/true);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->content, std::string("\x0a\x01\x41\x0a", 4));
  ASSERT_EQ(sent->recipients.size(), 1u);
  EXPECT_EQ(sent->recipients[0].address, "b@example.org");

  absl::StatusOr<std::vector<Message>> claimed = (*store)->ClaimDueMessages(
      "test", absl::FromUnixMicros(1000), absl::Minutes(1), 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id, "m_due");
  EXPECT_EQ((*claimed)[0].content, std::string("\x0a\x01\x42\x0a", 4));

  // A message stored after the upgrade keeps its content out of its row.
  NewMessage item;
  item.message.id = "m_new";
  item.message.tenant_id = 1;
  item.message.status = MessageStatus::kQueued;
  item.message.from_address = "a@example.com";
  item.message.create_time = item.message.update_time = absl::Now();
  item.message.content = std::string("\x0a\x01\x43\x0a", 4);
  Recipient r;
  r.address = "d@example.org";
  item.message.recipients.push_back(r);
  ASSERT_TRUE((*store)->InsertMessagesAndWait({item}).ok());
  absl::StatusOr<Message> fresh =
      (*store)->GetMessage(1, "m_new", /*with_content=*/true);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->content, item.message.content);
  store->reset();
  EXPECT_EQ(QueryInt("SELECT length(content) FROM messages WHERE id = "
                     "'m_new'"),
            0);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM message_contents"), 1);
}

TEST_F(SqliteMigrationTest, RecipientFilterNeedsNoAddressIndex) {
  CreateAtVersion(7);
  Exec("INSERT INTO tenants (id, name, create_time) VALUES (1, 't', 0)");
  Exec(
      "INSERT INTO messages (row_id, id, tenant_id, status, from_address, "
      "create_time, update_time, content) VALUES "
      "(7, 'm_1', 1, 2, 'a@example.com', 1, 1, x''), "
      "(9, 'm_2', 1, 2, 'a@example.com', 2, 2, x'')");
  Exec(
      "INSERT INTO message_recipients (message_row, position, tenant_id, "
      "address, kind, status) VALUES (7, 0, 1, 'b@example.org', 0, 2), "
      "(9, 0, 1, 'C@example.org', 0, 2)");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  MessageFilter filter;
  filter.recipient = "c@EXAMPLE.org";
  absl::StatusOr<MessagePage> page = (*store)->ListMessages(1, filter, 10, {});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_EQ(page->messages[0].id, "m_2");
  store->reset();
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name = "
                     "'recipients_address'"),
            0);
}

// Migration 0009 turns messages_log ascending; the log, newest first, must
// still come from it without a sort, in the same order.
TEST_F(SqliteMigrationTest, MessageLogIndexServesNewestFirst) {
  CreateAtVersion(8);
  Exec("INSERT INTO tenants (id, name, create_time) VALUES (1, 't', 0)");
  Exec(
      "INSERT INTO messages (row_id, id, tenant_id, status, from_address, "
      "create_time, update_time, content) VALUES "
      "(5, 'm_a', 1, 2, 'a@example.com', 10, 10, x''), "
      "(6, 'm_b', 1, 2, 'a@example.com', 30, 30, x''), "
      "(7, 'm_c', 1, 2, 'a@example.com', 20, 20, x''), "
      "(8, 'm_d', 1, 2, 'a@example.com', 30, 30, x'')");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<MessagePage> page = (*store)->ListMessages(1, {}, 3, {});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages.size(), 3u);
  EXPECT_EQ(page->messages[0].id, "m_d");  // same time: the later row first
  EXPECT_EQ(page->messages[1].id, "m_b");
  EXPECT_EQ(page->messages[2].id, "m_c");
  ASSERT_TRUE(page->next.has_value());
  page = (*store)->ListMessages(1, {}, 3, page->next);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_EQ(page->messages[0].id, "m_a");
  store->reset();

  std::string plan = Plan(
      "SELECT id FROM messages m WHERE m.tenant_id = 1 ORDER BY "
      "m.create_time DESC, m.row_id DESC LIMIT 10");
  EXPECT_NE(plan.find("messages_log"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  plan = Plan(
      "SELECT id FROM messages m WHERE m.tenant_id = 1 AND (m.create_time < "
      "30 OR (m.create_time = 30 AND m.row_id < 8)) ORDER BY m.create_time "
      "DESC, m.row_id DESC LIMIT 10");
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

// Migration 0010 replaces messages_due and messages_unsent with one index of
// the unsent messages; the queue and the queue-age alert read it alone.
TEST_F(SqliteMigrationTest, OneQueueIndexServesDispatcherAndQueueAge) {
  CreateAtVersion(9);
  Exec("INSERT INTO tenants (id, name, create_time) VALUES (1, 'a', 0), "
       "(2, 'b', 0)");
  // Tenant 1: two queued (the older has the later row), one waiting, one
  // sent. Tenant 2: one queued, due later than the claim's "now".
  Exec(
      "INSERT INTO messages (row_id, id, tenant_id, status, from_address, "
      "create_time, update_time, next_attempt_time, content) VALUES "
      "(5, 'm_new', 1, 1, 'a@example.com', 40, 40, 40, x''), "
      "(6, 'm_old', 1, 1, 'a@example.com', 20, 20, 20, x''), "
      "(7, 'm_wait', 1, 3, 'a@example.com', 30, 30, 35, x''), "
      "(8, 'm_sent', 1, 2, 'a@example.com', 10, 10, NULL, x''), "
      "(9, 'm_later', 2, 1, 'a@example.com', 50, 50, 5000, x'')");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();

  absl::StatusOr<std::vector<OldestUnsentMessage>> oldest =
      (*store)->OldestUnsentMessages();
  ASSERT_TRUE(oldest.ok()) << oldest.status();
  ASSERT_EQ(oldest->size(), 2u);
  EXPECT_EQ((*oldest)[0].tenant_id, 1);
  EXPECT_EQ((*oldest)[0].unsent_count, 3);
  EXPECT_EQ((*oldest)[0].message_id, "m_old");
  EXPECT_EQ((*oldest)[0].create_time, absl::FromUnixMicros(20));
  EXPECT_EQ((*oldest)[1].tenant_id, 2);
  EXPECT_EQ((*oldest)[1].unsent_count, 1);
  EXPECT_EQ((*oldest)[1].message_id, "m_later");

  absl::StatusOr<absl::Time> next = (*store)->NextDueTime();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, absl::FromUnixMicros(20));
  absl::StatusOr<std::vector<Message>> claimed = (*store)->ClaimDueMessages(
      "test", absl::FromUnixMicros(1000), absl::Minutes(1), 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 3u);
  EXPECT_EQ((*claimed)[0].id, "m_old");
  EXPECT_EQ((*claimed)[1].id, "m_wait");
  EXPECT_EQ((*claimed)[2].id, "m_new");
  store->reset();

  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                     "('messages_due', 'messages_unsent')"),
            0);
  std::string plan = Plan(
      "SELECT id FROM messages WHERE status IN (1, 3) AND next_attempt_time "
      "<= 1000 AND (lease_until IS NULL OR lease_until <= 1000) ORDER BY "
      "next_attempt_time LIMIT 10");
  EXPECT_NE(plan.find("messages_queue"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  plan = Plan(
      "SELECT tenant_id, create_time, row_id FROM messages WHERE status IN "
      "(1, 3)");
  EXPECT_NE(plan.find("COVERING INDEX messages_queue"), std::string::npos)
      << plan;
}

}  // namespace
}  // namespace deliverd::store
