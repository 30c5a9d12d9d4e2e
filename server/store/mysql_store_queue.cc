// MysqlStore: the delivery queue — claiming due messages under a lease,
// recording delivery attempts, releasing leases at start-up and telling the
// dispatcher when work is next due. Same semantics as SqliteStore; what MySQL
// adds is that several replicas claim at once, which SELECT ... FOR UPDATE
// SKIP LOCKED keeps apart.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/store/mysql_rows.h"
#include "server/store/mysql_store.h"
#include "server/store/status_macros.h"

namespace deliverd::store {

namespace {

// "?,?,...": `n` placeholders rounded up to a power of two, so a connection
// caches few statement texts; the caller repeats its last value in the
// extra slots (harmless in an IN list).
std::string PaddedMarks(size_t n, size_t* padded) {
  size_t size = 1;
  while (size < n) size *= 2;
  *padded = size;
  std::string marks;
  for (size_t i = 0; i < size; ++i) absl::StrAppend(&marks, i ? ",?" : "?");
  return marks;
}

}  // namespace

absl::StatusOr<std::vector<Message>> MysqlStore::ClaimDueMessages(
    absl::string_view owner, absl::Time now, absl::Duration lease, int limit) {
  // Messages whose next attempt is due and whose lease (if any) is over, the
  // longest-waiting first. Rows another replica is claiming right now are
  // skipped rather than waited for. Content comes with the row: one round
  // trip fewer. The due index is forced: when most rows match, the optimizer
  // may otherwise pick a full scan plus sort, locking far more than `limit`
  // rows on the way.
  static const std::string kDue = absl::StrCat(
      "SELECT ", kMysqlMessageColumns,
      ", content FROM messages FORCE INDEX (messages_due) WHERE "
      "next_attempt_time <= ? AND (lease_until "
      "IS NULL OR lease_until <= ?) ORDER BY next_attempt_time, row_id LIMIT "
      "? FOR UPDATE SKIP LOCKED");
  std::vector<Message> claimed;
  std::string lease_owner(owner);
  // A transaction of its own, not a write group: claims must not wait
  // behind a group of inserts.
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    claimed.clear();
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kDue));
      // SQLite reads a negative LIMIT as "no limit"; MySQL refuses one.
      stmt->BindTime(1, now).BindTime(2, now).Bind(
          3, limit < 0 ? std::numeric_limits<int64_t>::max()
                       : static_cast<int64_t>(limit));
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        claimed.push_back(ReadMysqlMessageRow(*rows));
        claimed.back().content = rows->Text(18);
      }
    }
    if (claimed.empty()) return absl::OkStatus();

    size_t padded = 0;
    std::string marks = PaddedMarks(claimed.size(), &padded);
    ASSIGN_OR_RETURN(
        update, tx->Prepare(absl::StrCat("UPDATE messages SET lease_owner = ?, "
                                         "lease_until = ? WHERE row_id IN (",
                                         marks, ")")));
    update->Bind(1, lease_owner).BindTime(2, now + lease);
    for (size_t i = 0; i < padded; ++i) {
      update->Bind(static_cast<int>(i) + 3,
                   claimed[std::min(i, claimed.size() - 1)].row_id);
    }
    RETURN_IF_ERROR(update->Execute().status());
    return LoadMysqlRecipientsOf(tx.db(), claimed);
  }));
  return claimed;
}

absl::Status MysqlStore::RecordDelivery(const DeliveryUpdate& update) {
  return WriteAndWait([&](Tx& tx) -> absl::Status {
    // Locks the row: a claim by another replica (after the lease ran out)
    // cannot slip in between this check and the update.
    static const std::string kFind =
        "SELECT row_id, tags FROM messages WHERE tenant_id = ? AND id = ? AND "
        "lease_owner = ? FOR UPDATE";
    int64_t row_id = 0;
    std::string tags;
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kFind));
      stmt->Bind(1, update.tenant_id)
          .Bind(2, update.message_id)
          .Bind(3, update.lease_owner);
      ASSIGN_OR_RETURN(rows, stmt->Query());
      ASSIGN_OR_RETURN(found, rows->Next());
      if (!found) {
        return absl::FailedPreconditionError(absl::StrCat(
            "lease on message ", update.message_id, " is no longer held by ",
            update.lease_owner));
      }
      row_id = rows->Int(0);
      tags = rows->Text(1);
    }
    static const std::string kUpdate =
        "UPDATE messages SET status = ?, update_time = ?, next_attempt_time = "
        "?, attempt_count = ?, lease_owner = NULL, lease_until = NULL WHERE "
        "row_id = ?";
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kUpdate));
      stmt->Bind(1, static_cast<int64_t>(update.status))
          .BindTime(2, absl::Now())
          .BindOptionalTime(3, update.next_attempt_time)
          .Bind(4, static_cast<int64_t>(update.attempt_count))
          .Bind(5, row_id);
      RETURN_IF_ERROR(stmt->Execute().status());
    }
    static const std::string kRecipient =
        "UPDATE message_recipients SET status = ?, detail = ?, reply_code = ?, "
        "reply_enhanced = ?, reply_text = ?, reply_host = ? WHERE message_row "
        "= ? AND position = ?";
    for (size_t i = 0; i < update.recipients.size(); ++i) {
      const Recipient& r = update.recipients[i];
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kRecipient));
      stmt->Bind(1, static_cast<int64_t>(r.status))
          .Bind(2, r.detail)
          .Bind(3, static_cast<int64_t>(r.last_reply.code))
          .Bind(4, r.last_reply.enhanced_code)
          .Bind(5, r.last_reply.text)
          .Bind(6, r.last_reply.remote_host)
          .Bind(7, row_id)
          .Bind(8, static_cast<int64_t>(i));
      RETURN_IF_ERROR(stmt->Execute().status());
    }
    for (const Event& e : update.events) tx.AppendEvent(e, tags);
    for (const Suppression& s : update.new_suppressions) {
      RETURN_IF_ERROR(UpsertMysqlSuppressionRow(tx.db(), s, "delivery"));
    }
    return absl::OkStatus();
  });
}

absl::Status MysqlStore::ReleaseAllLeases() {
  return WriteAndWait([](Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx->Exec(
        "UPDATE messages SET lease_owner = NULL, lease_until = NULL WHERE "
        "lease_owner IS NOT NULL"));
    // A cleaning run cut short by the restart is recorded as failed; a
    // scheduled job keeps its (past) next run time, so it is retried now.
    static const std::string kAbandon =
        "UPDATE cleaning_job_runs SET state = 3, end_time = ?, error = "
        "'abandoned: deliverd stopped during the run' WHERE state = 1";
    ASSIGN_OR_RETURN(abandon, tx->Prepare(kAbandon));
    abandon->BindTime(1, absl::Now());
    RETURN_IF_ERROR(abandon->Execute().status());
    return tx->Exec(
        "UPDATE cleaning_jobs SET lease_owner = NULL, lease_until = NULL "
        "WHERE lease_owner IS NOT NULL");
  });
}

absl::StatusOr<absl::Time> MysqlStore::NextDueTime() {
  // The earliest of max(next_attempt_time, lease_until) over messages with
  // a next attempt (a leased message is not due again before its lease
  // ends), as SqliteStore computes with one MIN over the whole table. Here
  // the due index is walked in order instead and the walk stops once
  // next_attempt_time passes the best time found: usually after one row,
  // since only messages in flight are leased. Should the first rows all be
  // leased far ahead, the full MIN is the fallback. (The index is forced:
  // when every row matches, the optimizer prefers a scan plus sort.)
  constexpr int64_t kWalk = 256;
  static const std::string kFirst = absl::StrCat(
      "SELECT next_attempt_time, lease_until FROM messages FORCE INDEX "
      "(messages_due) WHERE next_attempt_time IS NOT NULL ORDER BY "
      "next_attempt_time LIMIT ",
      kWalk);
  static const std::string kAll =
      "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > "
      "next_attempt_time THEN lease_until ELSE next_attempt_time END) FROM "
      "messages WHERE next_attempt_time IS NOT NULL";
  absl::Time next = absl::InfiniteFuture();
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    next = absl::InfiniteFuture();
    int64_t walked = 0;
    bool settled = false;
    {
      ASSIGN_OR_RETURN(stmt, db.Prepare(kFirst));
      ASSIGN_OR_RETURN(rows, stmt->Query());
      while (true) {
        ASSIGN_OR_RETURN(more, rows->Next());
        if (!more) break;
        ++walked;
        absl::Time due = rows->Time(0);
        if (due >= next) {
          settled = true;  // every later row is due no earlier
          break;
        }
        absl::Time at = due;
        if (!rows->IsNull(1)) at = std::max(at, rows->Time(1));
        next = std::min(next, at);
      }
    }
    if (settled || walked < kWalk) return absl::OkStatus();
    ASSIGN_OR_RETURN(stmt, db.Prepare(kAll));
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    next = found ? rows->Time(0) : absl::InfiniteFuture();  // NULL: none
    return absl::OkStatus();
  }));
  return next;
}

}  // namespace deliverd::store
