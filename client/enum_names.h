// The names deliverctl uses for API enums on the command line and in tables,
// and the names of gRPC status codes.
//
// Contract: an enum value's command-line name is its proto name without the
// enum's prefix, in lower case (SUPPRESSION_REASON_HARD_BOUNCE ->
// "hard_bounce"). Parsing is case-insensitive and accepts '-' for '_'
// ("hard-bounce"); the UNSPECIFIED value is never accepted, because on the
// wire it means "no filter" or "not set", not a value a user picks. The
// mapping is derived from the proto descriptors, so a value added to the
// .proto file is understood without touching this code.
#ifndef DELIVERD_CLIENT_ENUM_NAMES_H_
#define DELIVERD_CLIENT_ENUM_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace deliverd::client {

// "hard_bounce"; a number the descriptor does not know (a newer server) is
// printed as the number.
std::string EnumCliName(const google::protobuf::EnumDescriptor* type,
                        int number);

// The number for a command-line name. `what` names the thing in the error
// ("status", "reason"), which also lists every accepted name.
absl::StatusOr<int> ParseEnumCliName(
    const google::protobuf::EnumDescriptor* type, absl::string_view name,
    absl::string_view what);

// "queued, sent, waiting, ..." for help texts and errors.
std::string EnumCliNames(const google::protobuf::EnumDescriptor* type);

// Shorthands for the enums deliverctl prints.
std::string MessageStatusName(int status);
std::string EventTypeName(int type);
std::string RecipientKindName(int kind);
std::string SuppressionReasonName(int reason);

// "INVALID_ARGUMENT" for 3; used both for grpc::StatusCode and for the
// google.rpc.Code values in ItemError.code. Unknown codes print as
// "CODE_<n>".
std::string StatusCodeName(int code);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_ENUM_NAMES_H_
