// Encodings and decisions shared by both stores (declared in store_codec.h).
#include "server/store/store_codec.h"

#include <openssl/rand.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace deliverd::store {

std::string AddressKey(absl::string_view address) {
  return absl::AsciiStrToLower(address);
}

std::string JoinTags(const std::vector<std::string>& tags) {
  return absl::StrJoin(tags, ",");
}

std::vector<std::string> SplitTags(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',');
}

std::string EncodeCounts(
    const std::vector<std::pair<std::string, int64_t>>& counts) {
  std::string out;
  for (const auto& [key, count] : counts) {
    absl::StrAppend(&out, key, "=", count, "\n");
  }
  return out;
}

std::vector<std::pair<std::string, int64_t>> DecodeCounts(
    const std::string& text) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    int64_t count = 0;
    if (!absl::SimpleAtoi(kv.second, &count)) continue;
    out.emplace_back(std::string(kv.first), count);
  }
  return out;
}

std::string NewJobId() {
  unsigned char bytes[9];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Unreachable in practice; the time keeps ids distinct anyway.
    return absl::StrCat("j_", absl::ToUnixNanos(absl::Now()));
  }
  return absl::StrCat(
      "j_", absl::BytesToHexString(absl::string_view(
                reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

absl::Time StoredTime(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

std::optional<InsertOutcome> RepeatedRequestOutcome(
    const NewMessage& item, absl::string_view record_hash,
    absl::string_view record_message_id, absl::Time record_time) {
  if (record_time <= item.message.create_time - kIdempotencyWindow) {
    return std::nullopt;
  }
  InsertOutcome outcome;
  if (record_hash != item.request_hash) {
    outcome.status = absl::InvalidArgumentError(
        "request_id: already used within 24 hours for a different request");
    return outcome;
  }
  outcome.message_id = std::string(record_message_id);
  outcome.replayed = true;
  return outcome;
}

absl::Status CheckPageSize(int page_size) {
  if (page_size <= 0) {
    return absl::InvalidArgumentError("page_size must be positive");
  }
  return absl::OkStatus();
}

void TrimMessagePage(int page_size, MessagePage& page) {
  if (page.messages.size() <= static_cast<size_t>(page_size)) return;
  page.messages.resize(page_size);
  const Message& last = page.messages.back();
  page.next = MessageCursor{last.create_time, last.row_id};
}

void TrimSuppressionPage(int page_size, SuppressionPage& page) {
  if (page.suppressions.size() <= static_cast<size_t>(page_size)) return;
  page.suppressions.resize(page_size);
  const Suppression& last = page.suppressions.back();
  page.next = SuppressionCursor{last.address, last.scope};
}

bool EventMatches(const EventFilter& filter, const Event& e) {
  if (!filter.types.empty() &&
      std::find(filter.types.begin(), filter.types.end(), e.type) ==
          filter.types.end()) {
    return false;
  }
  return filter.tag.empty() ||
         std::find(e.tags.begin(), e.tags.end(), filter.tag) != e.tags.end();
}

absl::Status NotSuppressedError(absl::string_view key,
                                absl::string_view scope) {
  return absl::NotFoundError(
      absl::StrCat("address: ", key, " is not suppressed",
                   scope.empty() ? "" : absl::StrCat(" in scope ", scope)));
}

absl::Status CleaningJobNotFoundError(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("cleaning job ", id, " not found"));
}

std::string JoinAlertChannels(const std::vector<std::string>& names) {
  return absl::StrJoin(names, ",");
}

std::vector<std::string> SplitAlertChannels(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',');
}

bool AlertChannelsName(const std::string& joined, absl::string_view name) {
  for (absl::string_view channel : absl::StrSplit(joined, ',')) {
    if (channel == name) return true;
  }
  return false;
}

absl::Status AlertChannelExistsError(absl::string_view name) {
  return absl::AlreadyExistsError(
      absl::StrCat("alert channel ", name, " already exists"));
}

absl::Status AlertChannelNotFoundError(absl::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("alert channel ", name, " not found"));
}

absl::Status AlertChannelInUseError(absl::string_view name,
                                    absl::string_view rule_id) {
  return absl::FailedPreconditionError(absl::StrCat(
      "alert channel ", name, " is used by alert rule ", rule_id));
}

absl::Status AlertRuleChannelMissingError(absl::string_view rule_id,
                                          absl::string_view channel) {
  return absl::FailedPreconditionError(
      absl::StrCat("alert rule ", rule_id, ": alert channel ", channel,
                   " does not exist"));
}

absl::Status AlertRuleExistsError(absl::string_view id) {
  return absl::AlreadyExistsError(
      absl::StrCat("alert rule ", id, " already exists"));
}

absl::Status AlertRuleNotFoundError(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("alert rule ", id, " not found"));
}

}  // namespace deliverd::store
