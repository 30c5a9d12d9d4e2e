// Message rows for the MySQL store (declared in mysql_rows.h).
#include "server/store/mysql_rows.h"
#include "server/store/mysql_sql.h"
#include "server/store/status_macros.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace deliverd::store {

const char kMysqlMessageColumns[] =
    "row_id, id, tenant_id, status, from_address, from_name, subject, tags, "
    "metadata, stream, create_time, update_time, next_attempt_time, "
    "attempt_count, resend_of, rfc822_message_id, size_bytes, request_id";

Message ReadMysqlMessageRow(const MysqlRows& r) {
  Message m;
  m.row_id = r.Int(0);
  m.id = r.Text(1);
  m.tenant_id = r.Int(2);
  m.status = static_cast<MessageStatus>(r.Int(3));
  m.from_address = r.Text(4);
  m.from_name = r.Text(5);
  m.subject = r.Text(6);
  m.tags = SplitTags(r.Text(7));
  m.metadata = r.Text(8);
  m.stream = r.Text(9);
  m.create_time = r.Time(10);
  m.update_time = r.Time(11);
  m.next_attempt_time = r.Time(12);  // NULL: never
  m.attempt_count = static_cast<int>(r.Int(13));
  m.resend_of = r.Text(14);
  m.rfc822_message_id = r.Text(15);
  m.size_bytes = r.Int(16);
  m.request_id = r.Text(17);
  return m;
}

absl::Status LoadMysqlRecipients(MysqlConnection& db, Message& m) {
  static const std::string kSql =
      "SELECT address, kind, status, detail, reply_code, reply_enhanced, "
      "reply_text, reply_host, suppression_override FROM message_recipients "
      "WHERE message_row = ? ORDER BY position";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, m.row_id);
  ASSIGN_OR_RETURN(rows, stmt->Query());
  m.recipients.clear();
  while (true) {
    ASSIGN_OR_RETURN(more, rows->Next());
    if (!more) break;
    m.recipients.push_back(ReadRecipientColumns(*rows, 0));
  }
  return absl::OkStatus();
}

absl::Status LoadMysqlContent(MysqlConnection& db, Message& m) {
  static const std::string kSql =
      "SELECT content FROM messages WHERE row_id = ?";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, m.row_id);
  ASSIGN_OR_RETURN(rows, stmt->Query());
  ASSIGN_OR_RETURN(found, rows->Next());
  if (!found) return absl::NotFoundError("message vanished");
  m.content = rows->Text(0);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MysqlMessageTags(MysqlConnection& db,
                                             int64_t tenant_id,
                                             const std::string& message_id) {
  static const std::string kSql =
      "SELECT tags FROM messages WHERE tenant_id = ? AND id = ?";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, tenant_id).Bind(2, message_id);
  ASSIGN_OR_RETURN(rows, stmt->Query());
  ASSIGN_OR_RETURN(found, rows->Next());
  if (!found) return absl::NotFoundError(absl::StrCat("message ", message_id));
  return rows->Text(0);
}

absl::Status LoadMysqlRecipientsOf(MysqlConnection& db,
                                   std::vector<Message>& messages) {
  std::map<int64_t, Message*> by_row;
  for (Message& m : messages) {
    m.recipients.clear();
    by_row[m.row_id] = &m;
  }
  std::vector<int64_t> rows;
  for (const auto& [row, unused] : by_row) rows.push_back(row);
  for (const InChunk& chunk : InListChunks(rows.size())) {
    std::string sql = MysqlMultiRowSql(
        "SELECT message_row, address, kind, status, detail, reply_code, "
        "reply_enhanced, reply_text, reply_host, suppression_override FROM "
        "message_recipients WHERE message_row IN (",
        "?", chunk.padded, ") ORDER BY message_row, position");
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    for (size_t i = 0; i < chunk.padded; ++i) {
      stmt->Bind(static_cast<int>(i) + 1, rows[chunk.At(i)]);
    }
    ASSIGN_OR_RETURN(result, stmt->Query());
    while (true) {
      ASSIGN_OR_RETURN(more, result->Next());
      if (!more) break;
      auto it = by_row.find(result->Int(0));
      if (it == by_row.end()) continue;
      it->second->recipients.push_back(ReadRecipientColumns(*result, 1));
    }
  }
  return absl::OkStatus();
}

}  // namespace deliverd::store
