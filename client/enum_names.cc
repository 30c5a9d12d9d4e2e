#include "client/enum_names.h"

#include <iterator>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "deliverd/v1/messages.pb.h"
#include "deliverd/v1/subscriptions.pb.h"

namespace deliverd::client {
namespace {

// "MESSAGE_STATUS_" for MessageStatus: the zero value's name without
// "UNSPECIFIED". Every deliverd enum follows that style-guide rule.
std::string Prefix(const google::protobuf::EnumDescriptor* type) {
  const google::protobuf::EnumValueDescriptor* zero =
      type->FindValueByNumber(0);
  if (zero == nullptr) return "";
  absl::string_view name = zero->name();
  if (!absl::ConsumeSuffix(&name, "UNSPECIFIED")) return "";
  return std::string(name);
}

}  // namespace

std::string EnumCliName(const google::protobuf::EnumDescriptor* type,
                        int number) {
  const google::protobuf::EnumValueDescriptor* value =
      type->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  absl::string_view name = value->name();
  const std::string prefix = Prefix(type);
  absl::ConsumePrefix(&name, prefix);
  return absl::AsciiStrToLower(name);
}

absl::StatusOr<int> ParseEnumCliName(
    const google::protobuf::EnumDescriptor* type, absl::string_view name,
    absl::string_view what) {
  const std::string wanted = absl::StrReplaceAll(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(name)), {{"-", "_"}});
  for (int i = 0; i < type->value_count(); ++i) {
    const int number = type->value(i)->number();
    if (number != 0 && EnumCliName(type, number) == wanted) return number;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown ", what, " \"", name, "\" (one of: ", EnumCliNames(type), ")"));
}

std::string EnumCliNames(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    const int number = type->value(i)->number();
    if (number != 0) names.push_back(EnumCliName(type, number));
  }
  return absl::StrJoin(names, ", ");
}

std::string MessageStatusName(int status) {
  return EnumCliName(v1::MessageStatus_descriptor(), status);
}

std::string EventTypeName(int type) {
  return EnumCliName(v1::EventType_descriptor(), type);
}

std::string RecipientKindName(int kind) {
  return EnumCliName(v1::RecipientKind_descriptor(), kind);
}

std::string SuppressionReasonName(int reason) {
  return EnumCliName(v1::SuppressionReason_descriptor(), reason);
}

std::string StatusCodeName(int code) {
  // The canonical names, in code order (google/rpc/code.proto).
  static constexpr const char* kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) {
    return kNames[code];
  }
  return absl::StrCat("CODE_", code);
}

}  // namespace deliverd::client
