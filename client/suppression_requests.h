// From parsed command lines to suppression requests (suppressions list,
// add, remove, check), with the same local-validation contract as
// message_requests.h.
//
// Scope on the command line: for `list`, no --scope means every scope ("*"
// on the wire), because a user listing suppressions expects to see all of
// them, and the API's empty-scope default (tenant-wide only) would hide
// stream-scoped entries; --scope "" asks for tenant-wide ones only. For add,
// remove and check, no --scope means tenant-wide, as in the API.
#ifndef DELIVERD_CLIENT_SUPPRESSION_REQUESTS_H_
#define DELIVERD_CLIENT_SUPPRESSION_REQUESTS_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/flags.h"
#include "deliverd/v1/subscriptions.pb.h"

namespace deliverd::client {

absl::StatusOr<v1::ListSuppressionsRequest> BuildListSuppressionsRequest(
    const ParsedCommandLine& args);

absl::StatusOr<v1::AddSuppressionRequest> BuildAddSuppressionRequest(
    const ParsedCommandLine& args, absl::Time now);

absl::StatusOr<v1::RemoveSuppressionRequest> BuildRemoveSuppressionRequest(
    const ParsedCommandLine& args);

// One request with every address; the command splits it into chunks.
v1::CheckSuppressionRequest BuildCheckSuppressionRequest(
    const ParsedCommandLine& args);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_SUPPRESSION_REQUESTS_H_
