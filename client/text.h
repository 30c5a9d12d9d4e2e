// Text helpers for terminal output: making untrusted strings safe to print on
// one line, measuring their width in terminal columns and shortening them.
//
// Contract: every string deliverctl prints in a table or a one-line record
// passes through SanitizeForTerminal first. Subjects, SMTP replies and DSN
// evidence come from third parties; printed raw, a newline would break the
// table and an ESC byte could drive the user's terminal. The width functions
// assume sanitized (valid UTF-8, control-free) input.
#ifndef DELIVERD_CLIENT_TEXT_H_
#define DELIVERD_CLIENT_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::client {

// Returns `text` as one line of valid UTF-8: tab, CR and LF become a space,
// other C0/C1 control characters and DEL become '?', and invalid UTF-8
// sequences become U+FFFD.
std::string SanitizeForTerminal(absl::string_view text);

// True when `text` is well-formed UTF-8 (what proto3 `string` fields demand).
bool IsValidUtf8(absl::string_view text);

// The number of terminal columns `text` occupies: East Asian wide characters
// and most emoji count two, combining marks zero, everything else one.
size_t DisplayWidth(absl::string_view text);

// `text` cut to at most `width` columns; when something was cut, the last
// column is "…" so the reader can tell. Never splits a UTF-8 sequence.
std::string TruncateToWidth(absl::string_view text, size_t width);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_TEXT_H_
