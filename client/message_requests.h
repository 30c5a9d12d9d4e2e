// From parsed command lines to Messages-service requests: the local
// validation of send, send-batch, log, resend and watch.
//
// Contract: builders check what the client can know for sure (flag syntax,
// files that cannot be read, bodies that are not UTF-8, contradicting
// flags, enum names, times) and return InvalidArgument with a one-line
// message; the command then exits 2 without calling the server. What only
// the server can judge (whether an address is valid, tag syntax, limits)
// is sent as given, and the server's INVALID_ARGUMENT names the field.
// Files are read through the FileReader, so "-" can mean stdin.
#ifndef DELIVERD_CLIENT_MESSAGE_REQUESTS_H_
#define DELIVERD_CLIENT_MESSAGE_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/files.h"
#include "client/flags.h"
#include "deliverd/v1/messages.pb.h"

namespace deliverd::client {

// The API's limit on items per batch call (SendBatch, Resend,
// CheckSuppression); larger inputs are sent in chunks of this size.
inline constexpr int kMaxBatchItems = 1000;

absl::StatusOr<v1::SendRequest> BuildSendRequest(const ParsedCommandLine& args,
                                                 const FileReader& read_file);

// JSON Lines of SendRequest (protobuf JSON; lowerCamel or proto field
// names). Blank lines are skipped; unknown fields are errors (a typo would
// otherwise silently drop data). Errors name the line number.
absl::StatusOr<std::vector<v1::SendRequest>> ParseSendBatch(
    absl::string_view contents);

absl::StatusOr<v1::ListMessagesRequest> BuildListMessagesRequest(
    const ParsedCommandLine& args, absl::Time now);

// One request with every name; the command splits it into chunks.
absl::StatusOr<v1::ResendRequest> BuildResendRequest(
    const ParsedCommandLine& args);

absl::StatusOr<v1::WatchEventsRequest> BuildWatchRequest(
    const ParsedCommandLine& args);

// A MIME type for an attachment's file name ("report.pdf" ->
// "application/pdf"); empty when unknown, which the API defaults to
// application/octet-stream.
std::string ContentTypeForFilename(absl::string_view filename);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_MESSAGE_REQUESTS_H_
