// Row helpers shared by the MySQL store's files (server/store/mysql_store*.cc):
// the pieces more than one operation needs, so each is written once.
// Implemented in mysql_message_rows.cc and mysql_suppression_rows.cc.
//
// Every function runs on a connection the caller holds (inside the caller's
// transaction when it writes) and returns errors as Status.
#ifndef DELIVERD_SERVER_STORE_MYSQL_ROWS_H_
#define DELIVERD_SERVER_STORE_MYSQL_ROWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/mysql_db.h"
#include "server/store/store_codec.h"
#include "server/store/types.h"

namespace deliverd::store {

// AddressKey, JoinTags and SplitTags, shared with SqliteStore, are in
// store_codec.h.

// --- messages (mysql_message_rows.cc) ---

// The columns ReadMessageRow expects, in order (no content).
extern const char kMysqlMessageColumns[];
// A message row selected with kMysqlMessageColumns (recipients and content
// not loaded).
Message ReadMysqlMessageRow(const MysqlRows& rows);
// Fills m.recipients (by position) from message_recipients.
absl::Status LoadMysqlRecipients(MysqlConnection& db, Message& m);
// Fills the recipients of every message in `messages` (by row_id) with
// IN-list queries rather than one query per message.
absl::Status LoadMysqlRecipientsOf(MysqlConnection& db,
                                   std::vector<Message>& messages);
// Fills m.content.
absl::Status LoadMysqlContent(MysqlConnection& db, Message& m);
// The tags of a message, joined, for stamping onto events about it;
// NOT_FOUND when the tenant has no such message.
absl::StatusOr<std::string> MysqlMessageTags(MysqlConnection& db,
                                             int64_t tenant_id,
                                             const std::string& message_id);

// --- suppressions (mysql_suppression_rows.cc) ---

// Who added or removed a suppression, and why (suppression_log).
absl::Status LogMysqlSuppression(MysqlConnection& db, int64_t tenant_id,
                                 absl::string_view address,
                                 absl::string_view scope,
                                 absl::string_view action,
                                 SuppressionReason reason,
                                 absl::string_view note, absl::Time time);
// Inserts or replaces the suppression of (tenant, lower-cased address,
// scope) and logs it as "added".
absl::Status UpsertMysqlSuppressionRow(MysqlConnection& db,
                                       const Suppression& s,
                                       absl::string_view note);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_MYSQL_ROWS_H_
