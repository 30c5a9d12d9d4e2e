#include "hygiene/csv_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace deliverd::hygiene {

CsvReader::CsvReader(std::istream& in, CsvLimits limits)
    : in_(in), limits_(limits) {}

int CsvReader::Get() {
  int c = in_.rdbuf()->sbumpc();
  if (c == std::char_traits<char>::eof()) return -1;
  ++bytes_;
  if (c == '\n') ++line_;
  return c;
}

int CsvReader::Peek() {
  int c = in_.rdbuf()->sgetc();
  return c == std::char_traits<char>::eof() ? -1 : c;
}

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  if (!started_) {
    started_ = true;
    // A UTF-8 byte order mark (EF BB BF), as spreadsheet programs write.
    if (Peek() == 0xEF) {
      Get();
      if (Get() != 0xBB || Get() != 0xBF) {
        return absl::InvalidArgumentError(
            "line 1: starts with a malformed byte order mark");
      }
    }
  }
  // Skip blank lines.
  for (;;) {
    int c = Peek();
    if (c == '\n') {
      Get();
    } else if (c == '\r') {
      Get();
      if (Peek() == '\n') Get();
    } else {
      break;
    }
  }
  if (Peek() == -1) {
    if (in_.bad()) return absl::DataLossError("read error");
    return false;
  }
  record_line_ = line_;
  auto error = [this](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", record_line_, ": ", what));
  };
  size_t record_bytes = 0;
  std::string field;
  for (;;) {  // one field per iteration
    field.clear();
    if (fields->size() >= limits_.max_fields) {
      return error(absl::StrCat("more than ", limits_.max_fields, " fields"));
    }
    int c = Peek();
    if (c == '"') {
      Get();
      for (;;) {
        c = Get();
        if (c == -1) {
          return error(
              "a quoted field is not closed before the end of the file");
        }
        if (c == '"') {
          if (Peek() == '"') {
            Get();
          } else {
            break;
          }
        }
        field.push_back(static_cast<char>(c));
        if (field.size() > limits_.max_field_bytes) {
          return error(absl::StrCat("a field is longer than ",
                                    limits_.max_field_bytes, " bytes"));
        }
      }
      c = Peek();
      if (c != ',' && c != '\n' && c != '\r' && c != -1) {
        return error("text after a closing quote (quote the whole field)");
      }
    } else {
      for (;;) {
        c = Peek();
        if (c == ',' || c == '\n' || c == '\r' || c == -1) break;
        if (c == '"') {
          return error(
              "a '\"' inside an unquoted field (quote the field and double "
              "the quote)");
        }
        Get();
        field.push_back(static_cast<char>(c));
        if (field.size() > limits_.max_field_bytes) {
          return error(absl::StrCat("a field is longer than ",
                                    limits_.max_field_bytes, " bytes"));
        }
      }
    }
    record_bytes += field.size() + 1;
    if (record_bytes > limits_.max_record_bytes) {
      return error(absl::StrCat("a record is longer than ",
                                limits_.max_record_bytes, " bytes"));
    }
    fields->push_back(std::move(field));
    c = Get();
    if (c == ',') continue;
    if (c == '\r' && Peek() == '\n') Get();
    // c is '\n', '\r' (a lone CR ends the record too) or the end.
    if (c == -1 && in_.bad()) return absl::DataLossError("read error");
    return true;
  }
}

bool LooksLikeHeader(const std::vector<std::string>& first_record) {
  for (const std::string& f : first_record) {
    if (f.find('@') != std::string::npos) return false;
  }
  return true;
}

absl::StatusOr<size_t> ChooseAddressColumn(
    absl::string_view spec, const std::vector<std::string>& header,
    const std::vector<std::string>& first_data) {
  spec = absl::StripAsciiWhitespace(spec);
  const size_t columns = std::max(header.size(), first_data.size());
  if (!spec.empty()) {
    size_t index = 0;
    if (absl::SimpleAtoi(spec, &index)) {
      if (index < 1 || index > columns) {
        return absl::InvalidArgumentError(
            absl::StrCat("--column ", spec, ": the file has ", columns,
                         " columns (numbered from 1)"));
      }
      return index - 1;
    }
    if (header.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--column ", spec,
          ": the file has no header line; give the column's number"));
    }
    for (size_t i = 0; i < header.size(); ++i) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(header[i]), spec)) {
        return i;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "--column ", spec,
        ": no such column; the header has: ", absl::StrJoin(header, ", ")));
  }
  static const char* const kNames[] = {
      "email", "e-mail", "email address", "email_address", "mail", "address"};
  for (const char* name : kNames) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(header[i]), name)) {
        return i;
      }
    }
  }
  for (size_t i = 0; i < first_data.size(); ++i) {
    if (first_data[i].find('@') != std::string::npos) return i;
  }
  return absl::InvalidArgumentError(
      "no address column found (no email/e-mail/address header, and no '@' "
      "in the first data row); choose one with --column");
}

}  // namespace deliverd::hygiene
