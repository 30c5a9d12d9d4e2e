// Parses the --store value for MySQL/MariaDB:
//   mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?pool=N]
// USER, PASSWORD and DATABASE may be percent-encoded (a password with '@'
// or '/'); HOST may be a bracketed IPv6 address. PORT defaults to 3306 and
// pool (the connection pool's size) to MysqlConfig's default.
//
// Errors: INVALID_ARGUMENT naming the part of the URI that is wrong (the
// password is never repeated in a message).
#ifndef DELIVERD_SERVER_STORE_MYSQL_URI_H_
#define DELIVERD_SERVER_STORE_MYSQL_URI_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/store/mysql_db.h"

namespace deliverd::store {

// True when `store` names a MySQL store (starts with "mysql://").
bool IsMysqlUri(absl::string_view store);

absl::StatusOr<MysqlConfig> ParseMysqlUri(absl::string_view uri);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_MYSQL_URI_H_
