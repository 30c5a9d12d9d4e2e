// Encodings of stored values shared by both stores (SqliteStore and
// MysqlStore), and the pure decisions both make about rows read back:
// address keys, joined tags, cleaning run counts, job ids, paging, event
// filters, idempotent replays, alert rules' channel lists and the alert
// errors. Both stores call these, so one database written by either reads
// the same through the other, and the two cannot drift apart.
//
// Nothing here touches a database or holds state: every function is pure
// (NewJobId reads only the system's random source) and thread-safe.
#ifndef DELIVERD_SERVER_STORE_STORE_CODEC_H_
#define DELIVERD_SERVER_STORE_STORE_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/store.h"
#include "server/store/types.h"

namespace deliverd::store {

// The key for case-insensitive address lookups (suppressions, scores,
// subscriptions and MySQL's *_key columns): ASCII lower case, the same
// folding SQLite's NOCASE does.
std::string AddressKey(absl::string_view address);

// A message's or event's tags as one column: joined with ','. An empty
// column is no tags.
std::string JoinTags(const std::vector<std::string>& tags);
std::vector<std::string> SplitTags(const std::string& joined);

// Counts keyed by short names ("deliverable") as "name=count" lines (the
// cleaning run summary's by_verdict and removed_by_reason); the names never
// contain '=' or a newline. Decoding skips lines without a number.
std::string EncodeCounts(
    const std::vector<std::pair<std::string, int64_t>>& counts);
std::vector<std::pair<std::string, int64_t>> DecodeCounts(
    const std::string& text);

// A new cleaning job id: "j_" and 18 random hex digits.
std::string NewJobId();

// `t` as the stores keep it: to the microsecond, so what a call returns
// equals what a later read returns. Infinite times stay as they are.
absl::Time StoredTime(absl::Time t);

// A recipient from `row`'s columns first, first + 1, ... : address, kind,
// status, detail, reply_code, reply_enhanced, reply_text, reply_host,
// suppression_override. `Row` is either store's row (SqliteStatement,
// MysqlRows): anything with Int(column) and Text(column).
template <typename Row>
Recipient ReadRecipientColumns(const Row& row, int first) {
  Recipient r;
  r.address = row.Text(first);
  r.kind = static_cast<RecipientKind>(row.Int(first + 1));
  r.status = static_cast<MessageStatus>(row.Int(first + 2));
  r.detail = row.Text(first + 3);
  r.last_reply.code = static_cast<int>(row.Int(first + 4));
  r.last_reply.enhanced_code = row.Text(first + 5);
  r.last_reply.text = row.Text(first + 6);
  r.last_reply.remote_host = row.Text(first + 7);
  r.suppression_override = row.Int(first + 8) != 0;
  return r;
}

// What InsertMessages answers for `item` when its request id already has a
// record (`record_hash`, `record_message_id`, made at `record_time`): while
// the record is within kIdempotencyWindow, a replay of the earlier message
// or, for a different request, INVALID_ARGUMENT; nullopt once it is older
// (the item is inserted and the record replaced).
std::optional<InsertOutcome> RepeatedRequestOutcome(
    const NewMessage& item, absl::string_view record_hash,
    absl::string_view record_message_id, absl::Time record_time);

// INVALID_ARGUMENT unless page_size is positive (ListMessages,
// ListSuppressions).
absl::Status CheckPageSize(int page_size);

// A page read with one row more than `page_size`: drops that row and sets
// `next` to the last row kept when there was one (more pages follow).
void TrimMessagePage(int page_size, MessagePage& page);
void TrimSuppressionPage(int page_size, SuppressionPage& page);

// Whether ReadEvents returns `e` (read for `filter`'s message, if any):
// one of filter.types, if any, and tagged filter.tag, if set.
bool EventMatches(const EventFilter& filter, const Event& e);

// NOT_FOUND for removing a suppression of `key` in `scope` that is not
// there.
absl::Status NotSuppressedError(absl::string_view key, absl::string_view scope);

// NOT_FOUND for cleaning job `id`.
absl::Status CleaningJobNotFoundError(absl::string_view id);

// An alert rule's channel names as one column: joined with ',' (names never
// contain one). An empty column is no channels.
std::string JoinAlertChannels(const std::vector<std::string>& names);
std::vector<std::string> SplitAlertChannels(const std::string& joined);
// Whether a rule's joined `channels` column names channel `name`.
bool AlertChannelsName(const std::string& joined, absl::string_view name);

// The alert store errors, worded alike by both stores.
absl::Status AlertChannelExistsError(absl::string_view name);
absl::Status AlertChannelNotFoundError(absl::string_view name);
// FAILED_PRECONDITION: DeleteAlertChannel while rule `rule_id` names it.
absl::Status AlertChannelInUseError(absl::string_view name,
                                    absl::string_view rule_id);
// FAILED_PRECONDITION: CreateAlertRule naming a channel that is not there.
absl::Status AlertRuleChannelMissingError(absl::string_view rule_id,
                                          absl::string_view channel);
absl::Status AlertRuleExistsError(absl::string_view id);
absl::Status AlertRuleNotFoundError(absl::string_view id);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_STORE_CODEC_H_
