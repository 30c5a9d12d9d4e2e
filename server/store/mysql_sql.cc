#include "server/store/mysql_sql.h"

namespace deliverd::store {

std::vector<size_t> MysqlChunkSizes(const std::vector<size_t>& row_bytes) {
  std::vector<size_t> sizes;
  auto split = [&sizes](size_t n) {
    for (size_t size = kMaxRowsPerStatement; n > 0; size /= 2) {
      while (n >= size) {
        sizes.push_back(size);
        n -= size;
      }
    }
  };
  size_t rows = 0;
  size_t bytes = 0;
  for (size_t b : row_bytes) {
    if (rows > 0 && (rows == kMaxRowsPerStatement ||
                     bytes + b > kMaxBytesPerStatement)) {
      split(rows);
      rows = 0;
      bytes = 0;
    }
    ++rows;
    bytes += b;
  }
  split(rows);
  return sizes;
}

std::vector<size_t> MysqlChunkSizes(size_t count) {
  return MysqlChunkSizes(std::vector<size_t>(count, 0));
}

std::vector<InChunk> InListChunks(size_t n, size_t max_per_list) {
  std::vector<InChunk> chunks;
  for (size_t start = 0; start < n; start += max_per_list) {
    size_t count = std::min(max_per_list, n - start);
    size_t padded = 1;
    while (padded < count) padded *= 2;
    chunks.push_back(InChunk{start, count, padded});
  }
  return chunks;
}

std::string MysqlMultiRowSql(absl::string_view head, absl::string_view row,
                             size_t n, absl::string_view tail) {
  std::string sql(head);
  sql.reserve(head.size() + n * (row.size() + 1) + tail.size());
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) sql.push_back(',');
    sql.append(row.data(), row.size());
  }
  sql.append(tail.data(), tail.size());
  return sql;
}

}  // namespace deliverd::store
