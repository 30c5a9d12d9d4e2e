// The list-cleaning pipeline: a whole mailing list, fed in chunks of rows,
// comes out as one decision per row (kept, or removed with a reason) and a
// running summary. `deliverctl clean --local` and the server's CleanList RPC
// both drive it; neither the CSV format nor the suppression store is known
// here (the suppression check is a callback).
//
// Per row, in this order (the first that applies decides):
//   invalid        the address does not parse (verdict undeliverable,
//                  valid = false)
//   duplicate      its normalised form (hygiene/address.h: domain lower-case
//                  A-labels, local part as sent, case kept) was seen in an
//                  earlier row; the first occurrence is the one judged
//   suppressed     the suppression callback says so
//   undeliverable  the verifier says so (special-use domain; with DNS also
//                  NXDOMAIN, null MX, no mail host)
//   risky          only with remove_risky (role, disposable, typo)
// Everything else is kept, with its verdict. Suppression is checked before
// deliverability because it is the tenant's own decision about the address
// and holds whatever DNS says; only valid first occurrences are sent to the
// callback, so it sees each address once.
//
// Memory: what survives a chunk is the dedupe set and the per-domain route
// cache (hygiene/verifier.h). The dedupe set holds a 64-bit hash of each
// normalised address, 8 bytes per distinct address in an open-addressing
// table (~16 MB for 1,000,000 addresses), instead of the strings (~50+
// bytes each). The price: two different addresses with the same hash would
// make the second a "duplicate". For n distinct addresses the chance of any
// collision is about n^2 / 2^65: 3e-8 for a million, 3e-6 for ten million.
// We accept that; a cleaning run that wrongly drops one address in tens of
// millions of runs is not worth 5x the memory.
//
// Chunking never changes the outcome: rows are judged in order and the
// state carried between chunks is exactly what one big chunk would build.
//
// Errors: CleanChunk fails only when the suppression callback fails; the
// run should then stop (the chunk's addresses are already in the dedupe set,
// so retrying the chunk would call them duplicates). The summary counts only
// chunks that succeeded. Not thread-safe: one ListCleaner per list.
// The resolver (when given) must outlive the cleaner.
#ifndef DELIVERD_HYGIENE_CLEANER_H_
#define DELIVERD_HYGIENE_CLEANER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "auth_checks/dns/resolver.h"
#include "hygiene/offline_verdict.h"
#include "hygiene/verifier.h"

namespace deliverd::hygiene {

enum class RemovalReason {
  kNone,  // kept
  kInvalid,
  kDuplicate,
  kSuppressed,
  kUndeliverable,
  kRisky,
};

// "" (kept), "invalid", "duplicate", "suppressed", "undeliverable", "risky":
// the spelling in reports, the removed-rows file and CleanListRowResult.
absl::string_view RemovalReasonName(RemovalReason reason);

// Given normalised addresses, whether each is suppressed (same length and
// order). May fail (a store error); the cleaner passes the error on.
using SuppressionCheck = std::function<absl::StatusOr<std::vector<bool>>(
    const std::vector<std::string>& normalized)>;

struct CleanOptions {
  // Also remove risky addresses (default: keep them, flagged by the verdict).
  bool remove_risky = false;
  // For DNS verification; null means offline (syntax and lists only).
  auth_checks::dns::Resolver* resolver = nullptr;
  // Null: no suppression check (e.g. `deliverctl clean --local`).
  SuppressionCheck suppressed;
};

struct CleanInput {
  int64_t row_number = 0;  // the caller's, echoed back
  std::string address;
};

struct CleanResult {
  int64_t row_number = 0;
  AddressVerdict verdict;
  bool kept = false;
  RemovalReason removal = RemovalReason::kNone;
};

struct CleanSummary {
  int64_t rows = 0;
  int64_t kept = 0;
  int64_t removed = 0;
  int64_t duplicates = 0;
  // Every row's verdict ("deliverable", ...), duplicates included.
  std::map<std::string, int64_t> by_verdict;
  // Removed rows by RemovalReasonName.
  std::map<std::string, int64_t> removed_by_reason;
};

// Adds one row's result to `summary` (exposed so a client that receives
// results over the wire can keep the same summary).
void CountResult(const CleanResult& result, CleanSummary* summary);

class ListCleaner {
 public:
  explicit ListCleaner(CleanOptions options);

  // Judges `rows` in order; one result per row, in the same order.
  absl::StatusOr<std::vector<CleanResult>> CleanChunk(
      const std::vector<CleanInput>& rows);

  const CleanSummary& summary() const { return summary_; }
  // Distinct valid addresses seen so far.
  size_t distinct() const { return seen_size_; }

 private:
  // Inserts `hash`; false when it was already there.
  bool InsertHash(uint64_t hash);

  CleanOptions options_;
  MailRouteCache routes_;
  CleanSummary summary_;
  // Open addressing, linear probing; 0 marks an empty slot (a hash of 0 is
  // stored as 1). Size is a power of two, kept at most half full.
  std::vector<uint64_t> seen_;
  size_t seen_size_ = 0;
};

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_CLEANER_H_
