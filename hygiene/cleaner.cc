#include "hygiene/cleaner.h"

#include <string_view>
#include <utility>

namespace deliverd::hygiene {

absl::string_view RemovalReasonName(RemovalReason reason) {
  switch (reason) {
    case RemovalReason::kNone:
      return "";
    case RemovalReason::kInvalid:
      return "invalid";
    case RemovalReason::kDuplicate:
      return "duplicate";
    case RemovalReason::kSuppressed:
      return "suppressed";
    case RemovalReason::kUndeliverable:
      return "undeliverable";
    case RemovalReason::kRisky:
      return "risky";
  }
  return "";
}

void CountResult(const CleanResult& result, CleanSummary* summary) {
  ++summary->rows;
  ++summary->by_verdict[std::string(VerdictName(result.verdict.verdict))];
  if (result.kept) {
    ++summary->kept;
    return;
  }
  ++summary->removed;
  if (result.removal == RemovalReason::kDuplicate) ++summary->duplicates;
  ++summary->removed_by_reason[std::string(RemovalReasonName(result.removal))];
}

ListCleaner::ListCleaner(CleanOptions options)
    : options_(std::move(options)), seen_(1 << 10, 0) {}

bool ListCleaner::InsertHash(uint64_t hash) {
  if (hash == 0) hash = 1;
  if ((seen_size_ + 1) * 2 > seen_.size()) {
    std::vector<uint64_t> bigger(seen_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    for (uint64_t h : seen_) {
      if (h == 0) continue;
      size_t i = h & mask;
      while (bigger[i] != 0) i = (i + 1) & mask;
      bigger[i] = h;
    }
    seen_.swap(bigger);
  }
  const size_t mask = seen_.size() - 1;
  // The low bits pick the slot; std::hash on strings mixes all 64 bits.
  size_t i = hash & mask;
  while (seen_[i] != 0) {
    if (seen_[i] == hash) return false;
    i = (i + 1) & mask;
  }
  seen_[i] = hash;
  ++seen_size_;
  return true;
}

absl::StatusOr<std::vector<CleanResult>> ListCleaner::CleanChunk(
    const std::vector<CleanInput>& rows) {
  std::vector<std::string> addresses;
  addresses.reserve(rows.size());
  for (const CleanInput& row : rows) addresses.push_back(row.address);
  std::vector<AddressVerdict> verdicts;
  if (options_.resolver != nullptr) {
    verdicts = VerifyWithDns(*options_.resolver, addresses, &routes_);
  } else {
    verdicts.reserve(rows.size());
    for (const std::string& a : addresses) verdicts.push_back(VerifyOffline(a));
  }
  addresses.clear();

  std::vector<CleanResult> results(rows.size());
  std::vector<size_t> to_check;  // valid first occurrences
  for (size_t i = 0; i < rows.size(); ++i) {
    CleanResult& r = results[i];
    r.row_number = rows[i].row_number;
    r.verdict = std::move(verdicts[i]);
    if (!r.verdict.valid) {
      r.removal = RemovalReason::kInvalid;
      continue;
    }
    // libstdc++'s std::hash<string_view> is a 64-bit Murmur-style hash.
    uint64_t hash = std::hash<std::string_view>()(r.verdict.normalized);
    if (!InsertHash(hash)) {
      r.removal = RemovalReason::kDuplicate;
      continue;
    }
    to_check.push_back(i);
  }

  std::vector<bool> suppressed(to_check.size(), false);
  if (options_.suppressed && !to_check.empty()) {
    std::vector<std::string> normalized;
    normalized.reserve(to_check.size());
    for (size_t i : to_check)
      normalized.push_back(results[i].verdict.normalized);
    absl::StatusOr<std::vector<bool>> answer = options_.suppressed(normalized);
    if (!answer.ok()) return answer.status();
    if (answer->size() != normalized.size()) {
      return absl::InternalError("suppression check answered the wrong count");
    }
    suppressed = *std::move(answer);
  }
  for (size_t k = 0; k < to_check.size(); ++k) {
    CleanResult& r = results[to_check[k]];
    if (suppressed[k]) {
      r.removal = RemovalReason::kSuppressed;
    } else if (r.verdict.verdict == Verdict::kUndeliverable) {
      r.removal = RemovalReason::kUndeliverable;
    } else if (options_.remove_risky && r.verdict.verdict == Verdict::kRisky) {
      r.removal = RemovalReason::kRisky;
    }
  }
  for (CleanResult& r : results) {
    r.kept = r.removal == RemovalReason::kNone;
    CountResult(r, &summary_);
  }
  return results;
}

}  // namespace deliverd::hygiene
