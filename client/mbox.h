// Splits a mailbox export into its messages: an mbox file (messages
// separated by "From " lines, as mail clients and `formail` export them)
// gives one string per message, with the separator line removed and
// ">From " quoting (mboxrd) undone; anything else is one message.
//
// Why hand-written: each message's exact bytes matter (feedback ingestion
// fingerprints them so the same bounce ingested twice is recognised), and
// GMime's mbox reader gives parsed objects that re-serialise differently.
// The format is a line convention; the split is a few lines. Pure.
#ifndef DELIVERD_CLIENT_MBOX_H_
#define DELIVERD_CLIENT_MBOX_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::client {

// True when `data` starts with an mbox "From " separator line.
bool LooksLikeMbox(absl::string_view data);

// The messages of `data` (see above). An mbox with no message gives none.
std::vector<std::string> SplitMailbox(absl::string_view data);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_MBOX_H_
