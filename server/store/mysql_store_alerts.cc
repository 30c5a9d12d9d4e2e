// MysqlStore: alerts — each tenant's channels and rules, the record of
// alerts sent, the oldest unsent message per tenant (the queue-age alert)
// and the shared time windows. Mirrors SqliteStore's behaviour; see
// server/store/store.h for the contract.
//
// Replicas: CreateAlertRule reads the channels it names with a shared lock
// and DeleteAlertChannel locks the channel before it looks for rules naming
// it, so a rule never names a channel deleted at the same moment.
// ClaimAlertWindow runs in a transaction of its own (Transact) that makes
// sure the window's row exists and then locks it, so of several replicas
// claiming one window at once exactly one gets it. The other writes go
// through the group writer.
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/store/mysql_store.h"
#include "server/store/status_macros.h"
#include "server/store/store_codec.h"

namespace deliverd::store {
namespace {

constexpr char kAlertChannelColumns[] =
    "tenant_id, name, type, spec, create_time";
constexpr char kAlertRuleColumns[] =
    "tenant_id, id, kind, channels, spec, create_time";
constexpr char kAlertRecordColumns[] =
    "id, tenant_id, kind, channel, rule_id, accepted, create_time, record";

AlertChannelRow ReadAlertChannelRow(const MysqlRows& r) {
  AlertChannelRow c;
  c.tenant_id = r.Int(0);
  c.name = r.Text(1);
  c.type = static_cast<int>(r.Int(2));
  c.spec = r.Text(3);
  c.create_time = r.Time(4);
  return c;
}

AlertRuleRow ReadAlertRuleRow(const MysqlRows& r) {
  AlertRuleRow rule;
  rule.tenant_id = r.Int(0);
  rule.id = r.Text(1);
  rule.kind = static_cast<int>(r.Int(2));
  rule.channels = SplitAlertChannels(r.Text(3));
  rule.spec = r.Text(4);
  rule.create_time = r.Time(5);
  return rule;
}

AlertRecordRow ReadAlertRecordRow(const MysqlRows& r) {
  AlertRecordRow record;
  record.id = r.Int(0);
  record.tenant_id = r.Int(1);
  record.kind = static_cast<int>(r.Int(2));
  record.channel = r.Text(3);
  record.rule_id = r.Text(4);
  record.accepted = r.Int(5) != 0;
  record.create_time = r.Time(6);
  record.record = r.Text(7);
  return record;
}

// Every row of `stmt`'s query, read with `read_row`.
template <typename Row>
absl::Status QueryAll(MysqlStatement& stmt, Row (*read_row)(const MysqlRows&),
                      std::vector<Row>& out) {
  out.clear();
  ASSIGN_OR_RETURN(rows, stmt.Query());
  while (true) {
    ASSIGN_OR_RETURN(more, rows->Next());
    if (!more) break;
    out.push_back(read_row(*rows));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MysqlStore::CreateAlertChannel(const AlertChannelRow& channel) {
  absl::Status status = WriteAndWait([&](Tx& tx) -> absl::Status {
    static const std::string kSql =
        absl::StrCat("INSERT INTO alert_channels (", kAlertChannelColumns,
                     ") VALUES (?, ?, ?, ?, ?)");
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->Bind(1, channel.tenant_id)
        .Bind(2, channel.name)
        .Bind(3, static_cast<int64_t>(channel.type))
        .Bind(4, channel.spec)
        .BindTime(5, channel.create_time);
    return stmt->Execute().status();
  });
  if (absl::IsAlreadyExists(status)) {
    return AlertChannelExistsError(channel.name);
  }
  return status;
}

absl::StatusOr<std::vector<AlertChannelRow>> MysqlStore::ListAlertChannels(
    int64_t tenant_id) {
  std::vector<AlertChannelRow> channels;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        absl::StrCat("SELECT ", kAlertChannelColumns,
                     " FROM alert_channels WHERE tenant_id = ? ORDER BY name");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id);
    return QueryAll(*stmt, ReadAlertChannelRow, channels);
  }));
  return channels;
}

absl::Status MysqlStore::DeleteAlertChannel(int64_t tenant_id,
                                            absl::string_view name) {
  std::string channel(name);
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    {
      // Locked first: a CreateAlertRule naming the channel (which reads it
      // with a shared lock) either committed before, and its rule is seen
      // below, or waits and then finds the channel gone.
      static const std::string kLock =
          "SELECT 1 FROM alert_channels WHERE tenant_id = ? AND name = ? FOR "
          "UPDATE";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kLock));
      stmt->Bind(1, tenant_id).Bind(2, channel);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      ASSIGN_OR_RETURN(found, rows->Next());
      if (!found) return AlertChannelNotFoundError(channel);
    }
    {
      // The tenant's rules are few; their channel lists are checked here
      // rather than by pattern matching in SQL.
      static const std::string kRules =
          "SELECT id, channels FROM alert_rules WHERE tenant_id = ? ORDER BY "
          "id";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kRules));
      stmt->Bind(1, tenant_id);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        if (AlertChannelsName(rows->Text(1), channel)) {
          return AlertChannelInUseError(channel, rows->Text(0));
        }
      }
    }
    static const std::string kDelete =
        "DELETE FROM alert_channels WHERE tenant_id = ? AND name = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kDelete));
    stmt->Bind(1, tenant_id).Bind(2, channel);
    return stmt->Execute().status();
  });
}

absl::Status MysqlStore::UpdateAlertChannel(const AlertChannelRow& channel) {
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    static const std::string kSql =
        "UPDATE alert_channels SET type = ?, spec = ? WHERE tenant_id = ? AND "
        "name = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->Bind(1, static_cast<int64_t>(channel.type))
        .Bind(2, channel.spec)
        .Bind(3, channel.tenant_id)
        .Bind(4, channel.name);
    // Rows matched (CLIENT_FOUND_ROWS): an update to the same settings
    // still finds the channel.
    ASSIGN_OR_RETURN(matched, stmt->Execute());
    if (matched == 0) return AlertChannelNotFoundError(channel.name);
    return absl::OkStatus();
  });
}

absl::Status MysqlStore::CreateAlertRule(const AlertRuleRow& rule) {
  absl::Status status = WriteAndWait([&](Tx& tx) -> absl::Status {
    // Shared locks keep the channels from being deleted until the rule is
    // committed (see DeleteAlertChannel).
    static const std::string kFind =
        "SELECT 1 FROM alert_channels WHERE tenant_id = ? AND name = ? LOCK "
        "IN SHARE MODE";
    for (const std::string& channel : rule.channels) {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kFind));
      stmt->Bind(1, rule.tenant_id).Bind(2, channel);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      ASSIGN_OR_RETURN(found, rows->Next());
      if (!found) return AlertRuleChannelMissingError(rule.id, channel);
    }
    static const std::string kInsert =
        absl::StrCat("INSERT INTO alert_rules (", kAlertRuleColumns,
                     ") VALUES (?, ?, ?, ?, ?, ?)");
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kInsert));
    stmt->Bind(1, rule.tenant_id)
        .Bind(2, rule.id)
        .Bind(3, static_cast<int64_t>(rule.kind))
        .Bind(4, JoinAlertChannels(rule.channels))
        .Bind(5, rule.spec)
        .BindTime(6, rule.create_time);
    return stmt->Execute().status();
  });
  if (absl::IsAlreadyExists(status)) return AlertRuleExistsError(rule.id);
  return status;
}

absl::StatusOr<std::vector<AlertRuleRow>> MysqlStore::ListAlertRules(
    int64_t tenant_id) {
  std::vector<AlertRuleRow> rules;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        absl::StrCat("SELECT ", kAlertRuleColumns,
                     " FROM alert_rules WHERE tenant_id = ? ORDER BY id");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    stmt->Bind(1, tenant_id);
    return QueryAll(*stmt, ReadAlertRuleRow, rules);
  }));
  return rules;
}

absl::Status MysqlStore::DeleteAlertRule(int64_t tenant_id,
                                         absl::string_view id) {
  std::string rule_id(id);
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    static const std::string kDelete =
        "DELETE FROM alert_rules WHERE tenant_id = ? AND id = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kDelete));
    stmt->Bind(1, tenant_id).Bind(2, rule_id);
    ASSIGN_OR_RETURN(deleted, stmt->Execute());
    if (deleted == 0) return AlertRuleNotFoundError(rule_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AlertRuleRow>> MysqlStore::ListAllAlertRules() {
  std::vector<AlertRuleRow> rules;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        absl::StrCat("SELECT ", kAlertRuleColumns,
                     " FROM alert_rules ORDER BY tenant_id, id");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    return QueryAll(*stmt, ReadAlertRuleRow, rules);
  }));
  return rules;
}

absl::StatusOr<std::vector<AlertChannelRow>>
MysqlStore::ListAllAlertChannels() {
  std::vector<AlertChannelRow> channels;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    static const std::string kSql =
        absl::StrCat("SELECT ", kAlertChannelColumns,
                     " FROM alert_channels ORDER BY tenant_id, name");
    ASSIGN_OR_RETURN(stmt, db.Prepare(kSql));
    return QueryAll(*stmt, ReadAlertChannelRow, channels);
  }));
  return channels;
}

absl::StatusOr<int64_t> MysqlStore::InsertAlertRecord(
    const AlertRecordRow& record) {
  int64_t id = 0;
  RETURN_IF_ERROR(WriteAndWait([&](Tx& tx) -> absl::Status {
    static const std::string kInsert =
        "INSERT INTO alert_records (tenant_id, kind, channel, rule_id, "
        "accepted, create_time, record) VALUES (?, ?, ?, ?, ?, ?, ?)";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kInsert));
    stmt->Bind(1, record.tenant_id)
        .Bind(2, static_cast<int64_t>(record.kind))
        .Bind(3, record.channel)
        .Bind(4, record.rule_id)
        .Bind(5, static_cast<int64_t>(record.accepted ? 1 : 0))
        .BindTime(6, record.create_time)
        .Bind(7, record.record);
    RETURN_IF_ERROR(stmt->Execute().status());
    // Read on every run: a rerun group inserts the row again.
    ASSIGN_OR_RETURN(row, tx->QueryInt("SELECT LAST_INSERT_ID()"));
    id = row;
    return absl::OkStatus();
  }));
  return id;
}

absl::StatusOr<std::vector<AlertRecordRow>> MysqlStore::ListAlertRecords(
    int64_t tenant_id, absl::string_view channel, int kind, int page_size,
    int64_t before_id) {
  RETURN_IF_ERROR(CheckPageSize(page_size));
  std::vector<AlertRecordRow> records;
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    // One statement text per filter combination, so each uses its index.
    static const std::string kHead =
        absl::StrCat("SELECT ", kAlertRecordColumns,
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
    ASSIGN_OR_RETURN(stmt, db.Prepare(sql));
    stmt->Bind(1, tenant_id)
        .Bind(2,
              before_id > 0 ? before_id : std::numeric_limits<int64_t>::max());
    int p = 3;
    if (!channel.empty()) stmt->Bind(p++, channel);
    if (kind != 0) stmt->Bind(p++, static_cast<int64_t>(kind));
    stmt->Bind(p, static_cast<int64_t>(page_size));
    return QueryAll(*stmt, ReadAlertRecordRow, records);
  }));
  return records;
}

absl::StatusOr<std::vector<OldestUnsentMessage>>
MysqlStore::OldestUnsentMessages() {
  std::vector<OldestUnsentMessage> out;
  RETURN_IF_ERROR(Read(
      [&](MysqlConnection& db) -> absl::Status {
        out.clear();
        // Both queries walk the index messages_unsent (status, tenant_id,
        // create_time, row_id): QUEUED (1) and WAITING (3) rows only.
        {
          static const std::string kCounts =
              "SELECT tenant_id, COUNT(*) FROM messages WHERE status IN (1, "
              "3) GROUP BY tenant_id ORDER BY tenant_id";
          ASSIGN_OR_RETURN(stmt, db.Prepare(kCounts));
          ASSIGN_OR_RETURN(rows, stmt->Query());
          while (true) {
            ASSIGN_OR_RETURN(more, rows->Next());
            if (!more) break;
            OldestUnsentMessage m;
            m.tenant_id = rows->Int(0);
            m.unsent_count = rows->Int(1);
            out.push_back(std::move(m));
          }
        }
        // The oldest of each status from the index's order, then the older
        // of the two.
        static const std::string kOldest =
            "SELECT id, create_time, row_id FROM messages WHERE status = ? "
            "AND tenant_id = ? ORDER BY create_time, row_id LIMIT 1";
        for (OldestUnsentMessage& m : out) {
          bool found_any = false;
          std::tuple<absl::Time, int64_t> best;
          for (MessageStatus status :
               {MessageStatus::kQueued, MessageStatus::kWaiting}) {
            ASSIGN_OR_RETURN(stmt, db.Prepare(kOldest));
            stmt->Bind(1, static_cast<int64_t>(status)).Bind(2, m.tenant_id);
            ASSIGN_OR_RETURN(rows, stmt->Query());
            ASSIGN_OR_RETURN(found, rows->Next());
            if (!found) continue;
            std::tuple<absl::Time, int64_t> key(rows->Time(1), rows->Int(2));
            if (found_any && !(key < best)) continue;
            found_any = true;
            best = key;
            m.message_id = rows->Text(0);
            m.status = status;
            m.create_time = std::get<0>(key);
          }
          if (!found_any) {
            return absl::InternalError("unsent message vanished");
          }
        }
        return absl::OkStatus();
      },
      /*snapshot=*/true));
  return out;
}

absl::StatusOr<AlertWindow> MysqlStore::ClaimAlertWindow(int64_t tenant_id,
                                                         absl::string_view key,
                                                         absl::Time now,
                                                         absl::Time until) {
  AlertWindow window;
  std::string window_key(key);
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    window = AlertWindow();
    {
      // Makes sure the row exists (new: ended) and locks it: concurrent
      // claims of one window queue here, so each sees the one before.
      static const std::string kEnsure =
          "INSERT INTO alert_windows (tenant_id, window_key, end_time, note) "
          "VALUES (?, ?, NULL, '') ON DUPLICATE KEY UPDATE tenant_id = "
          "tenant_id";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kEnsure));
      stmt->Bind(1, tenant_id).Bind(2, window_key);
      RETURN_IF_ERROR(stmt->Execute().status());
    }
    {
      static const std::string kFind =
          "SELECT end_time, note FROM alert_windows WHERE tenant_id = ? AND "
          "window_key = ? FOR UPDATE";
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kFind));
      stmt->Bind(1, tenant_id).Bind(2, window_key);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      ASSIGN_OR_RETURN(found, rows->Next());
      if (!found) return absl::InternalError("alert window vanished");
      window.note = rows->Text(1);
      // NULL: ended (new, or created by SetAlertWindowNote).
      if (!rows->IsNull(0) && rows->Time(0) > now) return absl::OkStatus();
    }
    static const std::string kClaim =
        "UPDATE alert_windows SET end_time = ? WHERE tenant_id = ? AND "
        "window_key = ?";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kClaim));
    stmt->BindTime(1, until).Bind(2, tenant_id).Bind(3, window_key);
    RETURN_IF_ERROR(stmt->Execute().status());
    window.claimed = true;
    return absl::OkStatus();
  }));
  return window;
}

absl::Status MysqlStore::SetAlertWindowNote(int64_t tenant_id,
                                            absl::string_view key,
                                            absl::string_view note) {
  std::string window_key(key);
  std::string text(note);
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    // A new window starts ended (end_time NULL): the next claim takes it.
    static const std::string kSql =
        "INSERT INTO alert_windows (tenant_id, window_key, end_time, note) "
        "VALUES (?, ?, NULL, ?) ON DUPLICATE KEY UPDATE note = VALUES(note)";
    ASSIGN_OR_RETURN(stmt, tx->Prepare(kSql));
    stmt->Bind(1, tenant_id).Bind(2, window_key).Bind(3, text);
    return stmt->Execute().status();
  });
}

}  // namespace deliverd::store
