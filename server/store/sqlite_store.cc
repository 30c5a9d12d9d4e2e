#include "server/store/sqlite_store.h"

#include "server/store/status_macros.h"
#include "server/store/suppressed_addresses.h"

#include <unistd.h>

#include <chrono>
#include <future>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/store/intake_codec.h"
#include "server/store/intake_log.h"
#include "server/store/migrations.h"
#include "server/store/store_codec.h"

namespace deliverd::store {
namespace {

// A group never grows past this many writes, so one huge burst cannot hold
// the first caller's acknowledgement back for long.
constexpr size_t kMaxGroupSize = 4096;
// Messages from the intake log stored per transaction (see WriterLoop).
constexpr size_t kMaxIntakeBatch = 1000;
// How long the writer waits for a group to gather (see WriterLoop).
constexpr int kGatherMicros = 300;

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// NULL stands for "never" (InfiniteFuture) in optional time columns.
void BindOptionalTime(SqliteStatement& stmt, int index, absl::Time t) {
  if (t == absl::InfiniteFuture()) {
    stmt.BindNull(index);
  } else {
    stmt.Bind(index, ToMicros(t));
  }
}

absl::Time OptionalTime(const SqliteStatement& stmt, int column) {
  return stmt.IsNull(column) ? absl::InfiniteFuture()
                             : FromMicros(stmt.Int(column));
}

// Holds one read transaction, so a message and its recipients come from the
// same snapshot even while the writer commits in between.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(SqliteConnection& db) : db_(db) {
    open_ = db_.Exec("BEGIN").ok();
  }
  ~ReadSnapshot() {
    if (open_) db_.Exec("COMMIT").IgnoreError();
  }

 private:
  SqliteConnection& db_;
  bool open_ = false;
};

constexpr char kMessageColumns[] =
    "row_id, id, tenant_id, status, from_address, from_name, subject, tags, "
    "metadata, stream, create_time, update_time, next_attempt_time, "
    "attempt_count, resend_of, rfc822_message_id, size_bytes, request_id";

Message ReadMessageRow(const SqliteStatement& s) {
  Message m;
  m.row_id = s.Int(0);
  m.id = s.Text(1);
  m.tenant_id = s.Int(2);
  m.status = static_cast<MessageStatus>(s.Int(3));
  m.from_address = s.Text(4);
  m.from_name = s.Text(5);
  m.subject = s.Text(6);
  m.tags = SplitTags(s.Text(7));
  m.metadata = s.Text(8);
  m.stream = s.Text(9);
  m.create_time = FromMicros(s.Int(10));
  m.update_time = FromMicros(s.Int(11));
  m.next_attempt_time = OptionalTime(s, 12);
  m.attempt_count = static_cast<int>(s.Int(13));
  m.resend_of = s.Text(14);
  m.rfc822_message_id = s.Text(15);
  m.size_bytes = s.Int(16);
  m.request_id = s.Text(17);
  return m;
}

absl::Status LoadRecipients(SqliteConnection& db, Message& m) {
  static const std::string kSql =
      "SELECT address, kind, status, detail, reply_code, reply_enhanced, "
      "reply_text, reply_host, suppression_override FROM message_recipients "
      "WHERE message_row = ? ORDER BY position";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, m.row_id);
  m.recipients.clear();
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) break;
    m.recipients.push_back(ReadRecipientColumns(*stmt, 0));
  }
  return absl::OkStatus();
}

absl::Status LoadContent(SqliteConnection& db, Message& m) {
  // Messages stored before migration 0007 have their content in their row.
  static const std::string kSql =
      "SELECT COALESCE(c.content, m.content) FROM messages m LEFT JOIN "
      "message_contents c ON c.message_row = m.row_id WHERE m.row_id = ?";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, m.row_id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError("message vanished");
  m.content = stmt->Text(0);
  return absl::OkStatus();
}

absl::Status InsertEvent(SqliteConnection& db, const Event& e,
                         const std::string& tags) {
  static const std::string kSql =
      "INSERT INTO events (tenant_id, message_id, type, time, recipient, "
      "source, detail, reply_code, reply_enhanced, reply_text, reply_host, "
      "tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  // `e` and `tags` outlive the statement.
  stmt->Bind(1, e.tenant_id)
      .BindView(2, e.message_id)
      .Bind(3, static_cast<int64_t>(e.type))
      .Bind(4, ToMicros(e.time))
      .BindView(5, e.recipient)
      .BindView(6, e.source)
      .BindView(7, e.detail)
      .Bind(8, static_cast<int64_t>(e.reply.code))
      .BindView(9, e.reply.enhanced_code)
      .BindView(10, e.reply.text)
      .BindView(11, e.reply.remote_host)
      .BindView(12, tags);
  return stmt->Run();
}

// The tags of a message, for stamping onto events about it.
absl::StatusOr<std::string> MessageTags(SqliteConnection& db, int64_t tenant_id,
                                        const std::string& message_id) {
  static const std::string kSql =
      "SELECT tags FROM messages WHERE tenant_id = ? AND id = ?";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, tenant_id).Bind(2, message_id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("message ", message_id));
  return stmt->Text(0);
}

// Who added or removed a suppression, and why (suppression_log).
absl::Status LogSuppression(SqliteConnection& db, int64_t tenant_id,
                            absl::string_view address, absl::string_view scope,
                            absl::string_view action, SuppressionReason reason,
                            absl::string_view note, absl::Time time) {
  static const std::string kLog =
      "INSERT INTO suppression_log (tenant_id, address, scope, action, "
      "reason, note, time) VALUES (?,?,?,?,?,?,?)";
  ASSIGN_OR_RETURN(log, db.Prepare(kLog));
  log->Bind(1, tenant_id)
      .Bind(2, address)
      .Bind(3, scope)
      .Bind(4, action)
      .Bind(5, static_cast<int64_t>(reason))
      .Bind(6, note)
      .Bind(7, ToMicros(time));
  return log->Run();
}

// `filter` learns the address before the row is written, so no lookup that
// runs after the commit can miss it.
absl::Status UpsertSuppressionRow(SqliteConnection& db, const Suppression& s,
                                  absl::string_view note,
                                  SuppressedAddresses& filter) {
  static const std::string kSql =
      "INSERT INTO suppressions (tenant_id, address, scope, reason, "
      "create_time, expire_time, source_message, evidence) "
      "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (tenant_id, address, scope) DO "
      "UPDATE SET reason = excluded.reason, create_time = "
      "excluded.create_time, expire_time = excluded.expire_time, "
      "source_message = excluded.source_message, evidence = excluded.evidence";
  std::string address = AddressKey(s.address);
  filter.Add(s.tenant_id, address);
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, s.tenant_id)
      .Bind(2, address)
      .Bind(3, s.scope)
      .Bind(4, static_cast<int64_t>(s.reason))
      .Bind(5, ToMicros(s.create_time));
  BindOptionalTime(*stmt, 6, s.expire_time);
  stmt->Bind(7, s.source_message).Bind(8, s.evidence);
  RETURN_IF_ERROR(stmt->Run());
  return LogSuppression(db, s.tenant_id, address, s.scope, "added", s.reason,
                        note, s.create_time);
}

constexpr char kSuppressionColumns[] =
    "tenant_id, address, scope, reason, create_time, expire_time, "
    "source_message, evidence";

Suppression ReadSuppressionRow(const SqliteStatement& s) {
  Suppression out;
  out.tenant_id = s.Int(0);
  out.address = s.Text(1);
  out.scope = s.Text(2);
  out.reason = static_cast<SuppressionReason>(s.Int(3));
  out.create_time = FromMicros(s.Int(4));
  out.expire_time = OptionalTime(s, 5);
  out.source_message = s.Text(6);
  out.evidence = s.Text(7);
  return out;
}

// Deletes the suppression of (address, scope) and logs why; NOT_FOUND when
// there is none.
absl::StatusOr<Suppression> RemoveSuppressionRow(SqliteConnection& db,
                                                 int64_t tenant_id,
                                                 absl::string_view address,
                                                 absl::string_view scope,
                                                 absl::string_view note) {
  std::string key = AddressKey(address);
  std::string scope_text(scope);
  Suppression removed;
  static const std::string kFind =
      absl::StrCat("SELECT ", kSuppressionColumns,
                   " FROM suppressions WHERE tenant_id = ? AND address = ? "
                   "AND scope = ?");
  {
    ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
    stmt->Bind(1, tenant_id).Bind(2, key).Bind(3, scope_text);
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) return NotSuppressedError(key, scope_text);
    removed = ReadSuppressionRow(*stmt);
  }
  {
    ASSIGN_OR_RETURN(stmt, db.Prepare("DELETE FROM suppressions WHERE "
                                      "tenant_id = ? AND address = ? AND "
                                      "scope = ?"));
    stmt->Bind(1, tenant_id).Bind(2, key).Bind(3, scope_text);
    RETURN_IF_ERROR(stmt->Run());
  }
  RETURN_IF_ERROR(LogSuppression(db, tenant_id, key, scope_text, "removed",
                                 removed.reason, note, absl::Now()));
  return removed;
}

constexpr char kSubscriptionColumns[] =
    "tenant_id, address, list, state, create_time, update_time, source, "
    "metadata";

Subscription ReadSubscriptionRow(const SqliteStatement& s) {
  Subscription out;
  out.tenant_id = s.Int(0);
  out.address = s.Text(1);
  out.list = s.Text(2);
  out.state = static_cast<SubscriptionState>(s.Int(3));
  out.create_time = FromMicros(s.Int(4));
  out.update_time = FromMicros(s.Int(5));
  out.source = s.Text(6);
  out.metadata = s.Text(7);
  return out;
}

absl::Status UpsertSubscriptionRow(SqliteConnection& db,
                                   const Subscription& sub) {
  static const std::string kSql =
      "INSERT INTO subscriptions (tenant_id, address, list, state, "
      "create_time, update_time, source, metadata) VALUES (?,?,?,?,?,?,?,?) "
      "ON CONFLICT (tenant_id, address, list) DO UPDATE SET state = "
      "excluded.state, update_time = excluded.update_time, source = "
      "excluded.source, metadata = excluded.metadata";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, sub.tenant_id)
      .Bind(2, AddressKey(sub.address))
      .Bind(3, sub.list)
      .Bind(4, static_cast<int64_t>(sub.state))
      .Bind(5, ToMicros(sub.create_time))
      .Bind(6, ToMicros(sub.update_time))
      .Bind(7, sub.source)
      .BindBlob(8, sub.metadata);
  return stmt->Run();
}

// Inserts one new message (or finds its earlier twin by request id).
absl::StatusOr<InsertOutcome> InsertOne(SqliteConnection& db,
                                        const NewMessage& item) {
  const Message& m = item.message;
  InsertOutcome outcome;
  if (!m.request_id.empty()) {
    static const std::string kFind =
        "SELECT request_hash, message_id, create_time FROM idempotency "
        "WHERE tenant_id = ? AND request_id = ?";
    ASSIGN_OR_RETURN(find, db.Prepare(kFind));
    find->Bind(1, m.tenant_id).Bind(2, m.request_id);
    ASSIGN_OR_RETURN(found, find->Step());
    if (found) {
      std::optional<InsertOutcome> earlier = RepeatedRequestOutcome(
          item, find->Text(0), find->Text(1), FromMicros(find->Int(2)));
      if (earlier.has_value()) return *std::move(earlier);
    }
  }

  static const std::string kInsert =
      "INSERT INTO messages (id, tenant_id, status, from_address, from_name, "
      "subject, tags, metadata, stream, create_time, update_time, "
      "next_attempt_time, attempt_count, resend_of, rfc822_message_id, "
      "size_bytes, request_id, content) VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,x'')";
  // The statements below bind views of `item` and `tags`, which outlive
  // them.
  std::string tags = JoinTags(m.tags);
  {
    ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
    stmt->BindView(1, m.id)
        .Bind(2, m.tenant_id)
        .Bind(3, static_cast<int64_t>(m.status))
        .BindView(4, m.from_address)
        .BindView(5, m.from_name)
        .BindView(6, m.subject)
        .BindView(7, tags)
        .BindBlobView(8, m.metadata)
        .BindView(9, m.stream)
        .Bind(10, ToMicros(m.create_time))
        .Bind(11, ToMicros(m.update_time));
    BindOptionalTime(*stmt, 12, m.next_attempt_time);
    stmt->Bind(13, static_cast<int64_t>(m.attempt_count))
        .BindView(14, m.resend_of)
        .BindView(15, m.rfc822_message_id)
        .Bind(16, m.size_bytes)
        .BindView(17, m.request_id);
    RETURN_IF_ERROR(stmt->Run());
  }
  int64_t row = db.LastInsertRowId();
  static const std::string kContent =
      "INSERT INTO message_contents (message_row, content) VALUES (?,?)";
  {
    ASSIGN_OR_RETURN(stmt, db.Prepare(kContent));
    stmt->Bind(1, row).BindBlobView(2, m.content);
    RETURN_IF_ERROR(stmt->Run());
  }

  static const std::string kRecipient =
      "INSERT INTO message_recipients (message_row, position, tenant_id, "
      "address, kind, status, detail, reply_code, reply_enhanced, reply_text, "
      "reply_host, suppression_override) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    const Recipient& r = m.recipients[i];
    ASSIGN_OR_RETURN(stmt, db.Prepare(kRecipient));
    stmt->Bind(1, row)
        .Bind(2, static_cast<int64_t>(i))
        .Bind(3, m.tenant_id)
        .BindView(4, r.address)
        .Bind(5, static_cast<int64_t>(r.kind))
        .Bind(6, static_cast<int64_t>(r.status))
        .BindView(7, r.detail)
        .Bind(8, static_cast<int64_t>(r.last_reply.code))
        .BindView(9, r.last_reply.enhanced_code)
        .BindView(10, r.last_reply.text)
        .BindView(11, r.last_reply.remote_host)
        .Bind(12, static_cast<int64_t>(r.suppression_override ? 1 : 0));
    RETURN_IF_ERROR(stmt->Run());
  }

  static const std::string kTag =
      "INSERT OR IGNORE INTO message_tags (tenant_id, tag, message_row) "
      "VALUES (?,?,?)";
  for (const std::string& tag : m.tags) {
    ASSIGN_OR_RETURN(stmt, db.Prepare(kTag));
    stmt->Bind(1, m.tenant_id).BindView(2, tag).Bind(3, row);
    RETURN_IF_ERROR(stmt->Run());
  }

  for (const Event& e : item.events) {
    RETURN_IF_ERROR(InsertEvent(db, e, tags));
  }
  for (const Event& e : item.related_events) {
    ASSIGN_OR_RETURN(related_tags, MessageTags(db, e.tenant_id, e.message_id));
    RETURN_IF_ERROR(InsertEvent(db, e, related_tags));
  }

  if (!m.request_id.empty()) {
    static const std::string kRemember =
        "INSERT OR REPLACE INTO idempotency (tenant_id, request_id, "
        "request_hash, message_id, create_time) VALUES (?,?,?,?,?)";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kRemember));
    stmt->Bind(1, m.tenant_id)
        .Bind(2, m.request_id)
        .BindBlob(3, item.request_hash)
        .Bind(4, m.id)
        .Bind(5, ToMicros(m.create_time));
    RETURN_IF_ERROR(stmt->Run());
  }
  outcome.message_id = m.id;
  return outcome;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, SqliteOptions options) {
  static std::once_flag configure;
  std::call_once(configure, [] {
    // Allocation statistics take a global mutex on every malloc; nothing
    // here reads them.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
  ASSIGN_OR_RETURN(writer, SqliteConnection::Open(path, /*read_only=*/false));
  // WAL lets readers run beside the writer. FULL makes every commit reach
  // the disk before a Send is acknowledged; NORMAL only the OS.
  // Checkpoints are ours (CheckpointLoop), not the committing writer's.
  // An 8 MB page cache rather than a larger one: SQLite walks the cache's
  // whole hash table when a commit drops pages past the end of the
  // database, and with 64 MB those walks cost the queue about a tenth of
  // its CPU (bench/store_bench: 48 -> 42 us per delivery; inserts no
  // slower).
  // Foreign keys stay declared but are not enforced while running: each
  // insert into a referencing table looked its parent up again (a message's
  // tenant, its recipients' and content's message), about 5,000
  // instructions of a Send's 200,000, though every write path inserts the
  // parent first in the same transaction and nothing deletes parents. The
  // storage tests check the declarations after every test instead
  // (PRAGMA foreign_key_check, tests/server/store/testing_store_fixture.h).
  RETURN_IF_ERROR(writer->Exec(absl::StrCat(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=",
      options.full_sync ? "FULL" : "NORMAL",
      "; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-8192; "
      "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;")));
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(path, options, std::move(writer)));
  RETURN_IF_ERROR(store->Migrate());
  RETURN_IF_ERROR(store->LoadSuppressedAddresses());
  RETURN_IF_ERROR(store->RecoverIntake());
  sqlite3_wal_hook(store->writer_conn_->handle(), &SqliteStore::OnWalCommit,
                   store.get());
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  store->checkpointer_ = std::thread([s = store.get()] { s->CheckpointLoop(); });
  store->completer_ = std::thread([s = store.get()] { s->CompletionLoop(); });
  return store;
}

SqliteStore::SqliteStore(std::string path, SqliteOptions options,
                         std::unique_ptr<SqliteConnection> writer)
    : path_(std::move(path)),
      options_(options),
      writer_conn_(std::move(writer)),
      next_checkpoint_at_(options.checkpoint_pages) {}

SqliteStore::~SqliteStore() {
  // The checkpointer first: it submits writes of its own (the idempotency
  // purge) and waits for them, which would wait forever once the writer
  // had stopped.
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    stopping_ = true;
  }
  write_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(completion_mu_);
    completion_stopping_ = true;
  }
  completion_cv_.notify_all();
  if (completer_.joinable()) completer_.join();
  // A last full checkpoint leaves a small WAL behind for the next start.
  if (writer_conn_) {
    sqlite3_wal_checkpoint_v2(writer_conn_->handle(), nullptr,
                              SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  }
}

int SqliteStore::OnWalCommit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  const int every = store->options_.checkpoint_pages;
  store->wal_frames_ = pages;
  if (pages < store->next_checkpoint_at_ - every) {
    store->next_checkpoint_at_ = every;  // the WAL started from its beginning
  }
  // Once per `every` new frames rather than after each commit past the
  // first `every`: a pass also syncs the database file, and one per commit
  // doubled the fsyncs of a busy server.
  if (pages >= store->next_checkpoint_at_) {
    store->next_checkpoint_at_ = pages + every;
    {
      std::lock_guard<std::mutex> lock(store->checkpoint_mu_);
      store->checkpoint_wanted_ = true;
    }
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::CompletionLoop() {
  while (true) {
    std::deque<std::function<void()>> ready;
    {
      std::unique_lock<std::mutex> lock(completion_mu_);
      completion_cv_.wait(lock, [this] {
        return completion_stopping_ || !completions_.empty();
      });
      if (completions_.empty()) return;  // stopping, and all delivered
      ready.swap(completions_);
    }
    for (auto& fn : ready) fn();
  }
}

absl::StatusOr<int64_t> SqliteStore::PurgeIdempotencyRecords(
    absl::Time before) {
  int64_t deleted = 0;
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    static const std::string kSql =
        "DELETE FROM idempotency WHERE create_time < ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, ToMicros(before));
    RETURN_IF_ERROR(stmt->Run());
    deleted = db.Changes();
    return absl::OkStatus();
  }));
  return deleted;
}

void SqliteStore::CheckpointLoop() {
  absl::StatusOr<std::unique_ptr<SqliteConnection>> conn =
      SqliteConnection::Open(path_, /*read_only=*/false);
  if (!conn.ok()) return;  // the writer's own final checkpoint still runs
  absl::Time last_purge = absl::Now();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(checkpoint_mu_);
      // Also every few seconds, so a quiet WAL does not stay large.
      checkpoint_cv_.wait_for(lock, std::chrono::seconds(5), [this] {
        return checkpoint_wanted_ || checkpoint_stopping_;
      });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    // PASSIVE never blocks the writer or readers; the WAL restarts from its
    // beginning at the next commit once everything in it is copied.
    sqlite3_wal_checkpoint_v2((*conn)->handle(), nullptr,
                              SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (absl::Now() - last_purge > absl::Minutes(10)) {
      last_purge = absl::Now();
      PurgeIdempotencyRecords(last_purge - kIdempotencyWindow).IgnoreError();
    }
  }
}

absl::Status SqliteStore::Migrate() {
  SqliteConnection& db = *writer_conn_;
  RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
      "KEY, name TEXT NOT NULL, applied_time INTEGER NOT NULL)"));
  {
    ASSIGN_OR_RETURN(stmt,
                     db.Prepare("SELECT COALESCE(MAX(version), 0) FROM "
                                "schema_migrations"));
    ASSIGN_OR_RETURN(row, stmt->Step());
    schema_version_ = row ? static_cast<int>(stmt->Int(0)) : 0;
  }
  const std::vector<Migration>& migrations = SqliteMigrations();
  int newest = migrations.empty() ? 0 : migrations.back().version;
  if (schema_version_ > newest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", schema_version_,
        " is newer than this deliverd understands (", newest, ")"));
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= schema_version_) continue;
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    absl::Status status = db.Exec(migration.sql);
    if (status.ok()) {
      ASSIGN_OR_RETURN(stmt, db.Prepare("INSERT INTO schema_migrations "
                                        "(version, name, applied_time) "
                                        "VALUES (?,?,?)"));
      stmt->Bind(1, static_cast<int64_t>(migration.version))
          .Bind(2, migration.name)
          .Bind(3, ToMicros(absl::Now()));
      status = stmt->Run();
    }
    if (status.ok()) status = db.Exec("COMMIT");
    if (!status.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      return absl::Status(status.code(),
                          absl::StrCat("migration ", migration.name, ": ",
                                       status.message()));
    }
    schema_version_ = migration.version;
  }
  return absl::OkStatus();
}

void SqliteStore::Submit(WriteJob job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    write_queue_.push_back(std::move(job));
    wake = write_queue_.size() >= writer_wakes_at_;
  }
  if (wake) write_cv_.notify_one();
}

absl::Status SqliteStore::WriteAndWait(
    std::function<absl::Status(SqliteConnection&)> run) {
  std::promise<absl::Status> promise;
  auto future = promise.get_future();
  Submit({std::move(run),
          [&promise](absl::Status status) { promise.set_value(status); },
          /*done_inline=*/true});
  return future.get();
}

namespace {

// SQLite ended the group's transaction by itself (some I/O and out-of-memory
// errors do): whatever the group wrote is gone, so no job may be told it
// succeeded.
void MarkTransactionLost(std::vector<absl::Status>& results) {
  for (absl::Status& result : results) {
    if (result.ok()) {
      result = absl::UnavailableError(
          "the store's transaction was rolled back after an error; nothing "
          "of this write was kept");
    }
  }
}

}  // namespace

bool SqliteStore::RunJobsTogether(SqliteConnection& db,
                                  std::vector<WriteJob>& group,
                                  std::vector<absl::Status>& results) {
  for (size_t i = 0; i < group.size(); ++i) {
    const int64_t changes_before = db.TotalChanges();
    results[i] = group[i].run(db);
    // A job that failed before changing anything (a lease no longer held,
    // a row not found) needs no undoing; the group goes on.
    if (!results[i].ok() &&
        (db.TotalChanges() != changes_before || db.InAutocommit())) {
      return false;
    }
  }
  return true;
}

void SqliteStore::RunJobsIsolated(SqliteConnection& db,
                                  std::vector<WriteJob>& group,
                                  std::vector<absl::Status>& results) {
  static const std::string kSavepoint = "SAVEPOINT job";
  static const std::string kRelease = "RELEASE job";
  static const std::string kRollbackTo = "ROLLBACK TO job";
  for (size_t i = 0; i < group.size(); ++i) {
    if (db.InAutocommit()) {
      // The jobs before this one were undone with the transaction, and the
      // rest must not run outside one (each savepoint would then commit on
      // its own).
      MarkTransactionLost(results);
      return;
    }
    absl::Status status = db.ExecCached(kSavepoint);
    if (status.ok()) status = group[i].run(db);
    if (status.ok()) {
      status = db.ExecCached(kRelease);
    } else if (!db.InAutocommit()) {
      db.ExecCached(kRollbackTo).IgnoreError();
      db.ExecCached(kRelease).IgnoreError();
    }
    results[i] = status;
  }
}

namespace {
// The store whose writer loop runs on this thread, if any.
thread_local const SqliteStore* writer_of_this_thread = nullptr;
}  // namespace

void SqliteStore::WriterLoop() {
  writer_of_this_thread = this;
  SqliteConnection& db = *writer_conn_;
  size_t last_group_size = 0;
  while (true) {
    std::vector<WriteJob> group;
    std::vector<NewMessage> intake;
    uint64_t intake_upto = 0;
    {
      std::unique_lock<std::mutex> lock(write_mu_);
      writer_wakes_at_ = 1;
      // Wakes for a job, for a reader waiting on the intake log, and when
      // the oldest message in the log has waited intake_delay_ms.
      while (!stopping_ && write_queue_.empty() &&
             !(intake_urgent_ && !intake_pending_.empty())) {
        if (intake_pending_.empty()) {
          write_cv_.wait(lock);
        } else if (write_cv_.wait_until(lock, intake_due_) ==
                   std::cv_status::timeout) {
          break;
        }
      }
      if (!write_queue_.empty() && !stopping_ && intake_pending_.empty()) {
        // The callers answered by the last commit are submitting again
        // right now; committing for the first of them alone would leave the
        // rest waiting a whole commit. When there is concurrency, give them
        // a moment to gather (bounded, and never with a single caller).
        if (last_group_size > 1 && write_queue_.size() < last_group_size) {
          size_t want = last_group_size;
          writer_wakes_at_ = want;
          write_cv_.wait_for(lock, std::chrono::microseconds(kGatherMicros),
                             [this, want] {
                               return stopping_ || intake_urgent_ ||
                                      write_queue_.size() >= want;
                             });
        }
      }
      // Messages accepted through the intake log are stored before any
      // other write, so no job (a claim, a resend) misses one.
      if (!intake_pending_.empty() &&
          (intake_urgent_ || stopping_ || !write_queue_.empty() ||
           std::chrono::steady_clock::now() >= intake_due_)) {
        // A bounded number per transaction, so a burst of accepted messages
        // does not make one huge transaction; the rest are taken straight
        // after.
        if (intake_pending_.size() <= kMaxIntakeBatch) {
          intake.swap(intake_pending_);
        } else {
          auto end = intake_pending_.begin() + kMaxIntakeBatch;
          intake.assign(std::make_move_iterator(intake_pending_.begin()),
                        std::make_move_iterator(end));
          intake_pending_.erase(intake_pending_.begin(), end);
        }
        intake_upto = intake_accepted_ - intake_pending_.size();
      }
      if (intake_pending_.empty()) intake_urgent_ = false;
      // The jobs wait until every accepted message is stored (more than
      // one batch takes more than one pass), unless storing them fails:
      // then the jobs go on, and reads of messages fail until it works.
      if (intake_pending_.empty() || !intake_error_.ok()) {
        while (!write_queue_.empty() && group.size() < kMaxGroupSize) {
          group.push_back(std::move(write_queue_.front()));
          write_queue_.pop_front();
        }
      }
      if (group.empty() && intake.empty() && stopping_ &&
          intake_pending_.empty() && write_queue_.empty()) {
        return;  // stopping, and nothing left
      }
      writer_wakes_at_ = kWriterBusy;
    }
    if (!intake.empty()) StoreIntake(db, std::move(intake), intake_upto);
    if (group.empty()) continue;
    last_group_size = group.size();
    std::vector<absl::Status> results(group.size());
    static const std::string kBegin = "BEGIN IMMEDIATE";
    static const std::string kCommit = "COMMIT";
    absl::Status begin = db.ExecCached(kBegin);
    if (begin.ok() && !RunJobsTogether(db, group, results)) {
      if (!db.InAutocommit()) db.Exec("ROLLBACK").IgnoreError();
      begin = db.ExecCached(kBegin);
      if (begin.ok()) RunJobsIsolated(db, group, results);
    }
    if (!begin.ok()) {
      for (WriteJob& job : group) job.done(begin);
      continue;
    }
    absl::Status commit = absl::OkStatus();
    if (db.InAutocommit()) {
      MarkTransactionLost(results);
    } else {
      commit = db.ExecCached(kCommit);
    }
    if (!commit.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      for (absl::Status& status : results) status = commit;
    }
    std::vector<std::function<void()>> deferred;
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].done_inline) {
        group[i].done(results[i]);
      } else {
        deferred.push_back([done = std::move(group[i].done),
                            status = results[i]] { done(status); });
      }
    }
    if (!deferred.empty()) {
      {
        std::lock_guard<std::mutex> lock(completion_mu_);
        for (auto& fn : deferred) completions_.push_back(std::move(fn));
      }
      completion_cv_.notify_one();
    }
    RestartWalIfLong(db);
    if (commit.ok()) {
      // Called under the lock, so once SetEventListener returns the
      // listener it replaced is never called again (it may be destroyed).
      // Listeners must not block.
      std::lock_guard<std::mutex> lock(listener_mu_);
      if (event_listener_) event_listener_();
    }
  }
}

namespace {

// Whether a row with this id is stored: a message in the intake log may
// already be (a process killed between storing it and emptying the log).
absl::StatusOr<bool> MessageIdStored(SqliteConnection& db,
                                     const std::string& id) {
  static const std::string kSql = "SELECT 1 FROM messages WHERE id = ?";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  return row;
}

// Stores one message from the intake log inside the open transaction.
// `isolated`: on a savepoint of its own, and a message whose id is already
// stored counts as stored (ALREADY_EXISTS otherwise).
absl::Status InsertIntakeMessage(SqliteConnection& db, const NewMessage& item,
                                 bool isolated) {
  static const std::string kSavepoint = "SAVEPOINT intake";
  static const std::string kRelease = "RELEASE intake";
  static const std::string kRollbackTo = "ROLLBACK TO intake";
  if (isolated) RETURN_IF_ERROR(db.ExecCached(kSavepoint));
  absl::StatusOr<InsertOutcome> outcome = InsertOne(db, item);
  absl::Status status = outcome.ok() ? outcome->status : outcome.status();
  if (!isolated) return status;
  if (status.ok()) return db.ExecCached(kRelease);
  if (db.InAutocommit()) return status;  // SQLite ended the transaction
  RETURN_IF_ERROR(db.ExecCached(kRollbackTo));
  RETURN_IF_ERROR(db.ExecCached(kRelease));
  if (!absl::IsAlreadyExists(status)) return status;
  ASSIGN_OR_RETURN(stored, MessageIdStored(db, item.message.id));
  return stored ? absl::OkStatus() : status;
}

// How long a reader waits for the intake log to be stored before giving
// up with UNAVAILABLE, and how long the writer waits before trying again
// after a failure.
constexpr auto kIntakeReadWait = std::chrono::seconds(10);
constexpr auto kIntakeRetry = std::chrono::seconds(1);

}  // namespace

absl::Status SqliteStore::RecoverIntake() {
  const bool use = !options_.full_sync && options_.intake_delay_ms > 0;
  const std::string path = path_ + "-intake";
  if (!use && ::access(path.c_str(), F_OK) != 0) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<IntakeLog>> log =
      IntakeLog::Open(path, use ? options_.intake_max_bytes : 0);
  if (absl::IsFailedPrecondition(log.status())) {
    return absl::OkStatus();  // a running deliverd owns it
  }
  if (!log.ok()) return log.status();
  std::vector<std::string> records = (*log)->ReadAll();
  if (!records.empty()) {
    SqliteConnection& db = *writer_conn_;
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    absl::Status status = [&]() -> absl::Status {
      for (const std::string& record : records) {
        absl::StatusOr<NewMessage> item = DecodeIntakeMessage(record);
        if (!item.ok()) {
          return absl::DataLossError(absl::StrCat(
              (*log)->path(), " holds a message this deliverd cannot read (",
              item.status().message(),
              "); move the file aside to start without it"));
        }
        RETURN_IF_ERROR(InsertIntakeMessage(db, *item, /*isolated=*/true));
      }
      return db.Exec("COMMIT");
    }();
    if (!status.ok()) {
      if (!db.InAutocommit()) db.Exec("ROLLBACK").IgnoreError();
      return status;
    }
  }
  (*log)->Clear();
  if (use) intake_log_ = *std::move(log);
  return absl::OkStatus();
}

bool SqliteStore::AcceptIntoIntake(std::vector<NewMessage>& batch,
                                   InsertCallback& done) {
  if (intake_log_ == nullptr || batch.size() != 1 ||
      !batch[0].message.request_id.empty() ||
      !batch[0].related_events.empty()) {
    return false;  // idempotent and related writes need the database
  }
  std::string record;
  EncodeIntakeMessage(batch[0], &record);
  InsertOutcome outcome;
  outcome.message_id = batch[0].message.id;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    // While storing fails, and when the log is full until the writer has
    // emptied it, messages go through the writer instead.
    if (!intake_error_.ok() || !intake_log_->Append(record).ok()) {
      return false;
    }
    if (intake_pending_.empty()) {
      intake_due_ = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(options_.intake_delay_ms);
      wake = writer_wakes_at_ != kWriterBusy;
    }
    intake_pending_.push_back(std::move(batch[0]));
    ++intake_accepted_;
  }
  if (wake) write_cv_.notify_one();
  std::vector<InsertOutcome> outcomes;
  outcomes.push_back(std::move(outcome));
  done(std::move(outcomes));
  return true;
}

void SqliteStore::StoreIntake(SqliteConnection& db,
                              std::vector<NewMessage> items, uint64_t upto) {
  static const std::string kBegin = "BEGIN IMMEDIATE";
  static const std::string kCommit = "COMMIT";
  absl::Status status = db.ExecCached(kBegin);
  for (size_t i = 0; status.ok() && i < items.size(); ++i) {
    status = InsertIntakeMessage(db, items[i], /*isolated=*/false);
  }
  if (!status.ok() && absl::IsAlreadyExists(status)) {
    // One message must not hold the rest back: again, each on a savepoint,
    // so one whose id is already stored is skipped (as RecoverIntake does).
    if (!db.InAutocommit()) db.Exec("ROLLBACK").IgnoreError();
    status = db.ExecCached(kBegin);
    for (size_t i = 0; status.ok() && i < items.size(); ++i) {
      status = InsertIntakeMessage(db, items[i], /*isolated=*/true);
    }
  }
  if (status.ok()) status = db.ExecCached(kCommit);
  if (!status.ok() && !db.InAutocommit()) db.Exec("ROLLBACK").IgnoreError();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (status.ok()) {
      intake_stored_ = upto;
      intake_error_ = absl::OkStatus();
      // Emptied only when nothing was appended meanwhile; a message already
      // stored but still in the log is skipped by RecoverIntake.
      if (intake_stored_ == intake_accepted_) intake_log_->Clear();
    } else {
      intake_error_ = absl::UnavailableError(absl::StrCat(
          "accepted messages could not be stored yet: ", status.message()));
      // Readers get the error instead of hurrying a retry.
      intake_urgent_ = false;
      if (stopping_) {
        // They stay in the log; the next Open stores them.
        intake_pending_.clear();
      } else {
        items.insert(items.end(),
                     std::make_move_iterator(intake_pending_.begin()),
                     std::make_move_iterator(intake_pending_.end()));
        intake_pending_ = std::move(items);
        intake_due_ = std::chrono::steady_clock::now() + kIntakeRetry;
      }
    }
  }
  intake_stored_cv_.notify_all();
  if (status.ok()) {
    RestartWalIfLong(db);
    std::lock_guard<std::mutex> lock(listener_mu_);
    if (event_listener_) event_listener_();
  }
}

absl::Status SqliteStore::AwaitIntake() {
  if (intake_log_ == nullptr) return absl::OkStatus();
  // The writer cannot wait for itself: a read made on its thread (an event
  // listener's, which runs between two transactions) sees what is
  // committed so far, as it would with full sync.
  if (writer_of_this_thread == this) return absl::OkStatus();
  std::unique_lock<std::mutex> lock(write_mu_);
  if (intake_stored_ >= intake_accepted_) return absl::OkStatus();
  if (!intake_error_.ok()) return intake_error_;
  const uint64_t target = intake_accepted_;
  // Those already taken by the writer need no hurrying.
  if (!intake_pending_.empty()) {
    intake_urgent_ = true;
    write_cv_.notify_one();
  }
  intake_stored_cv_.wait_for(lock, kIntakeReadWait, [&] {
    return intake_stored_ >= target || !intake_error_.ok();
  });
  if (intake_stored_ >= target) return absl::OkStatus();
  if (!intake_error_.ok()) return intake_error_;
  return absl::UnavailableError(
      "accepted messages are taking too long to be stored; try again");
}

absl::Status SqliteStore::LoadSuppressedAddresses() {
  suppressed_addresses_ = std::make_unique<SuppressedAddresses>();
  ASSIGN_OR_RETURN(stmt, writer_conn_->Prepare(
                             "SELECT tenant_id, address FROM suppressions"));
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) return absl::OkStatus();
    suppressed_addresses_->Add(stmt->Int(0), stmt->TextView(1));
  }
}

void SqliteStore::RestartWalIfLong(SqliteConnection& db) {
  if (wal_frames_ < options_.restart_pages) return;
  // PASSIVE waits for nobody: if the background checkpointer holds the
  // checkpoint lock, or a reader still needs old frames, this pass copies
  // what it can and the next commit tries again.
  int wal_pages = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db.handle(), nullptr,
                                     SQLITE_CHECKPOINT_PASSIVE, &wal_pages,
                                     &copied);
  if (rc == SQLITE_OK && copied == wal_pages) wal_frames_ = 0;
}

SqliteStore::ReadLease::~ReadLease() {
  if (conn_ == nullptr) return;
  std::lock_guard<std::mutex> lock(store_->read_mu_);
  store_->readers_.push_back(std::move(conn_));
}

absl::StatusOr<SqliteStore::ReadLease> SqliteStore::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    if (!readers_.empty()) {
      std::unique_ptr<SqliteConnection> conn = std::move(readers_.back());
      readers_.pop_back();
      return ReadLease(this, std::move(conn));
    }
  }
  ASSIGN_OR_RETURN(conn, SqliteConnection::Open(path_, /*read_only=*/false));
  return ReadLease(this, std::move(conn));
}

absl::StatusOr<SqliteStore::ReadLease> SqliteStore::AcquireMessageReader() {
  RETURN_IF_ERROR(AwaitIntake());
  return AcquireReader();
}

void SqliteStore::SetEventListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  event_listener_ = std::move(listener);
}

absl::StatusOr<int64_t> SqliteStore::CreateTenant(absl::string_view name) {
  int64_t id = 0;
  std::string tenant(name);
  absl::Status status = WriteAndWait([&](SqliteConnection& db) {
    static const std::string kSql =
        "INSERT INTO tenants (name, create_time) VALUES (?, ?)";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant).Bind(2, ToMicros(absl::Now()));
    RETURN_IF_ERROR(stmt->Run());
    id = db.LastInsertRowId();
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("tenant \"", name, "\" already exists"));
  }
  if (!status.ok()) return status;
  return id;
}

absl::StatusOr<int64_t> SqliteStore::FindTenant(absl::string_view name) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql = "SELECT id FROM tenants WHERE name = ?";
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, name);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("tenant \"", name, "\""));
  return stmt->Int(0);
}

absl::StatusOr<std::string> SqliteStore::TenantName(int64_t tenant_id) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql = "SELECT name FROM tenants WHERE id = ?";
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, tenant_id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
  return stmt->Text(0);
}

absl::StatusOr<TenantSendPolicy> SqliteStore::GetSendPolicy(int64_t tenant_id) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql =
      "SELECT require_domain_auth, dkim_selectors, soft_bounce_half_life_s, "
      "soft_bounce_threshold, soft_bounce_suppress_s FROM tenants WHERE id = ?";
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, tenant_id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
  TenantSendPolicy policy;
  policy.require_domain_auth = stmt->Int(0) != 0;
  std::string selectors = stmt->Text(1);
  if (!selectors.empty()) {
    policy.dkim_selectors = absl::StrSplit(selectors, ',');
  }
  policy.soft_bounce_half_life_seconds = stmt->Int(2);
  policy.soft_bounce_threshold = stmt->Double(3);
  policy.soft_bounce_suppress_seconds = stmt->Int(4);
  return policy;
}

absl::Status SqliteStore::SetSendPolicy(int64_t tenant_id,
                                        const TenantSendPolicy& policy) {
  std::string selectors = absl::StrJoin(policy.dkim_selectors, ",");
  bool found = false;
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) {
    static const std::string kSql =
        "UPDATE tenants SET require_domain_auth = ?, dkim_selectors = ?, "
        "soft_bounce_half_life_s = ?, soft_bounce_threshold = ?, "
        "soft_bounce_suppress_s = ? WHERE id = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, static_cast<int64_t>(policy.require_domain_auth ? 1 : 0))
        .Bind(2, selectors)
        .Bind(3, policy.soft_bounce_half_life_seconds)
        .Bind(4, policy.soft_bounce_threshold)
        .Bind(5, policy.soft_bounce_suppress_seconds)
        .Bind(6, tenant_id);
    RETURN_IF_ERROR(stmt->Run());
    found = db.Changes() > 0;
    return absl::OkStatus();
  }));
  if (!found) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
  return absl::OkStatus();
}

absl::StatusOr<ApiKey> SqliteStore::CreateApiKey(int64_t tenant_id,
                                                 absl::string_view key_hash,
                                                 absl::string_view prefix,
                                                 absl::string_view label) {
  ApiKey key;
  key.tenant_id = tenant_id;
  key.prefix = std::string(prefix);
  key.label = std::string(label);
  // Stored to the microsecond; return what a later read will see.
  key.create_time = StoredTime(absl::Now());
  std::string hash(key_hash);
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    // Checked here: the declared foreign key is not enforced (see Open).
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare("SELECT 1 FROM tenants WHERE id = ?"));
      stmt->Bind(1, tenant_id);
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
    }
    static const std::string kSql =
        "INSERT INTO api_keys (tenant_id, key_hash, prefix, label, "
        "create_time) VALUES (?,?,?,?,?)";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id)
        .BindBlob(2, hash)
        .Bind(3, key.prefix)
        .Bind(4, key.label)
        .Bind(5, ToMicros(key.create_time));
    RETURN_IF_ERROR(stmt->Run());
    key.id = db.LastInsertRowId();
    return absl::OkStatus();
  }));
  return key;
}

absl::StatusOr<ApiKey> SqliteStore::FindApiKeyByHash(
    absl::string_view key_hash) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql =
      "SELECT k.id, k.tenant_id, t.name, k.prefix, k.label, k.create_time, "
      "k.revoke_time IS NOT NULL FROM api_keys k JOIN tenants t ON t.id = "
      "k.tenant_id WHERE k.key_hash = ?";
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->BindBlob(1, key_hash);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError("no such API key");
  ApiKey key;
  key.id = stmt->Int(0);
  key.tenant_id = stmt->Int(1);
  key.tenant_name = stmt->Text(2);
  key.prefix = stmt->Text(3);
  key.label = stmt->Text(4);
  key.create_time = FromMicros(stmt->Int(5));
  key.revoked = stmt->Int(6) != 0;
  return key;
}

absl::StatusOr<int64_t> SqliteStore::CountApiKeys() {
  ASSIGN_OR_RETURN(db, AcquireReader());
  ASSIGN_OR_RETURN(stmt, db->Prepare("SELECT COUNT(*) FROM api_keys"));
  ASSIGN_OR_RETURN(row, stmt->Step());
  return row ? stmt->Int(0) : 0;
}

void SqliteStore::InsertMessages(std::vector<NewMessage> batch,
                                 InsertCallback done) {
  if (AcceptIntoIntake(batch, done)) return;
  auto items = std::make_shared<std::vector<NewMessage>>(std::move(batch));
  auto outcomes = std::make_shared<std::vector<InsertOutcome>>();
  Submit({[items, outcomes](SqliteConnection& db) -> absl::Status {
            outcomes->clear();
            outcomes->reserve(items->size());
            for (const NewMessage& item : *items) {
              ASSIGN_OR_RETURN(outcome, InsertOne(db, item));
              outcomes->push_back(std::move(outcome));
            }
            return absl::OkStatus();
          },
          [outcomes, done = std::move(done)](absl::Status status) {
            if (!status.ok()) {
              done(status);
            } else {
              done(std::move(*outcomes));
            }
          }});
}

absl::StatusOr<Message> SqliteStore::GetMessage(int64_t tenant_id,
                                                absl::string_view id,
                                                bool with_content) {
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  static const std::string kSql = absl::StrCat(
      "SELECT ", kMessageColumns, " FROM messages WHERE tenant_id = ? AND id = ?");
  ReadSnapshot snapshot(*db);
  Message m;
  {
    ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, id);
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) return absl::NotFoundError(absl::StrCat("message ", id));
    m = ReadMessageRow(*stmt);
  }
  RETURN_IF_ERROR(LoadRecipients(*db, m));
  if (with_content) RETURN_IF_ERROR(LoadContent(*db, m));
  return m;
}

namespace {

constexpr char kEventColumns[] =
    "id, tenant_id, message_id, type, time, recipient, source, detail, "
    "reply_code, reply_enhanced, reply_text, reply_host, tags";

Event ReadEventRow(const SqliteStatement& s) {
  Event e;
  e.id = s.Int(0);
  e.tenant_id = s.Int(1);
  e.message_id = s.Text(2);
  e.type = static_cast<EventType>(s.Int(3));
  e.time = FromMicros(s.Int(4));
  e.recipient = s.Text(5);
  e.source = s.Text(6);
  e.detail = s.Text(7);
  e.reply.code = static_cast<int>(s.Int(8));
  e.reply.enhanced_code = s.Text(9);
  e.reply.text = s.Text(10);
  e.reply.remote_host = s.Text(11);
  e.tags = SplitTags(s.Text(12));
  return e;
}

}  // namespace

absl::StatusOr<int64_t> SqliteStore::FindMessageTenant(absl::string_view id) {
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  ASSIGN_OR_RETURN(stmt,
                   db->Prepare("SELECT tenant_id FROM messages WHERE id = ?"));
  stmt->Bind(1, id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("message ", id));
  return stmt->Int(0);
}

absl::StatusOr<std::vector<Event>> SqliteStore::MessageEvents(
    int64_t tenant_id, absl::string_view id) {
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  static const std::string kSql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM events WHERE message_id = ? AND tenant_id = ? "
                   "ORDER BY id");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, id).Bind(2, tenant_id);
  std::vector<Event> events;
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) break;
    events.push_back(ReadEventRow(*stmt));
  }
  return events;
}

absl::StatusOr<MessagePage> SqliteStore::ListMessages(
    int64_t tenant_id, const MessageFilter& filter, int page_size,
    const std::optional<MessageCursor>& after) {
  RETURN_IF_ERROR(CheckPageSize(page_size));
  // The SQL text is assembled from fixed fragments only; every value is a
  // bound parameter.
  std::string sql = absl::StrCat("SELECT ", kMessageColumns,
                                 " FROM messages m WHERE m.tenant_id = ?");
  if (!filter.statuses.empty()) {
    std::vector<std::string> marks(filter.statuses.size(), "?");
    absl::StrAppend(&sql, " AND m.status IN (", absl::StrJoin(marks, ","), ")");
  }
  if (!filter.sender.empty()) {
    absl::StrAppend(&sql, " AND m.from_address = ? COLLATE NOCASE");
  }
  if (filter.start_time != absl::InfinitePast()) {
    absl::StrAppend(&sql, " AND m.create_time >= ?");
  }
  if (filter.end_time != absl::InfiniteFuture()) {
    absl::StrAppend(&sql, " AND m.create_time < ?");
  }
  if (!filter.recipient.empty()) {
    absl::StrAppend(&sql,
                    " AND EXISTS (SELECT 1 FROM message_recipients r WHERE "
                    "r.message_row = m.row_id AND r.tenant_id = m.tenant_id "
                    "AND r.address = ? COLLATE NOCASE)");
  }
  if (!filter.tag.empty()) {
    absl::StrAppend(&sql,
                    " AND EXISTS (SELECT 1 FROM message_tags t WHERE "
                    "t.tenant_id = m.tenant_id AND t.tag = ? AND "
                    "t.message_row = m.row_id)");
  }
  if (after.has_value()) {
    absl::StrAppend(&sql,
                    " AND (m.create_time < ? OR (m.create_time = ? AND "
                    "m.row_id < ?))");
  }
  absl::StrAppend(&sql, " ORDER BY m.create_time DESC, m.row_id DESC LIMIT ?");

  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  ReadSnapshot snapshot(*db);
  MessagePage page;
  {
    ASSIGN_OR_RETURN(stmt, db->Prepare(sql));
    int i = 1;
    stmt->Bind(i++, tenant_id);
    for (MessageStatus status : filter.statuses) {
      stmt->Bind(i++, static_cast<int64_t>(status));
    }
    if (!filter.sender.empty()) stmt->Bind(i++, filter.sender);
    if (filter.start_time != absl::InfinitePast()) {
      stmt->Bind(i++, ToMicros(filter.start_time));
    }
    if (filter.end_time != absl::InfiniteFuture()) {
      stmt->Bind(i++, ToMicros(filter.end_time));
    }
    if (!filter.recipient.empty()) stmt->Bind(i++, filter.recipient);
    if (!filter.tag.empty()) stmt->Bind(i++, filter.tag);
    if (after.has_value()) {
      stmt->Bind(i++, ToMicros(after->create_time));
      stmt->Bind(i++, ToMicros(after->create_time));
      stmt->Bind(i++, after->row_id);
    }
    // One extra row tells whether another page exists.
    stmt->Bind(i++, static_cast<int64_t>(page_size) + 1);
    while (true) {
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) break;
      page.messages.push_back(ReadMessageRow(*stmt));
    }
  }
  TrimMessagePage(page_size, page);
  for (Message& m : page.messages) RETURN_IF_ERROR(LoadRecipients(*db, m));
  return page;
}

absl::StatusOr<EventBatch> SqliteStore::ReadEvents(int64_t tenant_id,
                                                   int64_t after_id,
                                                   const EventFilter& filter,
                                                   int limit) {
  static const std::string kAll =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM events WHERE tenant_id = ? AND id > ? ORDER BY id "
                   "LIMIT ?");
  static const std::string kOneMessage =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM events WHERE message_id = ? AND tenant_id = ? AND "
                   "id > ? ORDER BY id LIMIT ?");
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  EventBatch batch;
  batch.scanned_through = after_id;
  ASSIGN_OR_RETURN(stmt, db->Prepare(filter.message_id.empty() ? kAll
                                                                : kOneMessage));
  int i = 1;
  if (!filter.message_id.empty()) stmt->Bind(i++, filter.message_id);
  stmt->Bind(i, tenant_id).Bind(i + 1, after_id);
  stmt->Bind(i + 2, static_cast<int64_t>(limit));
  int scanned = 0;
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) break;
    ++scanned;
    Event e = ReadEventRow(*stmt);
    batch.scanned_through = e.id;
    if (EventMatches(filter, e)) batch.events.push_back(std::move(e));
  }
  batch.more = scanned == limit;
  return batch;
}

absl::StatusOr<int64_t> SqliteStore::LastEventId(int64_t tenant_id) {
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  ASSIGN_OR_RETURN(stmt, db->Prepare("SELECT COALESCE(MAX(id), 0) FROM events "
                                     "WHERE tenant_id = ?"));
  stmt->Bind(1, tenant_id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  return row ? stmt->Int(0) : 0;
}

absl::StatusOr<std::vector<Message>> SqliteStore::ClaimDueMessages(
    absl::string_view owner, absl::Time now, absl::Duration lease, int limit) {
  std::vector<Message> claimed;
  std::string lease_owner(owner);
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    claimed.clear();
    static const std::string kDue = absl::StrCat(
        "SELECT ", kMessageColumns,
        " FROM messages WHERE status IN (1, 3) AND next_attempt_time <= ? "
        "AND (lease_until IS NULL OR lease_until <= ?) "
        "ORDER BY next_attempt_time LIMIT ?");
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kDue));
      stmt->Bind(1, ToMicros(now))
          .Bind(2, ToMicros(now))
          .Bind(3, static_cast<int64_t>(limit));
      while (true) {
        ASSIGN_OR_RETURN(row, stmt->Step());
        if (!row) break;
        claimed.push_back(ReadMessageRow(*stmt));
      }
    }
    static const std::string kLease =
        "UPDATE messages SET lease_owner = ?, lease_until = ? WHERE row_id = ?";
    for (Message& m : claimed) {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kLease));
      stmt->Bind(1, lease_owner)
          .Bind(2, ToMicros(now + lease))
          .Bind(3, m.row_id);
      RETURN_IF_ERROR(stmt->Run());
      RETURN_IF_ERROR(LoadRecipients(db, m));
      RETURN_IF_ERROR(LoadContent(db, m));
    }
    return absl::OkStatus();
  }));
  return claimed;
}

void SqliteStore::RecordDeliveryAsync(
    std::shared_ptr<const DeliveryUpdate> shared, RecordCallback done) {
  SuppressedAddresses& filter = *suppressed_addresses_;
  auto run = [shared, &filter](SqliteConnection& db) -> absl::Status {
    const DeliveryUpdate& update = *shared;
    static const std::string kFind =
        "SELECT row_id, tags FROM messages WHERE tenant_id = ? AND id = ? AND "
        "lease_owner = ?";
    int64_t row_id = 0;
    std::string tags;
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
      stmt->Bind(1, update.tenant_id)
          .Bind(2, update.message_id)
          .Bind(3, update.lease_owner);
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) {
        return absl::FailedPreconditionError(absl::StrCat(
            "lease on message ", update.message_id, " is no longer held by ",
            update.lease_owner));
      }
      row_id = stmt->Int(0);
      tags = stmt->Text(1);
    }
    absl::Time now = absl::Now();
    static const std::string kUpdate =
        "UPDATE messages SET status = ?, update_time = ?, next_attempt_time = "
        "?, attempt_count = ?, lease_owner = NULL, lease_until = NULL WHERE "
        "row_id = ?";
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kUpdate));
      stmt->Bind(1, static_cast<int64_t>(update.status)).Bind(2, ToMicros(now));
      BindOptionalTime(*stmt, 3, update.next_attempt_time);
      stmt->Bind(4, static_cast<int64_t>(update.attempt_count)).Bind(5, row_id);
      RETURN_IF_ERROR(stmt->Run());
    }
    static const std::string kRecipient =
        "UPDATE message_recipients SET status = ?, detail = ?, reply_code = ?, "
        "reply_enhanced = ?, reply_text = ?, reply_host = ? WHERE message_row "
        "= ? AND position = ?";
    for (size_t i = 0; i < update.recipients.size(); ++i) {
      const Recipient& r = update.recipients[i];
      ASSIGN_OR_RETURN(stmt, db.Prepare(kRecipient));
      stmt->Bind(1, static_cast<int64_t>(r.status))
          .Bind(2, r.detail)
          .Bind(3, static_cast<int64_t>(r.last_reply.code))
          .Bind(4, r.last_reply.enhanced_code)
          .Bind(5, r.last_reply.text)
          .Bind(6, r.last_reply.remote_host)
          .Bind(7, row_id)
          .Bind(8, static_cast<int64_t>(i));
      RETURN_IF_ERROR(stmt->Run());
    }
    for (const Event& e : update.events) {
      RETURN_IF_ERROR(InsertEvent(db, e, tags));
    }
    for (const Suppression& s : update.new_suppressions) {
      RETURN_IF_ERROR(UpsertSuppressionRow(db, s, "delivery", filter));
    }
    return absl::OkStatus();
  };
  // `done` must not block, so it runs on the writer itself rather than
  // costing a hand-off to the completion thread per delivery.
  Submit({std::move(run), std::move(done), /*done_inline=*/true});
}

absl::Status SqliteStore::ReleaseAllLeases() {
  return WriteAndWait([](SqliteConnection& db) -> absl::Status {
    RETURN_IF_ERROR(db.Exec(
        "UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE "
        "lease_owner IS NOT NULL"));
    // A cleaning run cut short by the restart is recorded as failed; a
    // scheduled job keeps its (past) next run time, so it is retried now.
    RETURN_IF_ERROR(db.Exec(absl::StrCat(
        "UPDATE cleaning_job_runs SET state = 3, end_time = ",
        ToMicros(absl::Now()),
        ", error = 'abandoned: deliverd stopped during the run' WHERE state "
        "= 1")));
    return db.Exec(
        "UPDATE cleaning_jobs SET lease_owner = NULL, lease_until = NULL "
        "WHERE lease_owner IS NOT NULL");
  });
}

absl::StatusOr<absl::Time> SqliteStore::NextDueTime() {
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  // A leased message is not due again before its lease ends.
  ASSIGN_OR_RETURN(
      stmt, db->Prepare("SELECT MIN(CASE WHEN lease_until IS NOT NULL AND "
                        "lease_until > next_attempt_time THEN lease_until "
                        "ELSE next_attempt_time END) FROM messages WHERE "
                        "status IN (1, 3) AND next_attempt_time IS NOT NULL"));
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row || stmt->IsNull(0)) return absl::InfiniteFuture();
  return FromMicros(stmt->Int(0));
}

absl::Status SqliteStore::UpsertSuppression(const Suppression& suppression,
                                            absl::string_view note) {
  std::string text(note);
  return WriteAndWait([&](SqliteConnection& db) {
    return UpsertSuppressionRow(db, suppression, text, *suppressed_addresses_);
  });
}

absl::StatusOr<Suppression> SqliteStore::RemoveSuppression(
    int64_t tenant_id, absl::string_view address, absl::string_view scope,
    absl::string_view reason) {
  Suppression removed;
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(found,
                     RemoveSuppressionRow(db, tenant_id, address, scope, reason));
    removed = std::move(found);
    return absl::OkStatus();
  }));
  return removed;
}

absl::StatusOr<std::vector<std::optional<Suppression>>>
SqliteStore::FindSuppressions(int64_t tenant_id,
                              const std::vector<std::string>& addresses,
                              absl::string_view stream, absl::Time now) {
  std::vector<std::optional<Suppression>> found(addresses.size());
  // Only addresses the filter cannot rule out cost a read transaction.
  std::vector<std::pair<size_t, std::string>> maybe;
  for (size_t i = 0; i < addresses.size(); ++i) {
    std::string key = AddressKey(addresses[i]);
    if (suppressed_addresses_->MayContain(tenant_id, key)) {
      maybe.emplace_back(i, std::move(key));
    }
  }
  if (maybe.empty()) return found;
  // Every scope of the address, '' first, matched to the stream and the
  // time here: with "scope IN ('', ?)" in the SQL, SQLite built a temporary
  // table for the list on every call.
  // ORDER BY scope is the key's own order: no sort, and '' first for sure.
  static const std::string kSql = absl::StrCat(
      "SELECT ", kSuppressionColumns,
      " FROM suppressions WHERE tenant_id = ? AND address = ? ORDER BY scope");
  ASSIGN_OR_RETURN(db, AcquireReader());
  for (const auto& [index, key] : maybe) {
    ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, key);
    while (true) {
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) break;
      absl::string_view scope = stmt->TextView(2);
      if (!scope.empty() && scope != stream) continue;
      if (OptionalTime(*stmt, 5) <= now) continue;  // expired
      found[index] = ReadSuppressionRow(*stmt);
      break;
    }
  }
  return found;
}

absl::StatusOr<SuppressionPage> SqliteStore::ListSuppressions(
    int64_t tenant_id, const SuppressionFilter& filter, int page_size,
    const std::optional<SuppressionCursor>& after) {
  RETURN_IF_ERROR(CheckPageSize(page_size));
  std::string sql = absl::StrCat("SELECT ", kSuppressionColumns,
                                 " FROM suppressions WHERE tenant_id = ?");
  if (filter.reason != SuppressionReason::kUnspecified) {
    absl::StrAppend(&sql, " AND reason = ?");
  }
  if (!filter.all_scopes) absl::StrAppend(&sql, " AND scope = ?");
  if (!filter.address_prefix.empty()) {
    // length() counts characters, as substr() does; a byte count would
    // never match a prefix with non-ASCII characters.
    absl::StrAppend(&sql, " AND substr(address, 1, length(?)) = ?");
  }
  if (after.has_value()) absl::StrAppend(&sql, " AND (address, scope) > (?, ?)");
  absl::StrAppend(&sql, " ORDER BY address, scope LIMIT ?");
  ASSIGN_OR_RETURN(db, AcquireReader());
  ASSIGN_OR_RETURN(stmt, db->Prepare(sql));
  int i = 1;
  stmt->Bind(i++, tenant_id);
  if (filter.reason != SuppressionReason::kUnspecified) {
    stmt->Bind(i++, static_cast<int64_t>(filter.reason));
  }
  if (!filter.all_scopes) stmt->Bind(i++, filter.scope);
  std::string prefix = AddressKey(filter.address_prefix);
  if (!prefix.empty()) {
    stmt->Bind(i++, prefix);
    stmt->Bind(i++, prefix);
  }
  if (after.has_value()) {
    stmt->Bind(i++, after->address);
    stmt->Bind(i++, after->scope);
  }
  stmt->Bind(i++, static_cast<int64_t>(page_size) + 1);
  SuppressionPage page;
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) break;
    page.suppressions.push_back(ReadSuppressionRow(*stmt));
  }
  TrimSuppressionPage(page_size, page);
  return page;
}

}  // namespace deliverd::store

namespace deliverd::store {

absl::StatusOr<bool> SqliteStore::ApplyFeedback(const FeedbackUpdate& update) {
  bool applied = false;
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    applied = false;  // a run may be repeated (see WriteJob)
    absl::Time now = absl::Now();
    // Every refusal comes before the first write, so a refused update
    // costs its commit group nothing (see WriteJob).
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare("SELECT 1 FROM feedback_applied "
                                        "WHERE tenant_id = ? AND "
                                        "fingerprint = ?"));
      stmt->Bind(1, update.tenant_id).Bind(2, update.fingerprint);
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (row) return absl::OkStatus();  // applied before
    }
    std::string tags;
    int64_t row_id = 0;
    if (!update.message_id.empty()) {
      ASSIGN_OR_RETURN(stmt, db.Prepare("SELECT row_id, tags, update_time "
                                        "FROM messages WHERE tenant_id = ? "
                                        "AND id = ?"));
      stmt->Bind(1, update.tenant_id).Bind(2, update.message_id);
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) {
        return absl::NotFoundError(
            absl::StrCat("message ", update.message_id));
      }
      row_id = stmt->Int(0);
      tags = stmt->Text(1);
      if (update.expected_update_time != absl::InfinitePast() &&
          FromMicros(stmt->Int(2)) != update.expected_update_time) {
        return absl::AbortedError(absl::StrCat(
            "message ", update.message_id, " changed while feedback was "
            "applied to it"));
      }
    }
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare("INSERT INTO feedback_applied "
                                        "(tenant_id, fingerprint, message_id, "
                                        "time) VALUES (?,?,?,?)"));
      stmt->Bind(1, update.tenant_id)
          .Bind(2, update.fingerprint)
          .Bind(3, update.message_id)
          .Bind(4, ToMicros(now));
      RETURN_IF_ERROR(stmt->Run());
    }
    if (!update.message_id.empty()) {
      if (update.message_status != MessageStatus::kUnspecified ||
          !update.recipients.empty()) {
        ASSIGN_OR_RETURN(
            touch, db.Prepare("UPDATE messages SET status = CASE WHEN ? = 0 "
                              "THEN status ELSE ? END, update_time = ? WHERE "
                              "row_id = ?"));
        int64_t status = static_cast<int64_t>(update.message_status);
        touch->Bind(1, status).Bind(2, status).Bind(3, ToMicros(now)).Bind(
            4, row_id);
        RETURN_IF_ERROR(touch->Run());
      }
      static const std::string kRecipient =
          "UPDATE message_recipients SET status = ?, detail = ?, reply_code = "
          "?, reply_enhanced = ?, reply_text = ?, reply_host = ? WHERE "
          "message_row = ? AND address = ? COLLATE NOCASE";
      for (const RecipientFeedback& r : update.recipients) {
        ASSIGN_OR_RETURN(rs, db.Prepare(kRecipient));
        rs->Bind(1, static_cast<int64_t>(r.status))
            .Bind(2, r.detail)
            .Bind(3, static_cast<int64_t>(r.reply.code))
            .Bind(4, r.reply.enhanced_code)
            .Bind(5, r.reply.text)
            .Bind(6, r.reply.remote_host)
            .Bind(7, row_id)
            .Bind(8, r.address);
        RETURN_IF_ERROR(rs->Run());
      }
    }
    for (const Event& e : update.events) {
      RETURN_IF_ERROR(InsertEvent(db, e, tags));
    }
    for (const auto& [address, scope] : update.removed_suppressions) {
      absl::StatusOr<Suppression> removed = RemoveSuppressionRow(
          db, update.tenant_id, address, scope, update.removal_note);
      if (!removed.ok() && !absl::IsNotFound(removed.status())) {
        return removed.status();
      }
    }
    for (const Suppression& s : update.new_suppressions) {
      RETURN_IF_ERROR(
          UpsertSuppressionRow(db, s, s.evidence, *suppressed_addresses_));
    }
    for (const Subscription& sub : update.subscriptions) {
      RETURN_IF_ERROR(UpsertSubscriptionRow(db, sub));
    }
    static const std::string kScore =
        "INSERT INTO soft_bounce_scores (tenant_id, address, score, updated) "
        "VALUES (?,?,?,?) ON CONFLICT (tenant_id, address) DO UPDATE SET "
        "score = excluded.score, updated = excluded.updated";
    for (const SoftBounceScore& score : update.scores) {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kScore));
      stmt->Bind(1, score.tenant_id)
          .Bind(2, AddressKey(score.address))
          .Bind(3, score.score)
          .Bind(4, ToMicros(score.updated));
      RETURN_IF_ERROR(stmt->Run());
    }
    applied = true;
    return absl::OkStatus();
  }));
  return applied;
}

absl::StatusOr<std::optional<SoftBounceScore>> SqliteStore::GetSoftBounceScore(
    int64_t tenant_id, absl::string_view address) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  ASSIGN_OR_RETURN(stmt, db->Prepare("SELECT score, updated FROM "
                                     "soft_bounce_scores WHERE tenant_id = ? "
                                     "AND address = ?"));
  stmt->Bind(1, tenant_id).Bind(2, AddressKey(address));
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row) return std::optional<SoftBounceScore>();
  SoftBounceScore out;
  out.tenant_id = tenant_id;
  out.address = AddressKey(address);
  out.score = stmt->Double(0);
  out.updated = FromMicros(stmt->Int(1));
  return std::optional<SoftBounceScore>(std::move(out));
}

absl::StatusOr<std::vector<Subscription>> SqliteStore::GetSubscriptions(
    int64_t tenant_id, absl::string_view address, absl::string_view list) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql = absl::StrCat(
      "SELECT ", kSubscriptionColumns,
      " FROM subscriptions WHERE tenant_id = ? AND address = ? AND (? = '' "
      "OR list = ?) ORDER BY list");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, tenant_id)
      .Bind(2, AddressKey(address))
      .Bind(3, list)
      .Bind(4, list);
  std::vector<Subscription> out;
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) break;
    out.push_back(ReadSubscriptionRow(*stmt));
  }
  return out;
}

namespace {

constexpr char kJobColumns[] =
    "tenant_id, id, display_name, source, destination, schedule, offline, "
    "remove_risky, stream, on_undeliverable, on_risky, create_time, "
    "next_run_time, consecutive_failures";

constexpr char kRunColumns[] =
    "id, tenant_id, job_id, state, start_time, end_time, rows_total, kept, "
    "removed, duplicates, by_verdict, removed_by_reason, suppressed_added, "
    "flagged, error";

CleaningJob ReadJobRow(const SqliteStatement& s) {
  CleaningJob j;
  j.tenant_id = s.Int(0);
  j.id = s.Text(1);
  j.display_name = s.Text(2);
  j.source = s.Text(3);
  j.destination = s.Text(4);
  j.schedule = s.Text(5);
  j.offline = s.Int(6) != 0;
  j.remove_risky = s.Int(7) != 0;
  j.stream = s.Text(8);
  j.on_undeliverable = static_cast<CleaningJobAction>(s.Int(9));
  j.on_risky = static_cast<CleaningJobAction>(s.Int(10));
  j.create_time = FromMicros(s.Int(11));
  j.next_run_time = OptionalTime(s, 12);
  j.consecutive_failures = static_cast<int>(s.Int(13));
  return j;
}

CleaningJobRun ReadRunRow(const SqliteStatement& s) {
  CleaningJobRun r;
  r.id = s.Int(0);
  r.tenant_id = s.Int(1);
  r.job_id = s.Text(2);
  r.state = static_cast<CleaningRunState>(s.Int(3));
  r.start_time = FromMicros(s.Int(4));
  r.end_time = OptionalTime(s, 5);
  r.summary.rows = s.Int(6);
  r.summary.kept = s.Int(7);
  r.summary.removed = s.Int(8);
  r.summary.duplicates = s.Int(9);
  r.summary.by_verdict = DecodeCounts(s.Text(10));
  r.summary.removed_by_reason = DecodeCounts(s.Text(11));
  r.summary.suppressed_added = s.Int(12);
  r.summary.flagged = s.Int(13);
  r.error = s.Text(14);
  return r;
}

absl::Status LoadLastRun(SqliteConnection& db, CleaningJob& job) {
  static const std::string kSql = absl::StrCat(
      "SELECT ", kRunColumns,
      " FROM cleaning_job_runs WHERE tenant_id = ? AND job_id = ? ORDER BY "
      "id DESC LIMIT 1");
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, job.tenant_id).Bind(2, job.id);
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (row) job.last_run = ReadRunRow(*stmt);
  return absl::OkStatus();
}

// Leases `job` (already read, lease free) to `owner` and inserts its RUNNING
// run. A run still RUNNING belongs to a runner whose lease expired: it is
// closed as FAILED first, so the history shows what happened.
absl::StatusOr<ClaimedCleaningJob> LeaseJob(SqliteConnection& db,
                                            CleaningJob job,
                                            const std::string& owner,
                                            absl::Time now,
                                            absl::Duration lease) {
  {
    static const std::string kAbandon =
        "UPDATE cleaning_job_runs SET state = 3, end_time = ?, error = "
        "'abandoned: the runner stopped before recording the end (lease "
        "expired)' WHERE tenant_id = ? AND job_id = ? AND state = 1";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kAbandon));
    stmt->Bind(1, ToMicros(now)).Bind(2, job.tenant_id).Bind(3, job.id);
    RETURN_IF_ERROR(stmt->Run());
  }
  {
    static const std::string kLease =
        "UPDATE cleaning_jobs SET lease_owner = ?, lease_until = ? WHERE "
        "tenant_id = ? AND id = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kLease));
    stmt->Bind(1, owner)
        .Bind(2, ToMicros(now + lease))
        .Bind(3, job.tenant_id)
        .Bind(4, job.id);
    RETURN_IF_ERROR(stmt->Run());
  }
  ClaimedCleaningJob claimed;
  claimed.run.tenant_id = job.tenant_id;
  claimed.run.job_id = job.id;
  claimed.run.state = CleaningRunState::kRunning;
  claimed.run.start_time = now;
  {
    static const std::string kInsert =
        "INSERT INTO cleaning_job_runs (tenant_id, job_id, state, "
        "start_time) VALUES (?, ?, 1, ?)";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
    stmt->Bind(1, job.tenant_id).Bind(2, job.id).Bind(3, ToMicros(now));
    RETURN_IF_ERROR(stmt->Run());
    claimed.run.id = db.LastInsertRowId();
  }
  RETURN_IF_ERROR(LoadLastRun(db, job));
  claimed.job = std::move(job);
  return claimed;
}

}  // namespace

absl::StatusOr<CleaningJob> SqliteStore::CreateCleaningJob(
    const CleaningJob& job) {
  CleaningJob stored = job;
  stored.id = NewJobId();
  stored.create_time = StoredTime(absl::Now());
  stored.consecutive_failures = 0;
  stored.last_run.reset();
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    static const std::string kInsert = absl::StrCat(
        "INSERT INTO cleaning_jobs (", kJobColumns,
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
    stmt->Bind(1, stored.tenant_id)
        .Bind(2, stored.id)
        .Bind(3, stored.display_name)
        .Bind(4, stored.source)
        .Bind(5, stored.destination)
        .Bind(6, stored.schedule)
        .Bind(7, static_cast<int64_t>(stored.offline))
        .Bind(8, static_cast<int64_t>(stored.remove_risky))
        .Bind(9, stored.stream)
        .Bind(10, static_cast<int64_t>(stored.on_undeliverable))
        .Bind(11, static_cast<int64_t>(stored.on_risky))
        .Bind(12, ToMicros(stored.create_time));
    BindOptionalTime(*stmt, 13, stored.next_run_time);
    stmt->Bind(14, int64_t{0});
    return stmt->Run();
  }));
  if (stored.next_run_time != absl::InfiniteFuture()) {
    stored.next_run_time = FromMicros(ToMicros(stored.next_run_time));
  }
  return stored;
}

absl::StatusOr<CleaningJob> SqliteStore::GetCleaningJob(int64_t tenant_id,
                                                        absl::string_view id) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  ReadSnapshot snapshot(*db);
  static const std::string kSql = absl::StrCat(
      "SELECT ", kJobColumns,
      " FROM cleaning_jobs WHERE tenant_id = ? AND id = ?");
  CleaningJob job;
  {
    ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, id);
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) return CleaningJobNotFoundError(id);
    job = ReadJobRow(*stmt);
  }
  RETURN_IF_ERROR(LoadLastRun(*db, job));
  return job;
}

absl::StatusOr<std::vector<CleaningJob>> SqliteStore::ListCleaningJobs(
    int64_t tenant_id, int page_size, absl::string_view after_id) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  ReadSnapshot snapshot(*db);
  static const std::string kSql = absl::StrCat(
      "SELECT ", kJobColumns,
      " FROM cleaning_jobs WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?");
  std::vector<CleaningJob> jobs;
  {
    ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
    stmt->Bind(1, tenant_id)
        .Bind(2, after_id)
        .Bind(3, static_cast<int64_t>(page_size));
    while (true) {
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) break;
      jobs.push_back(ReadJobRow(*stmt));
    }
  }
  for (CleaningJob& job : jobs) RETURN_IF_ERROR(LoadLastRun(*db, job));
  return jobs;
}

absl::Status SqliteStore::DeleteCleaningJob(int64_t tenant_id,
                                            absl::string_view id) {
  std::string job_id(id);
  return WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare("DELETE FROM cleaning_jobs WHERE "
                                        "tenant_id = ? AND id = ?"));
      stmt->Bind(1, tenant_id).Bind(2, job_id);
      RETURN_IF_ERROR(stmt->Run());
      if (db.Changes() == 0) return CleaningJobNotFoundError(job_id);
    }
    ASSIGN_OR_RETURN(stmt, db.Prepare("DELETE FROM cleaning_job_runs WHERE "
                                      "tenant_id = ? AND job_id = ?"));
    stmt->Bind(1, tenant_id).Bind(2, job_id);
    return stmt->Run();
  });
}

absl::StatusOr<std::vector<ClaimedCleaningJob>>
SqliteStore::ClaimDueCleaningJobs(absl::string_view owner, absl::Time now,
                                  absl::Duration lease, int limit) {
  std::vector<ClaimedCleaningJob> claimed;
  std::string lease_owner(owner);
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    claimed.clear();
    static const std::string kDue = absl::StrCat(
        "SELECT ", kJobColumns,
        " FROM cleaning_jobs WHERE next_run_time IS NOT NULL AND "
        "next_run_time <= ? AND (lease_until IS NULL OR lease_until <= ?) "
        "ORDER BY next_run_time LIMIT ?");
    std::vector<CleaningJob> due;
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kDue));
      stmt->Bind(1, ToMicros(now))
          .Bind(2, ToMicros(now))
          .Bind(3, static_cast<int64_t>(limit));
      while (true) {
        ASSIGN_OR_RETURN(row, stmt->Step());
        if (!row) break;
        due.push_back(ReadJobRow(*stmt));
      }
    }
    for (CleaningJob& job : due) {
      ASSIGN_OR_RETURN(
          one, LeaseJob(db, std::move(job), lease_owner, now, lease));
      claimed.push_back(std::move(one));
    }
    return absl::OkStatus();
  }));
  return claimed;
}

absl::StatusOr<ClaimedCleaningJob> SqliteStore::ClaimCleaningJob(
    int64_t tenant_id, absl::string_view id, absl::string_view owner,
    absl::Time now, absl::Duration lease) {
  ClaimedCleaningJob claimed;
  std::string job_id(id);
  std::string lease_owner(owner);
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    static const std::string kFind = absl::StrCat(
        "SELECT ", kJobColumns,
        ", lease_until FROM cleaning_jobs WHERE tenant_id = ? AND id = ?");
    CleaningJob job;
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
      stmt->Bind(1, tenant_id).Bind(2, job_id);
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) return CleaningJobNotFoundError(job_id);
      job = ReadJobRow(*stmt);
      if (!stmt->IsNull(14) && FromMicros(stmt->Int(14)) > now) {
        return absl::FailedPreconditionError(
            absl::StrCat("cleaning job ", job_id, " is already running"));
      }
    }
    ASSIGN_OR_RETURN(one,
                     LeaseJob(db, std::move(job), lease_owner, now, lease));
    claimed = std::move(one);
    return absl::OkStatus();
  }));
  return claimed;
}

absl::Status SqliteStore::FinishCleaningJobRun(const CleaningRunFinish& f) {
  return WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    {
      static const std::string kRelease =
          "UPDATE cleaning_jobs SET lease_owner = NULL, lease_until = NULL, "
          "next_run_time = ?, consecutive_failures = ? WHERE tenant_id = ? "
          "AND id = ? AND lease_owner = ?";
      ASSIGN_OR_RETURN(stmt, db.Prepare(kRelease));
      BindOptionalTime(*stmt, 1, f.next_run_time);
      stmt->Bind(2, static_cast<int64_t>(f.consecutive_failures))
          .Bind(3, f.tenant_id)
          .Bind(4, f.job_id)
          .Bind(5, f.lease_owner);
      RETURN_IF_ERROR(stmt->Run());
      if (db.Changes() == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "lease on cleaning job ", f.job_id, " is no longer held by ",
            f.lease_owner));
      }
    }
    static const std::string kRun =
        "UPDATE cleaning_job_runs SET state = ?, end_time = ?, rows_total = "
        "?, kept = ?, removed = ?, duplicates = ?, by_verdict = ?, "
        "removed_by_reason = ?, suppressed_added = ?, flagged = ?, error = ? "
        "WHERE tenant_id = ? AND id = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kRun));
    stmt->Bind(1, static_cast<int64_t>(f.state))
        .Bind(2, ToMicros(f.end_time))
        .Bind(3, f.summary.rows)
        .Bind(4, f.summary.kept)
        .Bind(5, f.summary.removed)
        .Bind(6, f.summary.duplicates)
        .Bind(7, EncodeCounts(f.summary.by_verdict))
        .Bind(8, EncodeCounts(f.summary.removed_by_reason))
        .Bind(9, f.summary.suppressed_added)
        .Bind(10, f.summary.flagged)
        .Bind(11, f.error)
        .Bind(12, f.tenant_id)
        .Bind(13, f.run_id);
    return stmt->Run();
  });
}

absl::StatusOr<std::vector<CleaningJobRun>> SqliteStore::ListCleaningJobRuns(
    int64_t tenant_id, absl::string_view job_id, int limit) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  ReadSnapshot snapshot(*db);
  {
    ASSIGN_OR_RETURN(stmt, db->Prepare("SELECT 1 FROM cleaning_jobs WHERE "
                                       "tenant_id = ? AND id = ?"));
    stmt->Bind(1, tenant_id).Bind(2, job_id);
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) return CleaningJobNotFoundError(job_id);
  }
  static const std::string kSql = absl::StrCat(
      "SELECT ", kRunColumns,
      " FROM cleaning_job_runs WHERE tenant_id = ? AND job_id = ? ORDER BY "
      "id DESC LIMIT ?");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, tenant_id).Bind(2, job_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<CleaningJobRun> runs;
  while (true) {
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) break;
    runs.push_back(ReadRunRow(*stmt));
  }
  return runs;
}

absl::StatusOr<absl::Time> SqliteStore::NextCleaningJobDueTime() {
  ASSIGN_OR_RETURN(db, AcquireReader());
  ASSIGN_OR_RETURN(
      stmt, db->Prepare("SELECT MIN(CASE WHEN lease_until IS NOT NULL AND "
                        "lease_until > next_run_time THEN lease_until ELSE "
                        "next_run_time END) FROM cleaning_jobs WHERE "
                        "next_run_time IS NOT NULL"));
  ASSIGN_OR_RETURN(row, stmt->Step());
  if (!row || stmt->IsNull(0)) return absl::InfiniteFuture();
  return FromMicros(stmt->Int(0));
}


// --- Alerts ---

namespace {

constexpr char kAlertChannelColumns[] =
    "tenant_id, name, type, spec, create_time";
constexpr char kAlertRuleColumns[] =
    "tenant_id, id, kind, channels, spec, create_time";
constexpr char kAlertRecordColumns[] =
    "id, tenant_id, kind, channel, rule_id, accepted, create_time, record";

AlertChannelRow ReadAlertChannelRow(const SqliteStatement& s) {
  AlertChannelRow c;
  c.tenant_id = s.Int(0);
  c.name = s.Text(1);
  c.type = static_cast<int>(s.Int(2));
  c.spec = s.Text(3);
  c.create_time = FromMicros(s.Int(4));
  return c;
}

AlertRuleRow ReadAlertRuleRow(const SqliteStatement& s) {
  AlertRuleRow r;
  r.tenant_id = s.Int(0);
  r.id = s.Text(1);
  r.kind = static_cast<int>(s.Int(2));
  r.channels = SplitAlertChannels(s.Text(3));
  r.spec = s.Text(4);
  r.create_time = FromMicros(s.Int(5));
  return r;
}

AlertRecordRow ReadAlertRecordRow(const SqliteStatement& s) {
  AlertRecordRow r;
  r.id = s.Int(0);
  r.tenant_id = s.Int(1);
  r.kind = static_cast<int>(s.Int(2));
  r.channel = s.Text(3);
  r.rule_id = s.Text(4);
  r.accepted = s.Int(5) != 0;
  r.create_time = FromMicros(s.Int(6));
  r.record = s.Text(7);
  return r;
}

template <typename Row, typename ReadRow>
absl::StatusOr<std::vector<Row>> ReadAll(SqliteStatement& stmt,
                                         ReadRow read_row) {
  std::vector<Row> out;
  while (true) {
    ASSIGN_OR_RETURN(row, stmt.Step());
    if (!row) break;
    out.push_back(read_row(stmt));
  }
  return out;
}

}  // namespace

absl::Status SqliteStore::CreateAlertChannel(const AlertChannelRow& channel) {
  absl::Status status = WriteAndWait([&](SqliteConnection& db) {
    static const std::string kSql = absl::StrCat(
        "INSERT INTO alert_channels (", kAlertChannelColumns,
        ") VALUES (?, ?, ?, ?, ?)");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, channel.tenant_id)
        .Bind(2, channel.name)
        .Bind(3, static_cast<int64_t>(channel.type))
        .BindBlob(4, channel.spec)
        .Bind(5, ToMicros(channel.create_time));
    return stmt->Run();
  });
  if (absl::IsAlreadyExists(status)) {
    return AlertChannelExistsError(channel.name);
  }
  return status;
}

absl::StatusOr<std::vector<AlertChannelRow>> SqliteStore::ListAlertChannels(
    int64_t tenant_id) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql =
      absl::StrCat("SELECT ", kAlertChannelColumns,
                   " FROM alert_channels WHERE tenant_id = ? ORDER BY name");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, tenant_id);
  return ReadAll<AlertChannelRow>(*stmt, ReadAlertChannelRow);
}

absl::Status SqliteStore::DeleteAlertChannel(int64_t tenant_id,
                                             absl::string_view name) {
  std::string channel(name);
  return WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    {
      static const std::string kFind =
          "SELECT 1 FROM alert_channels WHERE tenant_id = ? AND name = ?";
      ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
      stmt->Bind(1, tenant_id).Bind(2, channel);
      ASSIGN_OR_RETURN(found, stmt->Step());
      if (!found) return AlertChannelNotFoundError(channel);
    }
    {
      // The tenant's rules are few; their channel lists are checked here
      // rather than by pattern matching in SQL.
      static const std::string kRules =
          "SELECT id, channels FROM alert_rules WHERE tenant_id = ? ORDER BY "
          "id";
      ASSIGN_OR_RETURN(stmt, db.Prepare(kRules));
      stmt->Bind(1, tenant_id);
      while (true) {
        ASSIGN_OR_RETURN(row, stmt->Step());
        if (!row) break;
        if (AlertChannelsName(stmt->Text(1), channel)) {
          return AlertChannelInUseError(channel, stmt->Text(0));
        }
      }
    }
    static const std::string kDelete =
        "DELETE FROM alert_channels WHERE tenant_id = ? AND name = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kDelete));
    stmt->Bind(1, tenant_id).Bind(2, channel);
    return stmt->Run();
  });
}

absl::Status SqliteStore::UpdateAlertChannel(const AlertChannelRow& channel) {
  return WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    static const std::string kSql =
        "UPDATE alert_channels SET type = ?, spec = ? WHERE tenant_id = ? AND "
        "name = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, static_cast<int64_t>(channel.type))
        .BindBlob(2, channel.spec)
        .Bind(3, channel.tenant_id)
        .Bind(4, channel.name);
    RETURN_IF_ERROR(stmt->Run());
    if (db.Changes() == 0) return AlertChannelNotFoundError(channel.name);
    return absl::OkStatus();
  });
}

absl::Status SqliteStore::CreateAlertRule(const AlertRuleRow& rule) {
  absl::Status status = WriteAndWait([&](SqliteConnection& db)
                                         -> absl::Status {
    // One writer: nothing can delete a channel between this check and the
    // insert.
    static const std::string kFind =
        "SELECT 1 FROM alert_channels WHERE tenant_id = ? AND name = ?";
    for (const std::string& channel : rule.channels) {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
      stmt->Bind(1, rule.tenant_id).Bind(2, channel);
      ASSIGN_OR_RETURN(found, stmt->Step());
      if (!found) return AlertRuleChannelMissingError(rule.id, channel);
    }
    static const std::string kInsert = absl::StrCat(
        "INSERT INTO alert_rules (", kAlertRuleColumns,
        ") VALUES (?, ?, ?, ?, ?, ?)");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
    stmt->Bind(1, rule.tenant_id)
        .Bind(2, rule.id)
        .Bind(3, static_cast<int64_t>(rule.kind))
        .Bind(4, JoinAlertChannels(rule.channels))
        .BindBlob(5, rule.spec)
        .Bind(6, ToMicros(rule.create_time));
    return stmt->Run();
  });
  if (absl::IsAlreadyExists(status)) return AlertRuleExistsError(rule.id);
  return status;
}

absl::StatusOr<std::vector<AlertRuleRow>> SqliteStore::ListAlertRules(
    int64_t tenant_id) {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql =
      absl::StrCat("SELECT ", kAlertRuleColumns,
                   " FROM alert_rules WHERE tenant_id = ? ORDER BY id");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  stmt->Bind(1, tenant_id);
  return ReadAll<AlertRuleRow>(*stmt, ReadAlertRuleRow);
}

absl::Status SqliteStore::DeleteAlertRule(int64_t tenant_id,
                                          absl::string_view id) {
  std::string rule_id(id);
  return WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    static const std::string kDelete =
        "DELETE FROM alert_rules WHERE tenant_id = ? AND id = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kDelete));
    stmt->Bind(1, tenant_id).Bind(2, rule_id);
    RETURN_IF_ERROR(stmt->Run());
    if (db.Changes() == 0) return AlertRuleNotFoundError(rule_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AlertRuleRow>> SqliteStore::ListAllAlertRules() {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql = absl::StrCat(
      "SELECT ", kAlertRuleColumns, " FROM alert_rules ORDER BY tenant_id, id");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  return ReadAll<AlertRuleRow>(*stmt, ReadAlertRuleRow);
}

absl::StatusOr<std::vector<AlertChannelRow>>
SqliteStore::ListAllAlertChannels() {
  ASSIGN_OR_RETURN(db, AcquireReader());
  static const std::string kSql =
      absl::StrCat("SELECT ", kAlertChannelColumns,
                   " FROM alert_channels ORDER BY tenant_id, name");
  ASSIGN_OR_RETURN(stmt, db->Prepare(kSql));
  return ReadAll<AlertChannelRow>(*stmt, ReadAlertChannelRow);
}

absl::StatusOr<int64_t> SqliteStore::InsertAlertRecord(
    const AlertRecordRow& record) {
  int64_t id = 0;
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    static const std::string kInsert =
        "INSERT INTO alert_records (tenant_id, kind, channel, rule_id, "
        "accepted, create_time, record) VALUES (?, ?, ?, ?, ?, ?, ?)";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
    stmt->Bind(1, record.tenant_id)
        .Bind(2, static_cast<int64_t>(record.kind))
        .Bind(3, record.channel)
        .Bind(4, record.rule_id)
        .Bind(5, static_cast<int64_t>(record.accepted ? 1 : 0))
        .Bind(6, ToMicros(record.create_time))
        .BindBlob(7, record.record);
    RETURN_IF_ERROR(stmt->Run());
    id = db.LastInsertRowId();
    return absl::OkStatus();
  }));
  return id;
}

absl::StatusOr<std::vector<AlertRecordRow>> SqliteStore::ListAlertRecords(
    int64_t tenant_id, absl::string_view channel, int kind, int page_size,
    int64_t before_id) {
  RETURN_IF_ERROR(CheckPageSize(page_size));
  ASSIGN_OR_RETURN(db, AcquireReader());
  // One statement text per filter combination, so each uses its index.
  static const std::string kHead = absl::StrCat(
      "SELECT ", kAlertRecordColumns,
      " FROM alert_records WHERE tenant_id = ? AND id < ?");
  static const std::string kTail = " ORDER BY id DESC LIMIT ?";
  static const std::string kAll = absl::StrCat(kHead, kTail);
  static const std::string kByChannel =
      absl::StrCat(kHead, " AND channel = ?", kTail);
  static const std::string kByKind =
      absl::StrCat(kHead, " AND kind = ?", kTail);
  static const std::string kByBoth =
      absl::StrCat(kHead, " AND channel = ? AND kind = ?", kTail);
  const std::string& sql = channel.empty()
                               ? (kind == 0 ? kAll : kByKind)
                               : (kind == 0 ? kByChannel : kByBoth);
  ASSIGN_OR_RETURN(stmt, db->Prepare(sql));
  stmt->Bind(1, tenant_id)
      .Bind(2, before_id > 0 ? before_id
                             : std::numeric_limits<int64_t>::max());
  int p = 3;
  if (!channel.empty()) stmt->Bind(p++, channel);
  if (kind != 0) stmt->Bind(p++, static_cast<int64_t>(kind));
  stmt->Bind(p, static_cast<int64_t>(page_size));
  return ReadAll<AlertRecordRow>(*stmt, ReadAlertRecordRow);
}

absl::StatusOr<std::vector<OldestUnsentMessage>>
SqliteStore::OldestUnsentMessages() {
  ASSIGN_OR_RETURN(db, AcquireMessageReader());
  ReadSnapshot snapshot(*db);
  // One pass over messages_queue, which holds exactly the unsent messages
  // (the condition is repeated word for word so SQLite uses it) and covers
  // these columns; the oldest is the least (create_time, row_id).
  struct Oldest {
    int64_t count = 0;
    int64_t create_time = 0;
    int64_t row_id = 0;
  };
  std::map<int64_t, Oldest> by_tenant;
  {
    static const std::string kUnsent =
        "SELECT tenant_id, create_time, row_id FROM messages WHERE status IN "
        "(1, 3)";
    ASSIGN_OR_RETURN(stmt, db->Prepare(kUnsent));
    while (true) {
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (!row) break;
      Oldest& oldest = by_tenant[stmt->Int(0)];
      const int64_t create_time = stmt->Int(1), row_id = stmt->Int(2);
      if (oldest.count++ == 0 ||
          std::make_pair(create_time, row_id) <
              std::make_pair(oldest.create_time, oldest.row_id)) {
        oldest.create_time = create_time;
        oldest.row_id = row_id;
      }
    }
  }
  std::vector<OldestUnsentMessage> out;
  static const std::string kRow =
      "SELECT id, status, create_time FROM messages WHERE row_id = ?";
  for (const auto& [tenant_id, oldest] : by_tenant) {
    ASSIGN_OR_RETURN(stmt, db->Prepare(kRow));
    stmt->Bind(1, oldest.row_id);
    ASSIGN_OR_RETURN(row, stmt->Step());
    if (!row) return absl::InternalError("unsent message vanished");
    OldestUnsentMessage m;
    m.tenant_id = tenant_id;
    m.unsent_count = oldest.count;
    m.message_id = stmt->Text(0);
    m.status = static_cast<MessageStatus>(stmt->Int(1));
    m.create_time = FromMicros(stmt->Int(2));
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<AlertWindow> SqliteStore::ClaimAlertWindow(
    int64_t tenant_id, absl::string_view key, absl::Time now,
    absl::Time until) {
  AlertWindow window;
  std::string window_key(key);
  // The one writer makes the read and the change atomic.
  RETURN_IF_ERROR(WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    window = AlertWindow();
    bool exists = false;
    {
      static const std::string kFind =
          "SELECT end_time, note FROM alert_windows WHERE tenant_id = ? AND "
          "window_key = ?";
      ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
      stmt->Bind(1, tenant_id).Bind(2, window_key);
      ASSIGN_OR_RETURN(row, stmt->Step());
      if (row) {
        exists = true;
        window.note = stmt->Text(1);
        // NULL: ended (created by SetAlertWindowNote).
        if (!stmt->IsNull(0) && FromMicros(stmt->Int(0)) > now) {
          return absl::OkStatus();  // still running: not claimed
        }
      }
    }
    static const std::string kInsert =
        "INSERT INTO alert_windows (tenant_id, window_key, end_time, note) "
        "VALUES (?, ?, ?, '')";
    static const std::string kUpdate =
        "UPDATE alert_windows SET end_time = ? WHERE tenant_id = ? AND "
        "window_key = ?";
    if (exists) {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kUpdate));
      stmt->Bind(1, ToMicros(until)).Bind(2, tenant_id).Bind(3, window_key);
      RETURN_IF_ERROR(stmt->Run());
    } else {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kInsert));
      stmt->Bind(1, tenant_id).Bind(2, window_key).Bind(3, ToMicros(until));
      RETURN_IF_ERROR(stmt->Run());
    }
    window.claimed = true;
    return absl::OkStatus();
  }));
  return window;
}

absl::Status SqliteStore::SetAlertWindowNote(int64_t tenant_id,
                                             absl::string_view key,
                                             absl::string_view note) {
  std::string window_key(key);
  std::string text(note);
  return WriteAndWait([&](SqliteConnection& db) -> absl::Status {
    // A new window starts ended (end_time NULL): the next claim takes it.
    static const std::string kSql =
        "INSERT INTO alert_windows (tenant_id, window_key, end_time, note) "
        "VALUES (?, ?, NULL, ?) ON CONFLICT (tenant_id, window_key) DO "
        "UPDATE SET note = excluded.note";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, window_key).Bind(3, text);
    return stmt->Run();
  });
}

}  // namespace deliverd::store
