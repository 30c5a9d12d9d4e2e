// SQL text for multi-row statements and IN lists in the MySQL store.
//
// Statement and list sizes are powers of two (IN lists padded by repeating
// the last value, which changes nothing), so each pooled connection caches
// only a handful of statement texts per query kind however batch sizes vary:
// every distinct text is a server-side prepared statement, and the server
// caps how many exist (max_prepared_stmt_count).
#ifndef DELIVERD_SERVER_STORE_MYSQL_SQL_H_
#define DELIVERD_SERVER_STORE_MYSQL_SQL_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::store {

// Rows per multi-row statement, at most.
inline constexpr size_t kMaxRowsPerStatement = 128;
// Payload bytes per multi-row statement, at most (well under MariaDB's
// default 16 MB max_allowed_packet); one larger row still goes alone.
inline constexpr size_t kMaxBytesPerStatement = 4 << 20;
// Values per IN (...) list, at most: a lookup for a whole 1,000-message
// batch is one query.
inline constexpr size_t kMaxInList = 1024;

// Splits rows (of the given payload sizes) into statement sizes: each a
// power of two, at most kMaxRowsPerStatement rows and, unless one row alone
// exceeds it, kMaxBytesPerStatement bytes.
std::vector<size_t> MysqlChunkSizes(const std::vector<size_t>& row_bytes);
std::vector<size_t> MysqlChunkSizes(size_t count);

// A slice of values for one IN-list query: values [start, start + count),
// with `padded` (a power of two) placeholders; the extra ones repeat the
// last value.
struct InChunk {
  size_t start;
  size_t count;
  size_t padded;
  // The value index to bind at placeholder `i` (0-based).
  size_t At(size_t i) const { return start + std::min(i, count - 1); }
};

// Chunks of at most `max_per_list` values covering n values.
std::vector<InChunk> InListChunks(size_t n, size_t max_per_list = kMaxInList);

// "<head><row>,<row>,...<tail>" with `n` rows: the text of a multi-row
// statement or an IN list (placeholders only; values are always bound).
std::string MysqlMultiRowSql(absl::string_view head, absl::string_view row,
                             size_t n, absl::string_view tail);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_MYSQL_SQL_H_
