// A small table printer for terminal output: columns aligned by display
// width, two spaces between columns, no trailing whitespace.
//
// Contract: cells are sanitized (SanitizeForTerminal) before measuring, so a
// cell is always one line; rows may have fewer cells than there are columns
// (the rest are empty) or more (the table grows). A table without headers is
// used for "label: value" blocks. Render() of a table with no rows and no
// headers is empty.
#ifndef DELIVERD_CLIENT_TABLE_H_
#define DELIVERD_CLIENT_TABLE_H_

#include <cstddef>
#include <string>
#include <vector>

namespace deliverd::client {

class Table {
 public:
  enum class Align { kLeft, kRight };

  // Empty `headers`: no header line.
  explicit Table(const std::vector<std::string>& headers = {});

  // Right-aligns a column (counts read better that way).
  void SetAlign(size_t column, Align align);

  void AddRow(std::vector<std::string> cells);

  size_t row_count() const { return rows_.size(); }

  // The whole table, each line ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<Align> aligns_;
};

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_TABLE_H_
