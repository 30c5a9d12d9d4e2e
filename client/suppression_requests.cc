#include "client/suppression_requests.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/enum_names.h"
#include "client/flag_values.h"
#include "client/times.h"

namespace deliverd::client {
namespace {

absl::StatusOr<v1::SuppressionReason> ParseReason(absl::string_view text) {
  absl::StatusOr<int> reason =
      ParseEnumCliName(v1::SuppressionReason_descriptor(), text, "reason");
  if (!reason.ok()) return reason.status();
  return static_cast<v1::SuppressionReason>(*reason);
}

}  // namespace

absl::StatusOr<v1::ListSuppressionsRequest> BuildListSuppressionsRequest(
    const ParsedCommandLine& args) {
  v1::ListSuppressionsRequest request;
  if (std::optional<std::string> text = args.Get("reason")) {
    absl::StatusOr<v1::SuppressionReason> reason = ParseReason(*text);
    if (!reason.ok()) return reason.status();
    request.set_reason(*reason);
  }
  request.set_scope(args.GetOr("scope", "*"));
  request.set_address_prefix(args.GetOr("prefix", ""));
  if (std::optional<std::string> text = args.Get("limit")) {
    absl::StatusOr<int64_t> limit = ParseIntFlag("limit", *text, 1, 1000);
    if (!limit.ok()) return limit.status();
    request.set_page_size(static_cast<int32_t>(*limit));
  }
  request.set_page_token(args.GetOr("page-token", ""));
  return request;
}

absl::StatusOr<v1::AddSuppressionRequest> BuildAddSuppressionRequest(
    const ParsedCommandLine& args, absl::Time now) {
  v1::AddSuppressionRequest request;
  request.set_address(args.positionals.at(0));
  absl::StatusOr<v1::SuppressionReason> reason =
      ParseReason(args.GetOr("reason", ""));
  if (!reason.ok()) return reason.status();
  request.set_reason(*reason);
  request.set_scope(args.GetOr("scope", ""));
  if (std::optional<std::string> text = args.Get("expires")) {
    absl::StatusOr<absl::Time> expires = ParseFutureTime(*text, now);
    if (!expires.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--expires: ", expires.status().message()));
    }
    if (*expires <= now) {
      return absl::InvalidArgumentError("--expires is in the past");
    }
    *request.mutable_expire_time() = ToTimestamp(*expires);
  }
  request.set_note(args.GetOr("note", ""));
  request.set_request_id(args.GetOr("request-id", ""));
  return request;
}

absl::StatusOr<v1::RemoveSuppressionRequest> BuildRemoveSuppressionRequest(
    const ParsedCommandLine& args) {
  v1::RemoveSuppressionRequest request;
  request.set_address(args.positionals.at(0));
  request.set_scope(args.GetOr("scope", ""));
  const std::string reason = args.GetOr("reason", "");
  // The API requires it, and it is the audit trail of why an address that
  // bounced or complained may be mailed again: worth a clear local error.
  if (absl::StripAsciiWhitespace(reason).empty()) {
    return absl::InvalidArgumentError(
        "--reason must say why the address may be mailed again");
  }
  request.set_reason(reason);
  return request;
}

v1::CheckSuppressionRequest BuildCheckSuppressionRequest(
    const ParsedCommandLine& args) {
  v1::CheckSuppressionRequest request;
  for (const std::string& address : args.positionals) {
    request.add_addresses(address);
  }
  request.set_stream(args.GetOr("stream", ""));
  return request;
}

}  // namespace deliverd::client
