// MysqlStore: opening, migrations, the transaction machinery (writer
// groups, standalone transactions, reads, retries, event ids) and tenants
// and API keys. The other operations live in mysql_store_*.cc.
#include "server/store/mysql_store.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/store/migrations.h"
#include "server/store/mysql_sql.h"
#include "server/store/status_macros.h"

namespace deliverd::store {
namespace {

// A group never grows past this many writes, so one burst cannot hold the
// first caller's acknowledgement back for long.
constexpr size_t kMaxGroupSize = 256;
// How long the writer waits for a group to gather (see WriterLoop).
constexpr int kGatherMicros = 200;

// Errors after which rerunning the whole transaction can succeed.
bool Retryable(const absl::Status& status) {
  return absl::IsAborted(status) || absl::IsUnavailable(status);
}

// A lost connection is retried twice, at once on a fresh connection (a
// server restart or a stale pooled connection); a database that stays away
// fails the call quickly with UNAVAILABLE rather than holding it. A
// deadlock is retried until the budget runs out.
constexpr int kUnavailableRetries = 2;

bool ShouldRetry(const absl::Status& status, int attempt,
                 absl::Time deadline, absl::Duration backoff) {
  if (absl::IsUnavailable(status)) return attempt <= kUnavailableRetries;
  return absl::IsAborted(status) && absl::Now() + backoff <= deadline;
}

// Backoff before the retry number `attempt` (1-based): 20 ms doubling to
// 1 s, with jitter so replicas that deadlocked do not meet again.
absl::Duration Backoff(int attempt) {
  int64_t base_ms = std::min<int64_t>(1000, 20LL << std::min(attempt - 1, 6));
  int64_t jitter =
      static_cast<int64_t>(std::hash<std::thread::id>()(
          std::this_thread::get_id()) ^
      absl::ToUnixNanos(absl::Now())) % (base_ms / 2 + 1);
  return absl::Milliseconds(base_ms / 2 + (jitter < 0 ? -jitter : jitter));
}

// The statements of a migration file: they end with ';' at a line's end.
std::vector<std::string> SplitStatements(absl::string_view sql) {
  std::vector<std::string> statements;
  std::string current;
  for (absl::string_view line : absl::StrSplit(sql, '\n')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || absl::StartsWith(trimmed, "--")) continue;
    absl::StrAppend(&current, line, "\n");
    if (absl::EndsWith(trimmed, ";")) {
      current.erase(current.find_last_of(';'));
      statements.push_back(std::move(current));
      current.clear();
    }
  }
  if (!absl::StripAsciiWhitespace(current).empty()) {
    statements.push_back(std::move(current));
  }
  return statements;
}

absl::StatusOr<int> ApplyMigrations(MysqlConnection& db) {
  RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL "
      "PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_time DATETIME(6) NOT "
      "NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
  // Replicas starting together migrate one at a time.
  ASSIGN_OR_RETURN(locked,
                   db.QueryInt("SELECT GET_LOCK('deliverd_migrations', 60)"));
  if (locked != 1) {
    return absl::UnavailableError(
        "another deliverd held the migration lock for 60 s");
  }
  auto release = [&db] {
    db.QueryInt("SELECT RELEASE_LOCK('deliverd_migrations')").IgnoreError();
  };
  absl::StatusOr<int64_t> current =
      db.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current.ok()) {
    release();
    return current.status();
  }
  int version = static_cast<int>(*current);
  const std::vector<Migration>& migrations = MysqlMigrations();
  int newest = migrations.empty() ? 0 : migrations.back().version;
  if (version > newest) {
    release();
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", version,
        " is newer than this deliverd understands (", newest, ")"));
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= version) continue;
    // DDL commits on its own in MySQL, so a migration is not one
    // transaction; its statements are idempotent instead and the version
    // is recorded only after all of them succeeded.
    absl::Status status;
    for (const std::string& statement : SplitStatements(migration.sql)) {
      status = db.Exec(statement);
      if (!status.ok()) break;
    }
    if (status.ok()) {
      absl::StatusOr<MysqlStatement*> stmt =
          db.Prepare("INSERT INTO schema_migrations (version, name, "
                     "applied_time) VALUES (?,?,?)");
      status = stmt.status();
      if (stmt.ok()) {
        (*stmt)->Bind(1, static_cast<int64_t>(migration.version))
            .Bind(2, migration.name)
            .BindTime(3, absl::Now());
        status = (*stmt)->Execute().status();
      }
    }
    if (!status.ok()) {
      release();
      return absl::Status(status.code(),
                          absl::StrCat("migration ", migration.name, ": ",
                                       status.message()));
    }
    version = migration.version;
  }
  release();
  return version;
}

}  // namespace

void MysqlStore::Tx::AppendEvent(const Event& event, std::string tags) {
  events_.push_back({event, std::move(tags), false});
}

void MysqlStore::Tx::AppendEventWithMessageTags(const Event& event) {
  events_.push_back({event, "", true});
}

MysqlStore::MysqlStore(MysqlStoreOptions options)
    : options_(std::move(options)), pool_(options_.connection) {}

absl::StatusOr<int> MysqlStore::Migrate(const MysqlConfig& config) {
  ASSIGN_OR_RETURN(db, MysqlConnection::Open(config));
  return ApplyMigrations(*db);
}

absl::StatusOr<std::unique_ptr<MysqlStore>> MysqlStore::Open(
    MysqlStoreOptions options) {
  if (options.writers < 1) {
    return absl::InvalidArgumentError("the MySQL store needs a writer");
  }
  if (options.connection.pool_size < options.writers + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the MySQL pool needs at least ", options.writers + 1,
        " connections (the writers and one reader)"));
  }
  std::unique_ptr<MysqlStore> store(new MysqlStore(std::move(options)));
  RETURN_IF_ERROR(store->RunMigrations());
  for (int i = 0; i < store->options_.writers; ++i) {
    store->writers_.emplace_back([s = store.get()] { s->WriterLoop(); });
  }
  store->completer_ = std::thread([s = store.get()] { s->CompletionLoop(); });
  store->poller_ = std::thread([s = store.get()] { s->PollLoop(); });
  return store;
}

absl::Status MysqlStore::RunMigrations() {
  ASSIGN_OR_RETURN(db, pool_.Acquire());
  ASSIGN_OR_RETURN(version, ApplyMigrations(*db));
  schema_version_ = version;
  return absl::OkStatus();
}

MysqlStore::~MysqlStore() {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    stopping_ = true;
  }
  write_cv_.notify_all();
  for (std::thread& writer : writers_) writer.join();
  {
    std::lock_guard<std::mutex> lock(completion_mu_);
    completion_stopping_ = true;
  }
  completion_cv_.notify_all();
  if (completer_.joinable()) completer_.join();
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    poll_stopping_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

absl::Status MysqlStore::FlushEvents(Tx& tx) {
  std::vector<Tx::PendingEvent>& events = tx.events_;
  if (events.empty()) return absl::OkStatus();
  // Tags of the messages whose events asked for them, read in one go
  // before the sequence row is locked.
  std::vector<std::string> ids;
  for (const Tx::PendingEvent& e : events) {
    if (e.tags_from_message) ids.push_back(e.event.message_id);
  }
  if (!ids.empty()) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::map<std::string, std::string> tags;
    for (const InChunk& chunk : InListChunks(ids.size())) {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(MysqlMultiRowSql(
                                 "SELECT id, tags FROM messages WHERE id IN (",
                                 "?", chunk.padded, ")")));
      for (size_t i = 0; i < chunk.padded; ++i) {
        stmt->Bind(static_cast<int>(i) + 1, ids[chunk.At(i)]);
      }
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        tags[rows->Text(0)] = rows->Text(1);
      }
    }
    for (Tx::PendingEvent& e : events) {
      if (!e.tags_from_message) continue;
      auto it = tags.find(e.event.message_id);
      if (it != tags.end()) e.tags = it->second;
    }
  }
  // The sequence row's lock is held from here to the commit: the
  // transactions that append events commit one after another, in id order.
  static const std::string kTake =
      "UPDATE event_sequence SET last_id = LAST_INSERT_ID(last_id + ?) "
      "WHERE id = 1";
  ASSIGN_OR_RETURN(take, tx->Prepare(kTake));
  take->Bind(1, static_cast<int64_t>(events.size()));
  ASSIGN_OR_RETURN(changed, take->Execute());
  if (changed != 1) return absl::InternalError("event_sequence has no row");
  ASSIGN_OR_RETURN(last, tx->QueryInt("SELECT LAST_INSERT_ID()"));
  int64_t next_id = last - static_cast<int64_t>(events.size()) + 1;

  constexpr int kColumns = 13;
  size_t start = 0;
  for (size_t count : MysqlChunkSizes(events.size())) {
    std::string sql = MysqlMultiRowSql(
        "INSERT INTO events (id, tenant_id, message_id, type, time, "
        "recipient, source, detail, reply_code, reply_enhanced, reply_text, "
        "reply_host, tags) VALUES ",
        "(?,?,?,?,?,?,?,?,?,?,?,?,?)", count, "");
    ASSIGN_OR_RETURN(insert, tx->Prepare(sql));
    for (size_t i = 0; i < count; ++i) {
      const Event& e = events[start + i].event;
      int p = static_cast<int>(i) * kColumns;
      insert->Bind(p + 1, next_id++)
          .Bind(p + 2, e.tenant_id)
          .Bind(p + 3, e.message_id)
          .Bind(p + 4, static_cast<int64_t>(e.type))
          .BindTime(p + 5, e.time)
          .Bind(p + 6, e.recipient)
          .Bind(p + 7, e.source)
          .Bind(p + 8, e.detail)
          .Bind(p + 9, static_cast<int64_t>(e.reply.code))
          .Bind(p + 10, e.reply.enhanced_code)
          .Bind(p + 11, e.reply.text)
          .Bind(p + 12, e.reply.remote_host)
          .Bind(p + 13, events[start + i].tags);
    }
    RETURN_IF_ERROR(insert->Execute().status());
    start += count;
  }
  return absl::OkStatus();
}

void MysqlStore::Submit(WriteJob job) {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    write_queue_.push_back(std::move(job));
  }
  write_cv_.notify_one();
}

absl::Status MysqlStore::WriteAndWait(TxFn run) {
  std::promise<absl::Status> promise;
  auto future = promise.get_future();
  Submit({std::move(run),
          [&promise](absl::Status status) { promise.set_value(status); },
          /*done_inline=*/true});
  return future.get();
}

void MysqlStore::WriterLoop() {
  size_t last_group_size = 0;
  while (true) {
    std::vector<WriteJob> group;
    {
      std::unique_lock<std::mutex> lock(write_mu_);
      write_cv_.wait(lock,
                     [this] { return stopping_ || !write_queue_.empty(); });
      if (write_queue_.empty()) return;  // stopping, and nothing left
      // The callers answered by the last commit are submitting again right
      // now; give them a moment to gather (bounded, and never with a single
      // caller).
      if (last_group_size > 1 && write_queue_.size() < last_group_size) {
        size_t want = last_group_size;
        write_cv_.wait_for(lock, std::chrono::microseconds(kGatherMicros),
                           [this, want] {
                             return stopping_ || write_queue_.size() >= want;
                           });
      }
      while (!write_queue_.empty() && group.size() < kMaxGroupSize) {
        group.push_back(std::move(write_queue_.front()));
        write_queue_.pop_front();
      }
    }
    last_group_size = group.size();

    // No savepoints (each costs two round trips per write): the group runs
    // as one transaction, and when one write fails on its own account (a
    // lost lease, a stale guard), the transaction is rolled back, that
    // write gets its error, and the others run again without it. Writes
    // check before they change anything, so this path is rare.
    std::vector<absl::Status> results(group.size());
    std::vector<bool> failed(group.size(), false);
    absl::Status group_status;
    absl::Time deadline = absl::Now() + options_.retry_budget;
    for (int attempt = 1;;) {
      size_t failed_now = group.size();  // index of a write that failed
      group_status = [&]() -> absl::Status {
        ASSIGN_OR_RETURN(db, pool_.Acquire());
        RETURN_IF_ERROR(db->BeginWrite());
        Tx tx(*db);
        for (size_t i = 0; i < group.size(); ++i) {
          if (failed[i]) continue;
          absl::Status status = group[i].run(tx);
          if (status.ok()) continue;
          db->Rollback();
          // A deadlock or a lost connection: the group runs again.
          if (Retryable(status)) return status;
          results[i] = status;
          failed_now = i;
          return absl::OkStatus();
        }
        absl::Status flushed = FlushEvents(tx);
        if (flushed.ok()) flushed = db->Commit();
        if (!flushed.ok()) db->Rollback();
        return flushed;
      }();
      if (group_status.ok() && failed_now < group.size()) {
        failed[failed_now] = true;  // and run the rest again, at once
        continue;
      }
      absl::Duration backoff = Backoff(attempt);
      if (!ShouldRetry(group_status, attempt, deadline, backoff)) break;
      if (absl::IsAborted(group_status)) absl::SleepFor(backoff);
      ++attempt;
    }
    if (!group_status.ok()) {
      for (size_t i = 0; i < group.size(); ++i) {
        if (!failed[i]) results[i] = group_status;
      }
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
    if (group_status.ok()) NotifyListener();
  }
}

void MysqlStore::CompletionLoop() {
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(completion_mu_);
      completion_cv_.wait(lock, [this] {
        return completion_stopping_ || !completions_.empty();
      });
      if (completions_.empty()) return;
      fn = std::move(completions_.front());
      completions_.pop_front();
    }
    fn();
  }
}

absl::Status MysqlStore::Transact(const TxFn& run) {
  absl::Time deadline = absl::Now() + options_.retry_budget;
  bool appended_events = false;
  absl::Status status;
  for (int attempt = 1;; ++attempt) {
    status = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(db, pool_.Acquire());
      RETURN_IF_ERROR(db->BeginWrite());
      Tx tx(*db);
      absl::Status result = run(tx);
      appended_events = !tx.events_.empty();
      if (result.ok()) result = FlushEvents(tx);
      if (result.ok()) result = db->Commit();
      if (!result.ok()) db->Rollback();
      return result;
    }();
    absl::Duration backoff = Backoff(attempt);
    if (!ShouldRetry(status, attempt, deadline, backoff)) break;
    if (absl::IsAborted(status)) absl::SleepFor(backoff);
  }
  if (status.ok() && appended_events) NotifyListener();
  return status;
}

absl::Status MysqlStore::Read(const ReadFn& run, bool snapshot) {
  absl::Time deadline = absl::Now() + options_.retry_budget;
  absl::Status status;
  for (int attempt = 1;; ++attempt) {
    status = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(db, pool_.Acquire());
      if (snapshot) RETURN_IF_ERROR(db->BeginRead());
      absl::Status result = run(*db);
      if (snapshot) {
        absl::Status end = db->Commit();
        if (result.ok()) result = end;
      }
      return result;
    }();
    // Only a lost connection is worth a retry for a read.
    if (!absl::IsUnavailable(status) ||
        !ShouldRetry(status, attempt, deadline, absl::ZeroDuration())) {
      break;
    }
  }
  return status;
}

void MysqlStore::SetEventListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  event_listener_ = std::move(listener);
}

void MysqlStore::NotifyListener() {
  // Called under the lock, so once SetEventListener returns the listener it
  // replaced is never called again (it may be destroyed). Listeners must
  // not block.
  std::lock_guard<std::mutex> lock(listener_mu_);
  if (event_listener_) event_listener_();
}

void MysqlStore::PollLoop() {
  int64_t last_seen = -1;
  absl::Time last_purge = absl::Now();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(poll_mu_);
      if (poll_cv_.wait_for(
              lock, absl::ToChronoMilliseconds(options_.event_poll_interval),
              [this] { return poll_stopping_; })) {
        return;
      }
    }
    absl::StatusOr<MysqlPool::Lease> db = pool_.Acquire();
    if (!db.ok()) continue;  // the database is away; try again later
    absl::StatusOr<int64_t> last =
        (*db)->QueryInt("SELECT last_id FROM event_sequence WHERE id = 1");
    if (last.ok() && *last != last_seen) {
      // The first read only sets the mark; later moves include other
      // replicas' commits (ours were announced already, and a spurious
      // wake-up only makes watchers read once more).
      bool moved = last_seen >= 0;
      last_seen = *last;
      if (moved) NotifyListener();
    }
    if (absl::Now() - last_purge > absl::Minutes(10)) {
      last_purge = absl::Now();
      PurgeIdempotencyRecords(last_purge - kIdempotencyWindow).IgnoreError();
    }
  }
}

absl::StatusOr<int64_t> MysqlStore::PurgeIdempotencyRecords(absl::Time before) {
  int64_t removed = 0;
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    static const std::string kSql =
        "DELETE FROM idempotency WHERE create_time < ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->BindTime(1, before);
    ASSIGN_OR_RETURN(n, stmt->Execute());
    removed = n;
    return absl::OkStatus();
  }));
  return removed;
}

absl::StatusOr<int64_t> MysqlStore::CreateTenant(absl::string_view name) {
  int64_t id = 0;
  std::string tenant(name);
  absl::Status status = Transact([&](Tx& tx) -> absl::Status {
    static const std::string kSql =
        "INSERT INTO tenants (name, create_time) VALUES (?, ?)";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->Bind(1, tenant).BindTime(2, absl::Now());
    RETURN_IF_ERROR(stmt->Execute().status());
    ASSIGN_OR_RETURN(row, tx->QueryInt("SELECT LAST_INSERT_ID()"));
    id = row;
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("tenant \"", name, "\" already exists"));
  }
  if (!status.ok()) return status;
  return id;
}

absl::StatusOr<int64_t> MysqlStore::FindTenant(absl::string_view name) {
  int64_t id = 0;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(stmt, db.Prepare("SELECT id FROM tenants WHERE name = ?"));
    stmt->Bind(1, name);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) {
      return absl::NotFoundError(absl::StrCat("tenant \"", name, "\""));
    }
    id = rows->Int(0);
    return absl::OkStatus();
  }));
  return id;
}

absl::StatusOr<std::string> MysqlStore::TenantName(int64_t tenant_id) {
  std::string name;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(stmt, db.Prepare("SELECT name FROM tenants WHERE id = ?"));
    stmt->Bind(1, tenant_id);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
    name = rows->Text(0);
    return absl::OkStatus();
  }));
  return name;
}

absl::StatusOr<TenantSendPolicy> MysqlStore::GetSendPolicy(int64_t tenant_id) {
  TenantSendPolicy policy;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        "SELECT require_domain_auth, dkim_selectors, soft_bounce_half_life_s, "
        "soft_bounce_threshold, soft_bounce_suppress_s FROM tenants WHERE "
        "id = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
    policy = TenantSendPolicy();
    policy.require_domain_auth = rows->Int(0) != 0;
    std::string selectors = rows->Text(1);
    if (!selectors.empty()) {
      policy.dkim_selectors = absl::StrSplit(selectors, ',');
    }
    policy.soft_bounce_half_life_seconds = rows->Int(2);
    policy.soft_bounce_threshold = rows->Double(3);
    policy.soft_bounce_suppress_seconds = rows->Int(4);
    return absl::OkStatus();
  }));
  return policy;
}

absl::Status MysqlStore::SetSendPolicy(int64_t tenant_id,
                                       const TenantSendPolicy& policy) {
  return Transact([&](Tx& tx) -> absl::Status {
    static const std::string kSql =
        "UPDATE tenants SET require_domain_auth = ?, dkim_selectors = ?, "
        "soft_bounce_half_life_s = ?, soft_bounce_threshold = ?, "
        "soft_bounce_suppress_s = ? WHERE id = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->Bind(1, static_cast<int64_t>(policy.require_domain_auth ? 1 : 0))
        .Bind(2, absl::StrJoin(policy.dkim_selectors, ","))
        .Bind(3, policy.soft_bounce_half_life_seconds)
        .Bind(4, policy.soft_bounce_threshold)
        .Bind(5, policy.soft_bounce_suppress_seconds)
        .Bind(6, tenant_id);
    ASSIGN_OR_RETURN(matched, stmt->Execute());
    if (matched == 0) {
      return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<ApiKey> MysqlStore::CreateApiKey(int64_t tenant_id,
                                                absl::string_view key_hash,
                                                absl::string_view prefix,
                                                absl::string_view label) {
  ApiKey key;
  key.tenant_id = tenant_id;
  std::string hash(key_hash);
  key.prefix = std::string(prefix);
  key.label = std::string(label);
  // Stored with microsecond precision: the returned key must equal what a
  // later read returns.
  key.create_time = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    {
      ASSIGN_OR_RETURN(stmt,
                       tx->Prepare("SELECT id FROM tenants WHERE id = ?"));
      stmt->Bind(1, tenant_id);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      ASSIGN_OR_RETURN(found, rows->Next());
      if (!found) {
        return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
      }
    }
    static const std::string kSql =
        "INSERT INTO api_keys (tenant_id, key_hash, prefix, label, "
        "create_time) VALUES (?,?,?,?,?)";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->Bind(1, tenant_id)
        .Bind(2, hash)
        .Bind(3, key.prefix)
        .Bind(4, key.label)
        .BindTime(5, key.create_time);
    RETURN_IF_ERROR(stmt->Execute().status());
    ASSIGN_OR_RETURN(row, tx->QueryInt("SELECT LAST_INSERT_ID()"));
    key.id = row;
    return absl::OkStatus();
  }));
  return key;
}

absl::StatusOr<ApiKey> MysqlStore::FindApiKeyByHash(
    absl::string_view key_hash) {
  ApiKey key;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        "SELECT k.id, k.tenant_id, t.name, k.prefix, k.label, k.create_time, "
        "k.revoke_time IS NOT NULL FROM api_keys k JOIN tenants t ON t.id = "
        "k.tenant_id WHERE k.key_hash = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, key_hash);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) return absl::NotFoundError("no such API key");
    key = ApiKey();
    key.id = rows->Int(0);
    key.tenant_id = rows->Int(1);
    key.tenant_name = rows->Text(2);
    key.prefix = rows->Text(3);
    key.label = rows->Text(4);
    key.create_time = rows->Time(5);
    key.revoked = rows->Int(6) != 0;
    return absl::OkStatus();
  }));
  return key;
}

absl::StatusOr<int64_t> MysqlStore::CountApiKeys() {
  int64_t count = 0;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(n, db.QueryInt("SELECT COUNT(*) FROM api_keys"));
    count = n;
    return absl::OkStatus();
  }));
  return count;
}

}  // namespace deliverd::store
