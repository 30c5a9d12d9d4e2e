// MysqlStore: suppressions (upsert, remove, find, list), feedback
// (ApplyFeedback) and what feedback maintains besides messages: soft-bounce
// scores and list subscriptions. Mirrors SqliteStore's behaviour; see
// server/store/store.h for the contract.
#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/store/mysql_rows.h"
#include "server/store/mysql_sql.h"
#include "server/store/mysql_store.h"
#include "server/store/status_macros.h"
#include "server/store/store_codec.h"

namespace deliverd::store {
namespace {

// Addresses per FindSuppressions query: one IN list per chunk keeps a large
// send to a few round trips without building unbounded statements.
constexpr size_t kFindChunk = 512;

constexpr char kSuppressionColumns[] =
    "tenant_id, address, scope, reason, create_time, expire_time, "
    "source_message, evidence";

Suppression ReadSuppressionRow(const MysqlRows& r) {
  Suppression out;
  out.tenant_id = r.Int(0);
  out.address = r.Text(1);
  out.scope = r.Text(2);
  out.reason = static_cast<SuppressionReason>(r.Int(3));
  out.create_time = r.Time(4);
  out.expire_time = r.Time(5);  // NULL: never
  out.source_message = r.Text(6);
  out.evidence = r.Text(7);
  return out;
}

constexpr char kSubscriptionColumns[] =
    "tenant_id, address, list, state, create_time, update_time, source, "
    "metadata";

Subscription ReadSubscriptionRow(const MysqlRows& r) {
  Subscription out;
  out.tenant_id = r.Int(0);
  out.address = r.Text(1);
  out.list = r.Text(2);
  out.state = static_cast<SubscriptionState>(r.Int(3));
  out.create_time = r.Time(4);
  out.update_time = r.Time(5);
  out.source = r.Text(6);
  out.metadata = r.Text(7);
  return out;
}

// A LIKE pattern matching every string that starts with `prefix`, with '!'
// as the escape character (declared by the query): '%' and '_' in an
// address are literal characters, not wildcards. LIKE compares character by
// character under utf8mb4_bin, so a non-ASCII prefix matches as SQLite's
// character-counting substr() does.
std::string PrefixPattern(absl::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 1);
  for (char c : prefix) {
    if (c == '!' || c == '%' || c == '_') out += '!';
    out += c;
  }
  out += '%';
  return out;
}

// Deletes the suppression of (address, scope) and logs why; NOT_FOUND when
// there is none.
absl::StatusOr<Suppression> RemoveSuppressionRow(MysqlConnection& db,
                                                 int64_t tenant_id,
                                                 absl::string_view address,
                                                 absl::string_view scope,
                                                 absl::string_view note) {
  std::string key = AddressKey(address);
  std::string scope_text(scope);
  Suppression removed;
  {
    // Locked so the row logged is the row deleted.
    static const std::string kFind =
        absl::StrCat("SELECT ", kSuppressionColumns,
                     " FROM suppressions WHERE tenant_id = ? AND address = ? "
                     "AND scope = ? FOR UPDATE");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kFind));
    stmt->Bind(1, tenant_id).Bind(2, key).Bind(3, scope_text);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) return NotSuppressedError(key, scope_text);
    removed = ReadSuppressionRow(*rows);
  }
  {
    static const std::string kDelete =
        "DELETE FROM suppressions WHERE tenant_id = ? AND address = ? AND "
        "scope = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kDelete));
    stmt->Bind(1, tenant_id).Bind(2, key).Bind(3, scope_text);
    RETURN_IF_ERROR(stmt->Execute().status());
  }
  RETURN_IF_ERROR(LogMysqlSuppression(db, tenant_id, key, scope_text,
                                      "removed", removed.reason, note,
                                      absl::Now()));
  return removed;
}

absl::Status UpsertSubscriptionRow(MysqlConnection& db,
                                   const Subscription& sub) {
  // create_time is kept on update: the first subscription's time stays.
  static const std::string kSql =
      "INSERT INTO subscriptions (tenant_id, address, list, state, "
      "create_time, update_time, source, metadata) VALUES (?,?,?,?,?,?,?,?) "
      "ON DUPLICATE KEY UPDATE state = VALUES(state), update_time = "
      "VALUES(update_time), source = VALUES(source), metadata = "
      "VALUES(metadata)";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, sub.tenant_id)
      .Bind(2, AddressKey(sub.address))
      .Bind(3, sub.list)
      .Bind(4, static_cast<int64_t>(sub.state))
      .BindTime(5, sub.create_time)
      .BindTime(6, sub.update_time)
      .Bind(7, sub.source)
      .Bind(8, sub.metadata);
  return stmt->Execute().status();
}

absl::Status UpsertScoreRow(MysqlConnection& db, const SoftBounceScore& score) {
  static const std::string kSql =
      "INSERT INTO soft_bounce_scores (tenant_id, address, score, updated) "
      "VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE score = VALUES(score), "
      "updated = VALUES(updated)";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, score.tenant_id)
      .Bind(2, AddressKey(score.address))
      .Bind(3, score.score)
      .BindTime(4, score.updated);
  return stmt->Execute().status();
}

}  // namespace

absl::Status MysqlStore::UpsertSuppression(const Suppression& suppression,
                                           absl::string_view note) {
  std::string text(note);
  return WriteAndWait([&](Tx& tx) {
    return UpsertMysqlSuppressionRow(tx.db(), suppression, text);
  });
}

absl::StatusOr<Suppression> MysqlStore::RemoveSuppression(
    int64_t tenant_id, absl::string_view address, absl::string_view scope,
    absl::string_view reason) {
  Suppression removed;
  RETURN_IF_ERROR(WriteAndWait([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(found, RemoveSuppressionRow(tx.db(), tenant_id, address,
                                                 scope, reason));
    removed = std::move(found);
    return absl::OkStatus();
  }));
  return removed;
}

absl::StatusOr<std::vector<std::optional<Suppression>>>
MysqlStore::FindSuppressions(int64_t tenant_id,
                             const std::vector<std::string>& addresses,
                             absl::string_view stream, absl::Time now) {
  std::vector<std::string> keys;
  keys.reserve(addresses.size());
  for (const std::string& address : addresses) {
    keys.push_back(AddressKey(address));
  }
  // The suppression that applies per key: tenant-wide ("" scope) wins over
  // the stream's own, as SQLite's ORDER BY scope LIMIT 1 picks it.
  std::map<std::string, Suppression> applying;
  auto run = [&](MysqlConnection& db) -> absl::Status {
    applying.clear();
    for (const InChunk& chunk : InListChunks(keys.size(), kFindChunk)) {
      std::string sql = MysqlMultiRowSql(
          absl::StrCat("SELECT ", kSuppressionColumns,
                       " FROM suppressions WHERE tenant_id = ? AND (scope = "
                       "'' OR scope = ?) AND (expire_time IS NULL OR "
                       "expire_time > ?) AND address IN ("),
          "?", chunk.padded, ")");
      ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
      stmt->Bind(1, tenant_id).Bind(2, stream).BindTime(3, now);
      for (size_t i = 0; i < chunk.padded; ++i) {
        stmt->Bind(static_cast<int>(4 + i), keys[chunk.At(i)]);
      }
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        Suppression s = ReadSuppressionRow(*rows);
        auto it = applying.find(s.address);
        if (it == applying.end()) {
          applying.emplace(s.address, std::move(s));
        } else if (s.scope < it->second.scope) {
          it->second = std::move(s);
        }
      }
    }
    return absl::OkStatus();
  };
  if (!keys.empty()) {
    // Several chunks read one snapshot, so the answer is one moment's.
    RETURN_IF_ERROR(Read(run, /*snapshot=*/keys.size() > kFindChunk));
  }
  std::vector<std::optional<Suppression>> found;
  found.reserve(keys.size());
  for (const std::string& key : keys) {
    auto it = applying.find(key);
    if (it == applying.end()) {
      found.push_back(std::nullopt);
    } else {
      found.push_back(it->second);
    }
  }
  return found;
}

absl::StatusOr<SuppressionPage> MysqlStore::ListSuppressions(
    int64_t tenant_id, const SuppressionFilter& filter, int page_size,
    const std::optional<SuppressionCursor>& after) {
  RETURN_IF_ERROR(CheckPageSize(page_size));
  std::string sql = absl::StrCat("SELECT ", kSuppressionColumns,
                                 " FROM suppressions WHERE tenant_id = ?");
  if (filter.reason != SuppressionReason::kUnspecified) {
    absl::StrAppend(&sql, " AND reason = ?");
  }
  if (!filter.all_scopes) absl::StrAppend(&sql, " AND scope = ?");
  std::string prefix = AddressKey(filter.address_prefix);
  if (!prefix.empty()) absl::StrAppend(&sql, " AND address LIKE ? ESCAPE '!'");
  // Spelled out rather than a row comparison so the primary key's range
  // is used.
  if (after.has_value()) {
    absl::StrAppend(&sql,
                    " AND (address > ? OR (address = ? AND scope > ?))");
  }
  absl::StrAppend(&sql, " ORDER BY address, scope LIMIT ?");
  SuppressionPage page;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    page = SuppressionPage();
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    int i = 1;
    stmt->Bind(i++, tenant_id);
    if (filter.reason != SuppressionReason::kUnspecified) {
      stmt->Bind(i++, static_cast<int64_t>(filter.reason));
    }
    if (!filter.all_scopes) stmt->Bind(i++, filter.scope);
    if (!prefix.empty()) stmt->Bind(i++, PrefixPattern(prefix));
    if (after.has_value()) {
      stmt->Bind(i++, after->address);
      stmt->Bind(i++, after->address);
      stmt->Bind(i++, after->scope);
    }
    stmt->Bind(i++, static_cast<int64_t>(page_size) + 1);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    while (true) {
      ASSIGN_OR_RETURN(more, rows->Next());
      if (!more) break;
      page.suppressions.push_back(ReadSuppressionRow(*rows));
    }
    return absl::OkStatus();
  }));
  TrimSuppressionPage(page_size, page);
  return page;
}

absl::StatusOr<bool> MysqlStore::ApplyFeedback(const FeedbackUpdate& update) {
  bool applied = false;
  // The optimistic guard failing is not a database failure: ABORTED from
  // inside the run would make the writer rerun (and finally fail) the whole
  // group. The run reports it with a status that only rolls back its own
  // savepoint, and it becomes ABORTED once the write is done.
  bool stale = false;
  absl::Status status = WriteAndWait([&](Tx& tx) -> absl::Status {
    applied = false;
    stale = false;
    absl::Time now = absl::Now();
    {
      static const std::string kSql =
          "INSERT INTO feedback_applied (tenant_id, fingerprint, message_id, "
          "time) VALUES (?,?,?,?)";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
      stmt->Bind(1, update.tenant_id)
          .Bind(2, update.fingerprint)
          .Bind(3, update.message_id)
          .BindTime(4, now);
      // A duplicate key is the fingerprint applied before (by this or
      // another replica): nothing changes. InnoDB undoes only the failed
      // statement, and there is nothing before it in this write.
      absl::StatusOr<int64_t> inserted = stmt->Execute();
      if (absl::IsAlreadyExists(inserted.status())) return absl::OkStatus();
      RETURN_IF_ERROR(inserted.status());
    }
    std::string tags;
    if (!update.message_id.empty()) {
      int64_t row_id = 0;
      {
        // Locked until the commit, so the guard's answer still holds when
        // the changes are written.
        static const std::string kFind =
            "SELECT row_id, tags, update_time FROM messages WHERE tenant_id "
            "= ? AND id = ? FOR UPDATE";
        ASSIGN_OR_RETURN(stmt, tx->Prepare(kFind));
        stmt->Bind(1, update.tenant_id).Bind(2, update.message_id);
        ASSIGN_OR_RETURN(rows, stmt->Query());
        ASSIGN_OR_RETURN(found, rows->Next());
        if (!found) {
          return absl::NotFoundError(
              absl::StrCat("message ", update.message_id));
        }
        row_id = rows->Int(0);
        tags = rows->Text(1);
        if (update.expected_update_time != absl::InfinitePast() &&
            rows->Time(2) != update.expected_update_time) {
          stale = true;
          return absl::FailedPreconditionError("stale update_time");
        }
      }
      if (update.message_status != MessageStatus::kUnspecified ||
          !update.recipients.empty()) {
        static const std::string kTouch =
            "UPDATE messages SET status = CASE WHEN ? = 0 THEN status ELSE ? "
            "END, update_time = ? WHERE row_id = ?";
        ASSIGN_OR_RETURN(stmt, tx->Prepare(kTouch));
        int64_t message_status = static_cast<int64_t>(update.message_status);
        stmt->Bind(1, message_status)
            .Bind(2, message_status)
            .BindTime(3, now)
            .Bind(4, row_id);
        RETURN_IF_ERROR(stmt->Execute().status());
      }
      static const std::string kRecipient =
          "UPDATE message_recipients SET status = ?, detail = ?, reply_code = "
          "?, reply_enhanced = ?, reply_text = ?, reply_host = ? WHERE "
          "message_row = ? AND address_key = ?";
      for (const RecipientFeedback& r : update.recipients) {
        ASSIGN_OR_RETURN(stmt, tx->Prepare(kRecipient));
        stmt->Bind(1, static_cast<int64_t>(r.status))
            .Bind(2, r.detail)
            .Bind(3, static_cast<int64_t>(r.reply.code))
            .Bind(4, r.reply.enhanced_code)
            .Bind(5, r.reply.text)
            .Bind(6, r.reply.remote_host)
            .Bind(7, row_id)
            .Bind(8, AddressKey(r.address));
        RETURN_IF_ERROR(stmt->Execute().status());
      }
    }
    // Message-less events carry no tags, as in SQLite.
    for (const Event& e : update.events) tx.AppendEvent(e, tags);
    for (const auto& [address, scope] : update.removed_suppressions) {
      absl::StatusOr<Suppression> removed = RemoveSuppressionRow(
          tx.db(), update.tenant_id, address, scope, update.removal_note);
      if (!removed.ok() && !absl::IsNotFound(removed.status())) {
        return removed.status();
      }
    }
    for (const Suppression& s : update.new_suppressions) {
      RETURN_IF_ERROR(UpsertMysqlSuppressionRow(tx.db(), s, s.evidence));
    }
    for (const Subscription& sub : update.subscriptions) {
      RETURN_IF_ERROR(UpsertSubscriptionRow(tx.db(), sub));
    }
    for (const SoftBounceScore& score : update.scores) {
      RETURN_IF_ERROR(UpsertScoreRow(tx.db(), score));
    }
    applied = true;
    return absl::OkStatus();
  });
  if (stale && absl::IsFailedPrecondition(status)) {
    return absl::AbortedError(absl::StrCat(
        "message ", update.message_id,
        " changed while feedback was applied to it"));
  }
  RETURN_IF_ERROR(status);
  return applied;
}

absl::StatusOr<std::optional<SoftBounceScore>> MysqlStore::GetSoftBounceScore(
    int64_t tenant_id, absl::string_view address) {
  std::string key = AddressKey(address);
  std::optional<SoftBounceScore> out;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    out.reset();
    static const std::string kSql =
        "SELECT score, updated FROM soft_bounce_scores WHERE tenant_id = ? "
        "AND address = ?";
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, key);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) return absl::OkStatus();
    SoftBounceScore score;
    score.tenant_id = tenant_id;
    score.address = key;
    score.score = rows->Double(0);
    score.updated = rows->Time(1);
    out = std::move(score);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Subscription>> MysqlStore::GetSubscriptions(
    int64_t tenant_id, absl::string_view address, absl::string_view list) {
  std::string key = AddressKey(address);
  std::vector<Subscription> out;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    out.clear();
    static const std::string kSql = absl::StrCat(
        "SELECT ", kSubscriptionColumns,
        " FROM subscriptions WHERE tenant_id = ? AND address = ? AND (? = '' "
        "OR list = ?) ORDER BY list");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, key).Bind(3, list).Bind(4, list);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    while (true) {
      ASSIGN_OR_RETURN(more, rows->Next());
      if (!more) break;
      out.push_back(ReadSubscriptionRow(*rows));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace deliverd::store
