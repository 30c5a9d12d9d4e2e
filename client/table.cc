#include "client/table.h"

#include <algorithm>
#include <utility>

#include "client/text.h"

namespace deliverd::client {

Table::Table(const std::vector<std::string>& headers) {
  for (const std::string& header : headers) {
    headers_.push_back(SanitizeForTerminal(header));
  }
}

void Table::SetAlign(size_t column, Align align) {
  if (aligns_.size() <= column) aligns_.resize(column + 1, Align::kLeft);
  aligns_[column] = align;
}

void Table::AddRow(std::vector<std::string> cells) {
  for (std::string& cell : cells) cell = SanitizeForTerminal(cell);
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  size_t columns = headers_.size();
  for (const auto& row : rows_) columns = std::max(columns, row.size());
  std::vector<size_t> widths(columns, 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  };
  measure(headers_);
  for (const auto& row : rows_) measure(row);

  std::string out;
  const auto render_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const std::string empty;
      const std::string& cell = c < row.size() ? row[c] : empty;
      const size_t pad = widths[c] - DisplayWidth(cell);
      const bool right = c < aligns_.size() && aligns_[c] == Align::kRight;
      if (c > 0) line += "  ";
      if (right) line.append(pad, ' ');
      line += cell;
      if (!right) line.append(pad, ' ');
    }
    // Padding after the last non-empty cell only makes lines wrap early in
    // narrow terminals and confuses diffs.
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  if (!headers_.empty()) render_row(headers_);
  for (const auto& row : rows_) render_row(row);
  return out;
}

}  // namespace deliverd::client
