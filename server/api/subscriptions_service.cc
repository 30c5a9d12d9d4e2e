#include "server/api/subscriptions_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "hygiene/address.h"
#include "server/api/convert.h"
#include "server/api/send_validation.h"

namespace deliverd::api {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxCheck = 1000;

// Suppressions key on the whole address lower-cased: over-matching a
// suppression is safe, missing one is not.
absl::StatusOr<std::string> SuppressionAddress(absl::string_view field,
                                               const std::string& address) {
  if (address.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  absl::StatusOr<hygiene::ParsedAddress> parsed = hygiene::ParseAddress(address);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", parsed.status().message()));
  }
  return absl::AsciiStrToLower(parsed->normalized);
}

absl::Status CheckScope(absl::string_view field, const std::string& scope) {
  if (scope.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most 64 characters"));
  }
  // Empty is allowed: it means the whole tenant.
  if (!scope.empty() && !IsLabel(scope, 64)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be characters of A-Z a-z 0-9 _ . : -"));
  }
  return absl::OkStatus();
}

absl::Status CheckNote(absl::string_view field, const std::string& note,
                       bool required) {
  if (required && note.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (note.size() > 1024 || note.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most 1024 bytes, without NUL"));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* SubscriptionsService::ListSuppressions(
    grpc::CallbackServerContext* call,
    const v1::ListSuppressionsRequest* request,
    v1::ListSuppressionsResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  int page_size = request->page_size();
  if (page_size < 0 || page_size > kMaxPageSize) {
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "page_size: must be between 0 and ",
                                kMaxPageSize)));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  store::SuppressionFilter filter;
  int reason = request->reason();
  if (reason < 0 || reason > 6) {
    return FinishWith(call, absl::InvalidArgumentError(
                                absl::StrCat("reason: unknown reason ", reason)));
  }
  filter.reason = static_cast<store::SuppressionReason>(reason);
  if (request->scope() == "*") {
    filter.all_scopes = true;
  } else {
    if (absl::Status s = CheckScope("scope", request->scope()); !s.ok()) {
      return FinishWith(call, s);
    }
    filter.scope = request->scope();
  }
  if (request->address_prefix().size() > 254) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "address_prefix: at most 254 characters"));
  }
  filter.address_prefix = request->address_prefix();
  std::optional<store::SuppressionCursor> after;
  if (!request->page_token().empty()) {
    std::string decoded;
    size_t split;
    if (!absl::WebSafeBase64Unescape(request->page_token(), &decoded) ||
        (split = decoded.find('\n')) == std::string::npos) {
      return FinishWith(call, absl::InvalidArgumentError(
                                  "page_token: not a token from "
                                  "ListSuppressions"));
    }
    after = store::SuppressionCursor{decoded.substr(0, split),
                                     decoded.substr(split + 1)};
  }
  absl::StatusOr<store::SuppressionPage> page = ctx_->store->ListSuppressions(
      caller->tenant_id, filter, page_size, after);
  if (!page.ok()) return FinishWith(call, page.status());
  for (const store::Suppression& s : page->suppressions) {
    ToProto(s, response->add_suppressions());
  }
  if (page->next.has_value()) {
    response->set_next_page_token(absl::WebSafeBase64Escape(
        absl::StrCat(page->next->address, "\n", page->next->scope)));
  }
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* SubscriptionsService::AddSuppression(
    grpc::CallbackServerContext* call, const v1::AddSuppressionRequest* request,
    v1::Suppression* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> address =
      SuppressionAddress("address", request->address());
  if (!address.ok()) return FinishWith(call, address.status());
  int reason = request->reason();
  if (reason < 1 || reason > 6) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "reason: required (hard_bounce, unsubscribed, "
                                "complaint, manual, invalid or soft_bounce)"));
  }
  if (absl::Status s = CheckScope("scope", request->scope()); !s.ok()) {
    return FinishWith(call, s);
  }
  if (absl::Status s = CheckNote("note", request->note(), false); !s.ok()) {
    return FinishWith(call, s);
  }
  absl::Time now = absl::Now();
  store::Suppression s;
  s.tenant_id = caller->tenant_id;
  s.address = *address;
  s.reason = static_cast<store::SuppressionReason>(reason);
  s.scope = request->scope();
  s.create_time = now;
  if (request->has_expire_time()) {
    s.expire_time = FromTimestamp(request->expire_time());
    if (s.expire_time <= now) {
      return FinishWith(call, absl::InvalidArgumentError(
                                  "expire_time: must be in the future"));
    }
  }
  s.evidence = request->note().empty() ? "added through the API"
                                       : request->note();
  if (absl::Status st = ctx_->store->UpsertSuppression(s, request->note());
      !st.ok()) {
    return FinishWith(call, st);
  }
  ToProto(s, response);
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* SubscriptionsService::RemoveSuppression(
    grpc::CallbackServerContext* call,
    const v1::RemoveSuppressionRequest* request, v1::Suppression* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> address =
      SuppressionAddress("address", request->address());
  if (!address.ok()) return FinishWith(call, address.status());
  if (absl::Status s = CheckScope("scope", request->scope()); !s.ok()) {
    return FinishWith(call, s);
  }
  if (absl::Status s = CheckNote("reason", request->reason(), true); !s.ok()) {
    return FinishWith(call, s);
  }
  absl::StatusOr<store::Suppression> removed = ctx_->store->RemoveSuppression(
      caller->tenant_id, *address, request->scope(), request->reason());
  if (!removed.ok()) return FinishWith(call, removed.status());
  ToProto(*removed, response);
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* SubscriptionsService::CheckSuppression(
    grpc::CallbackServerContext* call,
    const v1::CheckSuppressionRequest* request,
    v1::CheckSuppressionResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (request->addresses_size() == 0 || request->addresses_size() > kMaxCheck) {
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "addresses: between 1 and ", kMaxCheck,
                                " addresses")));
  }
  if (absl::Status s = CheckScope("stream", request->stream()); !s.ok()) {
    return FinishWith(call, s);
  }
  std::vector<std::string> addresses;
  for (int i = 0; i < request->addresses_size(); ++i) {
    absl::StatusOr<std::string> address = SuppressionAddress(
        absl::StrCat("addresses[", i, "]"), request->addresses(i));
    if (!address.ok()) return FinishWith(call, address.status());
    addresses.push_back(*address);
  }
  absl::StatusOr<std::vector<std::optional<store::Suppression>>> found =
      ctx_->store->FindSuppressions(caller->tenant_id, addresses,
                                    request->stream(), absl::Now());
  if (!found.ok()) return FinishWith(call, found.status());
  for (size_t i = 0; i < addresses.size(); ++i) {
    v1::SuppressionCheck* check = response->add_results();
    check->set_address(addresses[i]);
    check->set_suppressed((*found)[i].has_value());
    if ((*found)[i].has_value()) {
      ToProto(*(*found)[i], check->mutable_suppression());
    }
  }
  return FinishWith(call, absl::OkStatus());
}

}  // namespace deliverd::api
