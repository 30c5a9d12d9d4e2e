// Which (tenant, address) pairs may have a suppression: an in-memory set the
// embedded store keeps so that looking up an address with none, nearly
// every recipient of nearly every Send, needs no read transaction (about a
// tenth of the server's CPU per Send at 32 callers, bench/send_bench).
//
// Contract: MayContain() is true for every pair Add() was given; it may be
// true for others (removed suppressions stay; two pairs can share a 64-bit
// hash), so "maybe" always means "ask the database". Past max_entries pairs
// the filter stops keeping them and answers "maybe" for every pair, so its
// memory stays under about 64 MB. The owner must Add() every pair before the
// row that suppresses it is committed, and every pair already stored before
// the first lookup (SqliteStore: at Open, and in UpsertSuppressionRow).
//
// Thread-safe.
#ifndef DELIVERD_SERVER_STORE_SUPPRESSED_ADDRESSES_H_
#define DELIVERD_SERVER_STORE_SUPPRESSED_ADDRESSES_H_

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace deliverd::store {

class SuppressedAddresses {
 public:
  static constexpr size_t kMaxEntries = 4'000'000;

  explicit SuppressedAddresses(size_t max_entries = kMaxEntries)
      : max_entries_(max_entries) {}

  // `address_key` is the stored form (AddressKey()).
  void Add(int64_t tenant_id, absl::string_view address_key);
  bool MayContain(int64_t tenant_id, absl::string_view address_key) const;

 private:
  static uint64_t Key(int64_t tenant_id, absl::string_view address_key);

  const size_t max_entries_;
  mutable std::mutex mu_;
  bool full_ = false;
  absl::flat_hash_set<uint64_t> keys_;
};

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_SUPPRESSED_ADDRESSES_H_
