#include "server/api/subscriptions_service.h"

#include <openssl/rand.h>

#include <atomic>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "hygiene/address.h"
#include "server/api/convert.h"
#include "server/api/send_validation.h"
#include "server/feedback/unsubscribe.h"
#include "server/feedback/unsubscribe_token.h"
#include "server/store/sha256.h"

namespace deliverd::api {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxCheck = 1000;
constexpr size_t kMaxListLength = 64;
constexpr int kMaxMetadata = 20;
constexpr size_t kMaxMetadataKey = 64;
constexpr size_t kMaxMetadataValue = 1024;
// Every change through these RPCs is recorded with this source.
constexpr char kApiSource[] = "api";
constexpr char kResubscribeNote[] = "subscribed again via API";

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

// A list name: required, a label like a stream.
absl::Status CheckList(absl::string_view field, const std::string& list) {
  if (list.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (list.size() > kMaxListLength || !IsLabel(list, kMaxListLength)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be 1-64 characters of A-Z a-z 0-9 _ . : -"));
  }
  return absl::OkStatus();
}

absl::Status CheckMetadata(
    const google::protobuf::Map<std::string, std::string>& metadata) {
  if (metadata.size() > kMaxMetadata) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata: more than ", kMaxMetadata, " entries"));
  }
  for (const auto& [key, value] : metadata) {
    if (!IsLabel(key, kMaxMetadataKey)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata[", key, "]: keys must be 1-64 characters of "
                       "A-Z a-z 0-9 _ . : -"));
    }
    if (value.size() > kMaxMetadataValue) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata[", key, "]: values must be at most 1024 bytes"));
    }
  }
  return absl::OkStatus();
}

// The commit's idempotency key: derived from the request id when there is
// one, so a replay is recognised; otherwise unique to this call.
std::string Fingerprint(absl::string_view rpc, const std::string& request_id) {
  if (!request_id.empty()) {
    return store::Sha256Hex(
        absl::StrCat("subscriptions:", rpc, ":", request_id));
  }
  static std::atomic<uint64_t> counter{0};
  unsigned char random[16] = {};
  std::string basis = absl::StrCat("subscriptions:", rpc, ":once:",
                                   absl::ToUnixNanos(absl::Now()), ":",
                                   counter.fetch_add(1));
  if (RAND_bytes(random, sizeof(random)) == 1) {
    const absl::string_view bytes(reinterpret_cast<const char*>(random),
                                  sizeof(random));
    absl::StrAppend(&basis, ":", absl::BytesToHexString(bytes));
  }
  return store::Sha256Hex(basis);
}

}  // namespace

absl::Status SubscriptionsService::ReadSubscription(int64_t tenant_id,
                                                    const std::string& address,
                                                    const std::string& list,
                                                    v1::Subscription* out) {
  absl::StatusOr<std::vector<store::Subscription>> subs =
      ctx_->store->GetSubscriptions(tenant_id, address, list);
  if (!subs.ok()) return subs.status();
  if (subs->empty()) {
    return absl::NotFoundError(absl::StrCat(
        "address: ", address, " has no subscription to list ", list));
  }
  ToProto(subs->front(), out);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* SubscriptionsService::Subscribe(
    grpc::CallbackServerContext* call, const v1::SubscribeRequest* request,
    v1::Subscription* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (absl::Status s = ValidateRequestId(request->request_id(), "request_id");
      !s.ok()) {
    return FinishWith(call, s);
  }
  absl::StatusOr<std::string> address =
      SuppressionAddress("address", request->address());
  if (!address.ok()) return FinishWith(call, address.status());
  if (absl::Status s = CheckList("list", request->list()); !s.ok()) {
    return FinishWith(call, s);
  }
  if (absl::Status s = CheckMetadata(request->metadata()); !s.ok()) {
    return FinishWith(call, s);
  }
  if (request->confirm() && request->double_opt_in()) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "confirm: cannot be combined with "
                                "double_opt_in"));
  }
  const int64_t tenant_id = caller->tenant_id;
  const std::string& list = request->list();

  absl::StatusOr<std::vector<store::Subscription>> existing =
      ctx_->store->GetSubscriptions(tenant_id, *address, list);
  if (!existing.ok()) return FinishWith(call, existing.status());
  std::optional<store::Subscription> current;
  if (!existing->empty()) current = existing->front();
  const bool subscribed =
      current.has_value() &&
      current->state == store::SubscriptionState::kSubscribed;

  store::SubscriptionState state = store::SubscriptionState::kSubscribed;
  if (request->confirm()) {
    // Confirming twice (a confirmation link clicked again, a replay) is
    // not an error; confirming what was never asked for is.
    if (subscribed) {
      ToProto(*current, response);
      return FinishWith(call, absl::OkStatus());
    }
    if (!current.has_value() ||
        current->state != store::SubscriptionState::kPending) {
      return FinishWith(call, absl::FailedPreconditionError(absl::StrCat(
                                  "confirm: ", *address,
                                  " has no pending subscription to list ",
                                  list)));
    }
  } else if (request->double_opt_in() && !subscribed) {
    // Already subscribed stays subscribed: double opt-in never demotes.
    state = store::SubscriptionState::kPending;
  }

  const absl::Time now = absl::Now();
  store::FeedbackUpdate update;
  update.tenant_id = tenant_id;
  update.fingerprint = Fingerprint("Subscribe", request->request_id());
  store::Subscription sub;
  sub.tenant_id = tenant_id;
  sub.address = *address;
  sub.list = list;
  sub.state = state;
  sub.create_time = now;  // kept by the store for an existing row
  sub.update_time = now;
  sub.source = kApiSource;
  if (!request->metadata().empty()) {
    sub.metadata = EncodeSubscriptionMetadata(request->metadata());
  } else if (current.has_value()) {
    sub.metadata = current->metadata;
  }
  update.subscriptions.push_back(std::move(sub));

  // Only a confirmed subscription lifts the list's unsubscribe; a
  // suppression of any other reason is somebody else's decision.
  if (state == store::SubscriptionState::kSubscribed) {
    absl::StatusOr<std::optional<store::Suppression>> suppression =
        feedback::ScopedSuppression(*ctx_->store, tenant_id, *address, list);
    if (!suppression.ok()) return FinishWith(call, suppression.status());
    if (suppression->has_value() &&
        (*suppression)->reason == store::SuppressionReason::kUnsubscribed) {
      update.removed_suppressions.emplace_back(*address, list);
      update.removal_note = kResubscribeNote;
    }
  }

  absl::StatusOr<bool> applied = ctx_->store->ApplyFeedback(update);
  if (!applied.ok()) return FinishWith(call, applied.status());
  // Applied or replayed: answer what is stored now.
  return FinishWith(call,
                    ReadSubscription(tenant_id, *address, list, response));
}

absl::StatusOr<SubscriptionsService::UnsubscribeTarget>
SubscriptionsService::TargetFromFields(const v1::UnsubscribeRequest& request) {
  UnsubscribeTarget target;
  absl::StatusOr<std::string> address =
      SuppressionAddress("address", request.address());
  if (!address.ok()) return address.status();
  target.address = *std::move(address);
  // Empty: every list.
  if (!request.list().empty()) {
    if (absl::Status s = CheckList("list", request.list()); !s.ok()) return s;
  }
  target.list = request.list();
  if (absl::Status s = CheckNote("reason", request.reason(), true); !s.ok()) {
    return s;
  }
  target.reason = request.reason();
  target.source = kApiSource;
  return target;
}

absl::StatusOr<SubscriptionsService::UnsubscribeTarget>
SubscriptionsService::TargetFromToken(int64_t tenant_id,
                                      const v1::UnsubscribeRequest& request) {
  if (!request.address().empty() || !request.list().empty()) {
    return absl::InvalidArgumentError(
        "address: leave address and list empty with a token (the token "
        "names them)");
  }
  if (absl::Status s = CheckNote("reason", request.reason(), false); !s.ok()) {
    return s;
  }
  if (ctx_->list_unsubscribe == nullptr) {
    return absl::FailedPreconditionError(
        "token: this server does not sign unsubscribe tokens");
  }
  if (request.token().size() > 256) {
    return absl::InvalidArgumentError("token: too long to be ours");
  }
  absl::StatusOr<std::string> id = feedback::VerifyUnsubscribeToken(
      ctx_->list_unsubscribe->secret, request.token());
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token: ", id.status().message()));
  }
  absl::StatusOr<store::Message> m =
      ctx_->store->GetMessage(tenant_id, *id, /*with_content=*/false);
  if (absl::IsNotFound(m.status())) {
    return absl::NotFoundError("token: names no message of yours");
  }
  if (!m.ok()) return m.status();
  if (m->stream.empty() || m->recipients.empty()) {
    return absl::FailedPreconditionError(
        "token: its message was not sent to a list");
  }
  UnsubscribeTarget target;
  target.address = absl::AsciiStrToLower(m->recipients.front().address);
  target.list = m->stream;
  target.reason =
      request.reason().empty() ? "list-unsubscribe" : request.reason();
  target.source = "list-unsubscribe";
  target.message_id = m->id;
  return target;
}

grpc::ServerUnaryReactor* SubscriptionsService::Unsubscribe(
    grpc::CallbackServerContext* call, const v1::UnsubscribeRequest* request,
    v1::Subscription* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (absl::Status s = ValidateRequestId(request->request_id(), "request_id");
      !s.ok()) {
    return FinishWith(call, s);
  }
  const int64_t tenant_id = caller->tenant_id;
  absl::StatusOr<UnsubscribeTarget> target =
      request->token().empty() ? TargetFromFields(*request)
                               : TargetFromToken(tenant_id, *request);
  if (!target.ok()) return FinishWith(call, target.status());
  const std::string* address = &target->address;
  const std::string& list = target->list;

  absl::StatusOr<std::vector<store::Subscription>> subs =
      ctx_->store->GetSubscriptions(tenant_id, *address, list);
  if (!subs.ok()) return FinishWith(call, subs.status());
  if (subs->empty() && target->message_id.empty()) {
    return FinishWith(
        call, absl::NotFoundError(
                  list.empty()
                      ? absl::StrCat("address: ", *address,
                                     " has no subscriptions")
                      : absl::StrCat("list: ", *address,
                                     " has no subscription to list ", list)));
  }
  const std::string reason = target->reason;

  const absl::Time now = absl::Now();
  store::FeedbackUpdate update;
  update.tenant_id = tenant_id;
  update.fingerprint = Fingerprint("Unsubscribe", request->request_id());
  update.message_id = target->message_id;
  feedback::UnsubscribeRequest unsubscribe;
  unsubscribe.tenant_id = tenant_id;
  unsubscribe.address = *address;
  // A token's list message may name someone never recorded as subscribed:
  // AddUnsubscribe records the refusal all the same.
  if (!list.empty()) unsubscribe.lists.push_back(list);
  unsubscribe.when = now;
  unsubscribe.source = target->source;
  if (!target->message_id.empty()) {
    unsubscribe.source_message = absl::StrCat("messages/", target->message_id);
  }
  unsubscribe.evidence = reason;
  absl::StatusOr<std::vector<store::Subscription>> changed =
      feedback::AddUnsubscribe(*ctx_->store, unsubscribe, &update);
  if (!changed.ok()) return FinishWith(call, changed.status());
  // Already unsubscribed everywhere asked (or a replay): nothing to change.
  if (changed->empty()) {
    ToProto(subs->front(), response);
    return FinishWith(call, absl::OkStatus());
  }
  for (const store::Subscription& sub : *changed) {
    store::Event event;
    event.tenant_id = tenant_id;
    event.type = store::EventType::kUnsubscribed;
    event.time = now;
    event.recipient = *address;
    event.message_id = target->message_id;
    event.source = target->source;
    event.detail = absl::StrCat("list ", sub.list, ": ", reason);
    update.events.push_back(std::move(event));
  }

  absl::StatusOr<bool> applied = ctx_->store->ApplyFeedback(update);
  if (!applied.ok()) return FinishWith(call, applied.status());
  return FinishWith(call, ReadSubscription(tenant_id, *address,
                                           changed->front().list, response));
}

grpc::ServerUnaryReactor* SubscriptionsService::GetSubscription(
    grpc::CallbackServerContext* call,
    const v1::GetSubscriptionRequest* request, v1::Subscription* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> address =
      SuppressionAddress("address", request->address());
  if (!address.ok()) return FinishWith(call, address.status());
  if (absl::Status s = CheckList("list", request->list()); !s.ok()) {
    return FinishWith(call, s);
  }
  return FinishWith(call, ReadSubscription(caller->tenant_id, *address,
                                           request->list(), response));
}

grpc::ServerUnaryReactor* SubscriptionsService::ListSubscriptions(
    grpc::CallbackServerContext* call,
    const v1::ListSubscriptionsRequest* request,
    v1::ListSubscriptionsResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> address =
      SuppressionAddress("address", request->address());
  if (!address.ok()) return FinishWith(call, address.status());
  absl::StatusOr<std::vector<store::Subscription>> subs =
      ctx_->store->GetSubscriptions(caller->tenant_id, *address, "");
  if (!subs.ok()) return FinishWith(call, subs.status());
  for (const store::Subscription& sub : *subs) {
    ToProto(sub, response->add_subscriptions());
  }
  return FinishWith(call, absl::OkStatus());
}

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
