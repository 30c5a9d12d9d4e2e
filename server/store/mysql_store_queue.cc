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
  // Messages whose next attempt is due and whose lease (if any) is over
  // (due_time covers both), the longest-waiting first. Rows another replica
  // is claiming right now are skipped rather than waited for. Content comes
  // with the row: one round trip fewer. The due index is forced: when most
  // rows match, the optimizer may otherwise pick a full scan plus sort,
  // locking far more than `limit` rows on the way.
  static const std::string kDue = absl::StrCat(
      "SELECT ", kMysqlMessageColumns,
      ", content FROM messages FORCE INDEX (messages_due) WHERE "
      "due_time <= ? ORDER BY due_time, row_id LIMIT ? FOR UPDATE SKIP "
      "LOCKED");
  std::vector<Message> claimed;
  std::string lease_owner(owner);
  // A transaction of its own, not a write group: claims must not wait
  // behind a group of inserts.
  RETURN_IF_ERROR(Transact([&](Tx& tx) -> absl::Status {
    claimed.clear();
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kDue));
      // SQLite reads a negative LIMIT as "no limit"; MySQL refuses one.
      stmt->BindTime(1, now).Bind(
          2, limit < 0 ? std::numeric_limits<int64_t>::max()
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
        update, tx->Prepare(absl::StrCat(
                    "UPDATE messages SET lease_owner = ?, lease_until = ?, "
                    "due_time = GREATEST(next_attempt_time, ?) WHERE row_id "
                    "IN (",
                    marks, ")")));
    update->Bind(1, lease_owner).BindTime(2, now + lease).BindTime(3, now + lease);
    for (size_t i = 0; i < padded; ++i) {
      update->Bind(static_cast<int>(i) + 4,
                   claimed[std::min(i, claimed.size() - 1)].row_id);
    }
    RETURN_IF_ERROR(update->Execute().status());
    return LoadMysqlRecipientsOf(tx.db(), claimed);
  }));
  return claimed;
}

void MysqlStore::RecordDeliveryAsync(
    std::shared_ptr<const DeliveryUpdate> shared, RecordCallback done) {
  auto run = [shared](Tx& tx) -> absl::Status {
    const DeliveryUpdate& update = *shared;
    // The update itself checks the lease (and locks the row): no claim by
    // another replica can slip in between a check and the write, and a
    // lost lease changes nothing. Two statements per message on the
    // delivery path, plus the group's shared ones.
    if (update.recipients.size() == 1) {
      // Most mail has one recipient: the message and its recipient change
      // in one statement (a round trip fewer per delivery).
      static const std::string kBoth =
          "UPDATE messages m JOIN message_recipients r ON r.message_row = "
          "m.row_id AND r.position = 0 SET m.status = ?, m.update_time = ?, "
          "m.next_attempt_time = ?, m.due_time = ?, m.attempt_count = ?, "
          "m.lease_owner = NULL, m.lease_until = NULL, r.status = ?, "
          "r.detail = ?, r.reply_code = ?, r.reply_enhanced = ?, "
          "r.reply_text = ?, r.reply_host = ? WHERE m.tenant_id = ? AND "
          "m.id = ? AND m.lease_owner = ?";
      const Recipient& r = update.recipients[0];
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kBoth));
      stmt->Bind(1, static_cast<int64_t>(update.status))
          .BindTime(2, absl::Now())
          .BindOptionalTime(3, update.next_attempt_time)
          .BindOptionalTime(4, update.next_attempt_time)
          .Bind(5, static_cast<int64_t>(update.attempt_count))
          .Bind(6, static_cast<int64_t>(r.status))
          .Bind(7, r.detail)
          .Bind(8, static_cast<int64_t>(r.last_reply.code))
          .Bind(9, r.last_reply.enhanced_code)
          .Bind(10, r.last_reply.text)
          .Bind(11, r.last_reply.remote_host)
          .Bind(12, update.tenant_id)
          .Bind(13, update.message_id)
          .Bind(14, update.lease_owner);
      ASSIGN_OR_RETURN(matched, stmt->Execute());
      if (matched == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "lease on message ", update.message_id, " is no longer held by ",
            update.lease_owner));
      }
      for (const Event& e : update.events) tx.AppendEventWithMessageTags(e);
      for (const Suppression& s : update.new_suppressions) {
        RETURN_IF_ERROR(UpsertMysqlSuppressionRow(tx.db(), s, "delivery"));
      }
      return absl::OkStatus();
    }
    static const std::string kUpdate =
        "UPDATE messages SET status = ?, update_time = ?, next_attempt_time = "
        "?, due_time = ?, attempt_count = ?, lease_owner = NULL, lease_until "
        "= NULL WHERE tenant_id = ? AND id = ? AND lease_owner = ?";
    {
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kUpdate));
      stmt->Bind(1, static_cast<int64_t>(update.status))
          .BindTime(2, absl::Now())
          .BindOptionalTime(3, update.next_attempt_time)
          .BindOptionalTime(4, update.next_attempt_time)
          .Bind(5, static_cast<int64_t>(update.attempt_count))
          .Bind(6, update.tenant_id)
          .Bind(7, update.message_id)
          .Bind(8, update.lease_owner);
      ASSIGN_OR_RETURN(matched, stmt->Execute());
      if (matched == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "lease on message ", update.message_id, " is no longer held by ",
            update.lease_owner));
      }
    }
    static const std::string kRecipient =
        "UPDATE message_recipients r JOIN messages m ON m.row_id = "
        "r.message_row SET r.status = ?, r.detail = ?, r.reply_code = ?, "
        "r.reply_enhanced = ?, r.reply_text = ?, r.reply_host = ? WHERE "
        "m.id = ? AND r.position = ?";
    for (size_t i = 0; i < update.recipients.size(); ++i) {
      const Recipient& r = update.recipients[i];
      ASSIGN_OR_RETURN(stmt, tx->Prepare(kRecipient));
      stmt->Bind(1, static_cast<int64_t>(r.status))
          .Bind(2, r.detail)
          .Bind(3, static_cast<int64_t>(r.last_reply.code))
          .Bind(4, r.last_reply.enhanced_code)
          .Bind(5, r.last_reply.text)
          .Bind(6, r.last_reply.remote_host)
          .Bind(7, update.message_id)
          .Bind(8, static_cast<int64_t>(i));
      RETURN_IF_ERROR(stmt->Execute().status());
    }
    for (const Event& e : update.events) tx.AppendEventWithMessageTags(e);
    for (const Suppression& s : update.new_suppressions) {
      RETURN_IF_ERROR(UpsertMysqlSuppressionRow(tx.db(), s, "delivery"));
    }
    return absl::OkStatus();
  };
  // `done` must not block, so it runs on the writer thread.
  Submit({std::move(run), std::move(done), /*done_inline=*/true});
}

absl::Status MysqlStore::ReleaseAllLeases() {
  return WriteAndWait([](Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx->Exec(
        "UPDATE messages SET lease_owner = NULL, lease_until = NULL, "
        "due_time = next_attempt_time WHERE lease_owner IS NOT NULL"));
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
  // due_time is already max(next_attempt_time, lease_until): the first row
  // of its index is the answer.
  static const std::string kFirst =
      "SELECT MIN(due_time) FROM messages";
  absl::Time next = absl::InfiniteFuture();
  RETURN_IF_ERROR(Read([&](MysqlConnection& db) -> absl::Status {
    ASSIGN_OR_RETURN(stmt, db.Prepare(kFirst));
    ASSIGN_OR_RETURN(rows, stmt->Query());
    ASSIGN_OR_RETURN(found, rows->Next());
    next = found ? rows->Time(0) : absl::InfiniteFuture();  // NULL: none
    return absl::OkStatus();
  }));
  return next;
}

}  // namespace deliverd::store
