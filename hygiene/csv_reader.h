// Streaming CSV input (RFC 4180) for `deliverctl clean` and the server's
// scheduled cleaning jobs (shared here so server/ need not include client/),
// and the choice of the address column.
//
// Contract:
//   - CsvReader reads one record at a time from an istream it does not own
//     (the stream must outlive it); memory is bounded by the limits, never
//     by the file's size.
//   - Accepted: quoted fields with doubled quotes inside, CRLF or LF line
//     ends (a lone CR inside a quoted field is data), newlines inside quoted
//     fields, a UTF-8 byte order mark at the very start (dropped), a last
//     line without a line end. Blank lines are skipped (a blank line is not
//     a record with one empty field: spreadsheet exports end with them).
//   - Refused, as InvalidArgument naming the line where the record starts
//     ("line 7: ..."): a quote inside an unquoted field, text after a
//     closing quote, a quoted field still open at the end of the input, a
//     field longer than max_field_bytes, a record longer than
//     max_record_bytes or with more than max_fields fields. We refuse rather
//     than guess: a silently mis-split row would put the wrong text in the
//     address column of a cleaned list. A read error is DataLoss.
//   - Not thread-safe.
#ifndef DELIVERD_HYGIENE_CSV_READER_H_
#define DELIVERD_HYGIENE_CSV_READER_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

struct CsvLimits {
  size_t max_field_bytes = 64 * 1024;
  size_t max_record_bytes = 1024 * 1024;
  size_t max_fields = 10000;
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in, CsvLimits limits = {});

  // Reads the next record into `fields`. Returns false at the end of the
  // input, or an error as described above.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);

  // The line the last record returned by Next started on (1-based).
  int64_t line() const { return record_line_; }
  // Bytes consumed so far (for progress against the file size).
  uint64_t bytes_read() const { return bytes_; }

 private:
  int Get();  // next byte or EOF, counting bytes and lines
  int Peek();

  std::istream& in_;
  CsvLimits limits_;
  bool started_ = false;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  uint64_t bytes_ = 0;
};

// Whether the first record is a header: none of its fields contains '@'
// (a data row of a mailing list has an address in it; a header never does).
bool LooksLikeHeader(const std::vector<std::string>& first_record);

// The 0-based address column.
//   `spec` "3": the third column (1-based, like cut -f); "email": the header
//   field with that name (case-insensitive, surrounding spaces ignored).
//   Empty `spec`: the header field named email, e-mail, email address,
//   email_address, mail or address (case-insensitive), else the first
//   column of `first_data` containing '@'.
// `header` is empty when the file has none (then a name cannot be used).
// Errors (InvalidArgument) say what was looked for and what exists.
absl::StatusOr<size_t> ChooseAddressColumn(
    absl::string_view spec, const std::vector<std::string>& header,
    const std::vector<std::string>& first_data);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_CSV_READER_H_
