// Suppression rows for the MySQL store (declared in mysql_rows.h).
#include "server/store/mysql_rows.h"
#include "server/store/status_macros.h"

namespace deliverd::store {

absl::Status LogMysqlSuppression(MysqlConnection& db, int64_t tenant_id,
                                 absl::string_view address,
                                 absl::string_view scope,
                                 absl::string_view action,
                                 SuppressionReason reason,
                                 absl::string_view note, absl::Time time) {
  static const std::string kSql =
      "INSERT INTO suppression_log (tenant_id, address, scope, action, "
      "reason, note, time) VALUES (?,?,?,?,?,?,?)";
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, tenant_id)
      .Bind(2, address)
      .Bind(3, scope)
      .Bind(4, action)
      .Bind(5, static_cast<int64_t>(reason))
      .Bind(6, note)
      .BindTime(7, time);
  return stmt->Execute().status();
}

absl::Status UpsertMysqlSuppressionRow(MysqlConnection& db,
                                       const Suppression& s,
                                       absl::string_view note) {
  static const std::string kSql =
      "INSERT INTO suppressions (tenant_id, address, scope, reason, "
      "create_time, expire_time, source_message, evidence) "
      "VALUES (?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE reason = "
      "VALUES(reason), create_time = VALUES(create_time), expire_time = "
      "VALUES(expire_time), source_message = VALUES(source_message), "
      "evidence = VALUES(evidence)";
  std::string address = AddressKey(s.address);
  ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
  stmt->Bind(1, s.tenant_id)
      .Bind(2, address)
      .Bind(3, s.scope)
      .Bind(4, static_cast<int64_t>(s.reason))
      .BindTime(5, s.create_time)
      .BindOptionalTime(6, s.expire_time)
      .Bind(7, s.source_message)
      .Bind(8, s.evidence);
  RETURN_IF_ERROR(stmt->Execute().status());
  return LogMysqlSuppression(db, s.tenant_id, address, s.scope, "added",
                             s.reason, note, s.create_time);
}

}  // namespace deliverd::store
