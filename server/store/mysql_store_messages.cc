// MysqlStore: inserting messages (with idempotency), reading them back
// (GetMessage, FindMessageTenant, ListMessages) and the event stream
// (MessageEvents, ReadEvents, LastEventId). Same behaviour as SqliteStore.
//
// InsertMessages is the hot path (SendBatch): it works in multi-row
// statements rather than one round trip per row, because each round trip to
// a MySQL server costs far more than a row does.
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/store/mysql_rows.h"
#include "server/store/mysql_sql.h"
#include "server/store/mysql_store.h"
#include "server/store/status_macros.h"
#include "server/store/store_codec.h"

namespace deliverd::store {


namespace {

// The idempotency record of a (tenant, request id).
struct IdempotencyRecord {
  std::string request_hash;
  std::string message_id;
  absl::Time create_time;
};
using IdempotencyKey = std::pair<int64_t, std::string>;

// The key the idempotency table's primary key sees: its collation
// (utf8mb4_bin, PAD SPACE) ignores trailing spaces, so "r1" and "r1 " are
// one request id to it and must be one here too.
IdempotencyKey KeyOf(int64_t tenant_id, absl::string_view request_id) {
  while (!request_id.empty() && request_id.back() == ' ') {
    request_id.remove_suffix(1);
  }
  return {tenant_id, std::string(request_id)};
}

// Loads the stored idempotency records of every request id in `items`: one
// IN-list query per tenant (and chunk) instead of one per item.
absl::Status LoadIdempotencyRecords(
    MysqlConnection& db, const std::vector<NewMessage>& items,
    std::map<IdempotencyKey, IdempotencyRecord>& records) {
  std::map<int64_t, std::set<std::string>> wanted;
  for (const NewMessage& item : items) {
    if (!item.message.request_id.empty()) {
      wanted[item.message.tenant_id].insert(item.message.request_id);
    }
  }
  for (const auto& [tenant_id, id_set] : wanted) {
    std::vector<std::string> ids(id_set.begin(), id_set.end());
    for (const InChunk& chunk : InListChunks(ids.size())) {
      std::string sql = MysqlMultiRowSql(
          "SELECT request_id, request_hash, message_id, create_time FROM "
          "idempotency WHERE tenant_id = ? AND request_id IN (",
          "?", chunk.padded, ")");
      ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
      stmt->Bind(1, tenant_id);
      for (size_t i = 0; i < chunk.padded; ++i) {
        stmt->Bind(static_cast<int>(i) + 2, ids[chunk.At(i)]);
      }
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        records[KeyOf(tenant_id, rows->Text(0))] =
            IdempotencyRecord{rows->Text(1), rows->Text(2), rows->Time(3)};
      }
    }
  }
  return absl::OkStatus();
}

absl::Status InsertMessageRows(MysqlConnection& db,
                               const std::vector<const NewMessage*>& fresh,
                               const std::vector<std::string>& joined_tags) {
  constexpr int kColumns = 20;
  std::vector<size_t> bytes;
  bytes.reserve(fresh.size());
  for (const NewMessage* item : fresh) {
    const Message& m = item->message;
    bytes.push_back(256 + m.content.size() + m.metadata.size() +
                    m.subject.size());
  }
  size_t start = 0;
  for (size_t count : MysqlChunkSizes(bytes)) {
    std::string sql = MysqlMultiRowSql(
        "INSERT INTO messages (id, tenant_id, status, from_address, from_key, "
        "from_name, subject, tags, metadata, stream, create_time, "
        "update_time, next_attempt_time, due_time, attempt_count, "
        "resend_of, rfc822_message_id, size_bytes, request_id, content) "
        "VALUES ",
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", count, "");
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    for (size_t i = 0; i < count; ++i) {
      const Message& m = fresh[start + i]->message;
      int p = static_cast<int>(i) * kColumns;
      stmt->Bind(p + 1, m.id)
          .Bind(p + 2, m.tenant_id)
          .Bind(p + 3, static_cast<int64_t>(m.status))
          .Bind(p + 4, m.from_address)
          .Bind(p + 5, AddressKey(m.from_address))
          .Bind(p + 6, m.from_name)
          .Bind(p + 7, m.subject)
          .Bind(p + 8, joined_tags[start + i])
          .Bind(p + 9, m.metadata)
          .Bind(p + 10, m.stream)
          .BindTime(p + 11, m.create_time)
          .BindTime(p + 12, m.update_time)
          .BindOptionalTime(p + 13, m.next_attempt_time)
          .BindOptionalTime(p + 14, m.next_attempt_time)
          .Bind(p + 15, static_cast<int64_t>(m.attempt_count))
          .Bind(p + 16, m.resend_of)
          .Bind(p + 17, m.rfc822_message_id)
          .Bind(p + 18, m.size_bytes)
          .Bind(p + 19, m.request_id)
          .Bind(p + 20, m.content);
    }
    start += count;
    RETURN_IF_ERROR(stmt->Execute().status());
  }
  return absl::OkStatus();
}

// The row ids of the just-inserted messages, in `fresh` order. Looked up by
// id: auto-increment ids of a multi-row insert need not be consecutive
// (innodb_autoinc_lock_mode, other replicas).
absl::StatusOr<std::vector<int64_t>> FindRowIds(
    MysqlConnection& db, const std::vector<const NewMessage*>& fresh) {
  std::map<std::string, int64_t> by_id;
  for (const InChunk& chunk : InListChunks(fresh.size())) {
    std::string sql = MysqlMultiRowSql(
        "SELECT row_id, id FROM messages WHERE id IN (", "?", chunk.padded,
        ")");
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    for (size_t i = 0; i < chunk.padded; ++i) {
      stmt->Bind(static_cast<int>(i) + 1, fresh[chunk.At(i)]->message.id);
    }
    ASSIGN_OR_RETURN(rows, stmt->Query());
    while (true) {
      ASSIGN_OR_RETURN(more, rows->Next());
      if (!more) break;
      by_id[rows->Text(1)] = rows->Int(0);
    }
  }
  std::vector<int64_t> row_ids;
  row_ids.reserve(fresh.size());
  for (const NewMessage* item : fresh) {
    auto it = by_id.find(item->message.id);
    if (it == by_id.end()) {
      return absl::InternalError(
          absl::StrCat("inserted message ", item->message.id, " not found"));
    }
    row_ids.push_back(it->second);
  }
  return row_ids;
}

absl::Status InsertRecipientRows(MysqlConnection& db,
                                 const std::vector<const NewMessage*>& fresh,
                                 const std::vector<int64_t>& row_ids) {
  struct Row {
    int64_t message_row;
    int64_t position;
    int64_t tenant_id;
    const Recipient* r;
  };
  std::vector<Row> all;
  for (size_t k = 0; k < fresh.size(); ++k) {
    const Message& m = fresh[k]->message;
    for (size_t i = 0; i < m.recipients.size(); ++i) {
      all.push_back(Row{row_ids[k], static_cast<int64_t>(i), m.tenant_id,
                        &m.recipients[i]});
    }
  }
  constexpr int kColumns = 13;
  size_t start = 0;
  for (size_t count : MysqlChunkSizes(all.size())) {
    std::string sql = MysqlMultiRowSql(
        "INSERT INTO message_recipients (message_row, position, tenant_id, "
        "address, address_key, kind, status, detail, reply_code, "
        "reply_enhanced, reply_text, reply_host, suppression_override) "
        "VALUES ",
        "(?,?,?,?,?,?,?,?,?,?,?,?,?)", count, "");
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    for (size_t i = 0; i < count; ++i) {
      const Row& row = all[start + i];
      const Recipient& r = *row.r;
      int p = static_cast<int>(i) * kColumns;
      stmt->Bind(p + 1, row.message_row)
          .Bind(p + 2, row.position)
          .Bind(p + 3, row.tenant_id)
          .Bind(p + 4, r.address)
          .Bind(p + 5, AddressKey(r.address))
          .Bind(p + 6, static_cast<int64_t>(r.kind))
          .Bind(p + 7, static_cast<int64_t>(r.status))
          .Bind(p + 8, r.detail)
          .Bind(p + 9, static_cast<int64_t>(r.last_reply.code))
          .Bind(p + 10, r.last_reply.enhanced_code)
          .Bind(p + 11, r.last_reply.text)
          .Bind(p + 12, r.last_reply.remote_host)
          .Bind(p + 13, static_cast<int64_t>(r.suppression_override ? 1 : 0));
    }
    start += count;
    RETURN_IF_ERROR(stmt->Execute().status());
  }
  return absl::OkStatus();
}

absl::Status InsertTagRows(MysqlConnection& db,
                           const std::vector<const NewMessage*>& fresh,
                           const std::vector<int64_t>& row_ids) {
  struct Row {
    int64_t tenant_id;
    const std::string* tag;
    int64_t message_row;
  };
  std::vector<Row> all;
  for (size_t k = 0; k < fresh.size(); ++k) {
    const Message& m = fresh[k]->message;
    // A tag listed twice is indexed once (SQLite: INSERT OR IGNORE); done
    // here rather than with INSERT IGNORE, which would also hide real
    // errors.
    std::set<absl::string_view> seen;
    for (const std::string& tag : m.tags) {
      if (seen.insert(tag).second) {
        all.push_back(Row{m.tenant_id, &tag, row_ids[k]});
      }
    }
  }
  size_t start = 0;
  for (size_t count : MysqlChunkSizes(all.size())) {
    std::string sql = MysqlMultiRowSql(
        "INSERT INTO message_tags (tenant_id, tag, message_row) VALUES ",
        "(?,?,?)", count, "");
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    for (size_t i = 0; i < count; ++i) {
      const Row& row = all[start + i];
      int p = static_cast<int>(i) * 3;
      stmt->Bind(p + 1, row.tenant_id)
          .Bind(p + 2, *row.tag)
          .Bind(p + 3, row.message_row);
    }
    start += count;
    RETURN_IF_ERROR(stmt->Execute().status());
  }
  return absl::OkStatus();
}

// Records the request ids of the inserted messages. `replaces[k]` tells
// that fresh[k]'s request id already had a record, one outside the window
// (else the item was replayed or refused): that record is replaced, as
// SQLite's INSERT OR REPLACE does. A new record is a plain INSERT, so that
// another replica recording the same request id at the same moment makes
// this one fail rather than both storing a message: that duplicate turns
// into ABORTED, and the rerun transaction then finds the other replica's
// record and replays it.
absl::Status InsertIdempotencyRows(MysqlConnection& db,
                                   const std::vector<const NewMessage*>& fresh,
                                   const std::vector<bool>& replaces) {
  for (bool replacing : {false, true}) {
    std::vector<const NewMessage*> rows;
    for (size_t k = 0; k < fresh.size(); ++k) {
      if (!fresh[k]->message.request_id.empty() && replaces[k] == replacing) {
        rows.push_back(fresh[k]);
      }
    }
    size_t start = 0;
    for (size_t count : MysqlChunkSizes(rows.size())) {
      std::string sql = MysqlMultiRowSql(
          "INSERT INTO idempotency (tenant_id, request_id, request_hash, "
          "message_id, create_time) VALUES ",
          "(?,?,?,?,?)", count,
          replacing ? " ON DUPLICATE KEY UPDATE request_hash = "
                      "VALUES(request_hash), message_id = VALUES(message_id), "
                      "create_time = VALUES(create_time)"
                    : "");
      ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
      for (size_t i = 0; i < count; ++i) {
        const NewMessage& item = *rows[start + i];
        int p = static_cast<int>(i) * 5;
        stmt->Bind(p + 1, item.message.tenant_id)
            .Bind(p + 2, item.message.request_id)
            .Bind(p + 3, item.request_hash)
            .Bind(p + 4, item.message.id)
            .BindTime(p + 5, item.message.create_time);
      }
      start += count;
      absl::Status status = stmt->Execute().status();
      if (absl::IsAlreadyExists(status)) {
        return absl::AbortedError(absl::StrCat(
            "a request id of this batch was recorded concurrently: ",
            status.message()));
      }
      RETURN_IF_ERROR(status);
    }
  }
  return absl::OkStatus();
}

// One InsertMessages batch inside the writer's transaction. Fills
// `outcomes` afresh (the writer may run it again after a deadlock).
absl::Status InsertBatch(MysqlStore::Tx& tx,
                         const std::vector<NewMessage>& items,
                         std::vector<InsertOutcome>& outcomes) {
  outcomes.assign(items.size(), InsertOutcome());
  if (items.empty()) return absl::OkStatus();
  MysqlConnection& db = tx.db();

  std::map<IdempotencyKey, IdempotencyRecord> records;
  RETURN_IF_ERROR(LoadIdempotencyRecords(db, items, records));
  // Decide each item in batch order, as SQLite does one by one: an item
  // inserted here is the record a later item of the batch meets.
  std::vector<const NewMessage*> fresh;
  std::vector<bool> replaces;  // per fresh item: its request id had a record
  for (size_t i = 0; i < items.size(); ++i) {
    const NewMessage& item = items[i];
    const Message& m = item.message;
    bool replacing = false;
    if (!m.request_id.empty()) {
      IdempotencyKey key = KeyOf(m.tenant_id, m.request_id);
      auto it = records.find(key);
      if (it != records.end()) {
        std::optional<InsertOutcome> earlier = RepeatedRequestOutcome(
            item, it->second.request_hash, it->second.message_id,
            it->second.create_time);
        if (earlier.has_value()) {
          outcomes[i] = *std::move(earlier);
          continue;
        }
      }
      replacing = it != records.end();
      // At the stored precision: a record made in this batch compares
      // exactly as it will when read back later.
      records[key] =
          IdempotencyRecord{item.request_hash, m.id, StoredTime(m.create_time)};
    }
    outcomes[i].message_id = m.id;
    fresh.push_back(&item);
    replaces.push_back(replacing);
  }
  if (fresh.empty()) return absl::OkStatus();

  std::vector<std::string> joined_tags;
  joined_tags.reserve(fresh.size());
  for (const NewMessage* item : fresh) {
    joined_tags.push_back(JoinTags(item->message.tags));
  }
  // A duplicate message id fails the whole batch with ALREADY_EXISTS and
  // nothing of it is committed (the writer rolls back its savepoint), as in
  // SqliteStore.
  RETURN_IF_ERROR(InsertMessageRows(db, fresh, joined_tags));
  ASSIGN_OR_RETURN(row_ids, FindRowIds(db, fresh));
  RETURN_IF_ERROR(InsertRecipientRows(db, fresh, row_ids));
  RETURN_IF_ERROR(InsertTagRows(db, fresh, row_ids));
  RETURN_IF_ERROR(InsertIdempotencyRows(db, fresh, replaces));

  // Events in item order, each item's own then its related ones (the ids
  // follow this order).
  for (size_t k = 0; k < fresh.size(); ++k) {
    for (const Event& e : fresh[k]->events) {
      tx.AppendEvent(e, joined_tags[k]);
    }
    for (const Event& e : fresh[k]->related_events) {
      ASSIGN_OR_RETURN(tags, MysqlMessageTags(db, e.tenant_id, e.message_id));
      tx.AppendEvent(e, std::move(tags));
    }
  }
  return absl::OkStatus();
}

constexpr char kEventColumns[] =
    "id, tenant_id, message_id, type, time, recipient, source, detail, "
    "reply_code, reply_enhanced, reply_text, reply_host, tags";

Event ReadEventRow(const MysqlRows& r) {
  Event e;
  e.id = r.Int(0);
  e.tenant_id = r.Int(1);
  e.message_id = r.Text(2);
  e.type = static_cast<EventType>(r.Int(3));
  e.time = r.Time(4);
  e.recipient = r.Text(5);
  e.source = r.Text(6);
  e.detail = r.Text(7);
  e.reply.code = static_cast<int>(r.Int(8));
  e.reply.enhanced_code = r.Text(9);
  e.reply.text = r.Text(10);
  e.reply.remote_host = r.Text(11);
  e.tags = SplitTags(r.Text(12));
  return e;
}

// SQLite reads a negative LIMIT as "no limit"; MySQL refuses one.
int64_t SqlLimit(int64_t limit) {
  return limit < 0 ? std::numeric_limits<int64_t>::max() : limit;
}

}  // namespace

void MysqlStore::InsertMessages(std::vector<NewMessage> batch,
                                InsertCallback done) {
  auto items = std::make_shared<std::vector<NewMessage>>(std::move(batch));
  auto outcomes = std::make_shared<std::vector<InsertOutcome>>();
  Submit({[items, outcomes](Tx& tx) {
            return InsertBatch(tx, *items, *outcomes);
          },
          [outcomes, done = std::move(done)](absl::Status status) {
            if (!status.ok()) {
              done(status);
            } else {
              done(std::move(*outcomes));
            }
          },
          /*done_inline=*/false});
}

absl::StatusOr<Message> MysqlStore::GetMessage(int64_t tenant_id,
                                               absl::string_view id,
                                               bool with_content) {
  // Content rides along in the same query when asked for.
  static const std::string kSql =
      absl::StrCat("SELECT ", kMysqlMessageColumns,
                   " FROM messages WHERE tenant_id = ? AND id = ?");
  static const std::string kSqlWithContent =
      absl::StrCat("SELECT ", kMysqlMessageColumns,
                   ", content FROM messages WHERE tenant_id = ? AND id = ?");
  Message m;
  // One snapshot: the message and its recipients as of one commit.
  RETURN_IF_ERROR(Read(
      [&](MysqlConnection& db) -> absl::Status {
        ASSIGN_OR_RETURN(stmt,
                         db.Prepare(with_content ? kSqlWithContent : kSql));
        stmt->Bind(1, tenant_id).Bind(2, id);
        {
          ASSIGN_OR_RETURN(rows, stmt->Query());
          ASSIGN_OR_RETURN(found, rows->Next());
          if (!found) return absl::NotFoundError(absl::StrCat("message ", id));
          m = ReadMysqlMessageRow(*rows);
          if (with_content) m.content = rows->Text(18);
        }
        return LoadMysqlRecipients(db, m);
      },
      /*snapshot=*/true));
  return m;
}

absl::StatusOr<int64_t> MysqlStore::FindMessageTenant(absl::string_view id) {
  int64_t tenant_id = 0;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(stmt,
                     db.Prepare("SELECT tenant_id FROM messages WHERE id = ?"));
    stmt->Bind(1, id);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    if (!found) return absl::NotFoundError(absl::StrCat("message ", id));
    tenant_id = rows->Int(0);
    return absl::OkStatus();
  }));
  return tenant_id;
}

absl::StatusOr<std::vector<Event>> MysqlStore::MessageEvents(
    int64_t tenant_id, absl::string_view id) {
  static const std::string kSql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM events WHERE message_id = ? AND tenant_id = ? "
                   "ORDER BY id");
  std::vector<Event> events;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    events.clear();
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, id).Bind(2, tenant_id);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    while (true) {
      ASSIGN_OR_RETURN(more, rows->Next());
      if (!more) break;
      events.push_back(ReadEventRow(*rows));
    }
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<MessagePage> MysqlStore::ListMessages(
    int64_t tenant_id, const MessageFilter& filter, int page_size,
    const std::optional<MessageCursor>& after) {
  RETURN_IF_ERROR(CheckPageSize(page_size));
  // The SQL text is assembled from fixed fragments only; every value is a
  // bound parameter. Sender and recipient match case-insensitively through
  // the *_key columns (AddressKey), as SQLite's COLLATE NOCASE does.
  std::string sql = absl::StrCat("SELECT ", kMysqlMessageColumns,
                                 " FROM messages m WHERE m.tenant_id = ?");
  if (!filter.statuses.empty()) {
    std::vector<std::string> marks(filter.statuses.size(), "?");
    absl::StrAppend(&sql, " AND m.status IN (", absl::StrJoin(marks, ","), ")");
  }
  if (!filter.sender.empty()) absl::StrAppend(&sql, " AND m.from_key = ?");
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
                    "AND r.address_key = ?)");
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

  MessagePage page;
  RETURN_IF_ERROR(Read(
      [&](MysqlConnection& db) -> absl::Status {
        page = MessagePage();
        ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
        int i = 1;
        stmt->Bind(i++, tenant_id);
        for (MessageStatus status : filter.statuses) {
          stmt->Bind(i++, static_cast<int64_t>(status));
        }
        if (!filter.sender.empty()) stmt->Bind(i++, AddressKey(filter.sender));
        if (filter.start_time != absl::InfinitePast()) {
          stmt->BindTime(i++, filter.start_time);
        }
        if (filter.end_time != absl::InfiniteFuture()) {
          stmt->BindTime(i++, filter.end_time);
        }
        if (!filter.recipient.empty()) {
          stmt->Bind(i++, AddressKey(filter.recipient));
        }
        if (!filter.tag.empty()) stmt->Bind(i++, filter.tag);
        if (after.has_value()) {
          stmt->BindTime(i++, after->create_time);
          stmt->BindTime(i++, after->create_time);
          stmt->Bind(i++, after->row_id);
        }
        // One extra row tells whether another page exists.
        stmt->Bind(i++, static_cast<int64_t>(page_size) + 1);
        {
          ASSIGN_OR_RETURN(rows, stmt->Query());
          while (true) {
            ASSIGN_OR_RETURN(more, rows->Next());
            if (!more) break;
            page.messages.push_back(ReadMysqlMessageRow(*rows));
          }
        }
        TrimMessagePage(page_size, page);
        return LoadMysqlRecipientsOf(db, page.messages);
      },
      /*snapshot=*/true));
  return page;
}

absl::StatusOr<EventBatch> MysqlStore::ReadEvents(int64_t tenant_id,
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
  EventBatch batch;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    batch = EventBatch();
    batch.scanned_through = after_id;
    ASSIGN_OR_RETURN(
        stmt, db.Prepare(filter.message_id.empty() ? kAll : kOneMessage));
    int i = 1;
    if (!filter.message_id.empty()) stmt->Bind(i++, filter.message_id);
    stmt->Bind(i, tenant_id).Bind(i + 1, after_id);
    stmt->Bind(i + 2, SqlLimit(limit));
    ASSIGN_OR_RETURN(rows, stmt->Query());
    int scanned = 0;
    while (true) {
      ASSIGN_OR_RETURN(more, rows->Next());
      if (!more) break;
      ++scanned;
      Event e = ReadEventRow(*rows);
      batch.scanned_through = e.id;
      if (EventMatches(filter, e)) batch.events.push_back(std::move(e));
    }
    batch.more = scanned == limit;
    return absl::OkStatus();
  }));
  return batch;
}

absl::StatusOr<int64_t> MysqlStore::LastEventId(int64_t tenant_id) {
  int64_t last = 0;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(stmt, db.Prepare("SELECT COALESCE(MAX(id), 0) FROM "
                                      "events WHERE tenant_id = ?"));
    stmt->Bind(1, tenant_id);
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    last = found ? rows->Int(0) : 0;
    return absl::OkStatus();
  }));
  return last;
}

}  // namespace deliverd::store
