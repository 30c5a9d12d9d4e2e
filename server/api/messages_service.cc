#include "server/api/send_gate.h"
#include "server/api/messages_service.h"

#include "server/store/sha256.h"

#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/api/convert.h"
#include "server/api/message_ids.h"
#include "server/delivery/message_status.h"
#include "server/feedback/unsubscribe_token.h"

namespace deliverd::api {
namespace {

constexpr int kMaxBatch = 1000;
// 128 minus the longest item suffix, "#999".
constexpr size_t kMaxBatchRequestId = 124;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

store::Event NewEvent(const store::Message& m, store::EventType type,
                      absl::Time now, std::string recipient,
                      std::string detail) {
  return store::MessageEvent(m, type, now, std::move(recipient), "api",
                             std::move(detail));
}

// A list message may go only to a confirmed subscriber of its list.
absl::Status CheckListSubscription(store::Store& store, int64_t tenant_id,
                                   const ValidatedSend& valid,
                                   absl::string_view field_prefix) {
  if (valid.list.empty()) return absl::OkStatus();
  const std::string& address = valid.message.recipients.front().address;
  absl::StatusOr<std::vector<store::Subscription>> subs =
      store.GetSubscriptions(tenant_id, address, valid.list);
  if (!subs.ok()) return subs.status();
  if (!subs->empty() &&
      subs->front().state == store::SubscriptionState::kSubscribed) {
    return absl::OkStatus();
  }
  const char* state = "not subscribed";
  if (!subs->empty()) {
    state = subs->front().state == store::SubscriptionState::kPending
                ? "pending confirmation"
                : "unsubscribed";
  }
  return absl::FailedPreconditionError(
      absl::StrCat(field_prefix, "content.to[0]: ", address, " is ", state,
                   " on list ", valid.list));
}

// Adds List-Unsubscribe (and List-Unsubscribe-Post) for message `m`, whose
// id is set, to its stored content.
absl::Status AddListUnsubscribe(const feedback::ListUnsubscribeConfig& config,
                                store::Message& m) {
  v1::MessageContent content;
  if (!content.ParseFromString(m.content)) {
    return absl::InternalError("stored content does not parse");
  }
  size_t at = m.from_address.rfind('@');
  for (auto& [name, value] : feedback::ListUnsubscribeHeaders(
           config, m.id, m.from_address.substr(at + 1))) {
    v1::Header* h = content.add_headers();
    h->set_name(name);
    h->set_value(value);
    m.size_bytes += static_cast<int64_t>(name.size() + value.size() + 4);
  }
  content.SerializeToString(&m.content);
  return absl::OkStatus();
}

using RecipientSuppressions = std::vector<std::optional<store::Suppression>>;

// Gives a validated message its identity, checks its recipients against the
// suppression list, and sets its first status and events. With
// `override_reason` set, suppressed recipients are kept (a resend override).
// `known`: the recipients' suppressions when the caller looked them up
// already (a batch does it for all its messages at once); else looked up
// here.
absl::StatusOr<store::NewMessage> PrepareMessage(
    store::Store& store, int64_t tenant_id, store::Message m,
    absl::Time send_time, std::string request_hash, absl::Time now,
    const std::string& override_reason,
    const feedback::ListUnsubscribeConfig* list_unsubscribe,
    const RecipientSuppressions* known = nullptr) {
  m.tenant_id = tenant_id;
  m.id = NewMessageId(now);
  if (list_unsubscribe != nullptr) {
    if (absl::Status s = AddListUnsubscribe(*list_unsubscribe, m); !s.ok()) {
      return s;
    }
  }
  m.create_time = now;
  m.update_time = now;
  size_t at = m.from_address.rfind('@');
  m.rfc822_message_id =
      absl::StrCat(m.id, "@", m.from_address.substr(at + 1));

  absl::StatusOr<RecipientSuppressions> suppressed;
  if (known != nullptr && known->size() == m.recipients.size()) {
    suppressed = *known;
  } else {
    std::vector<std::string> addresses;
    for (const store::Recipient& r : m.recipients) {
      addresses.push_back(r.address);
    }
    suppressed = store.FindSuppressions(tenant_id, addresses, m.stream, now);
    if (!suppressed.ok()) return suppressed.status();
  }

  store::NewMessage item;
  item.request_hash = std::move(request_hash);
  std::vector<store::Event> suppression_events;
  std::vector<std::string> overridden;
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    store::Recipient& r = m.recipients[i];
    r.status = store::MessageStatus::kQueued;
    const std::optional<store::Suppression>& s = (*suppressed)[i];
    if (!s.has_value()) continue;
    std::string why = absl::StrCat(
        store::SuppressionReasonName(s->reason),
        s->scope.empty() ? "" : absl::StrCat(" in ", s->scope),
        s->evidence.empty() ? "" : absl::StrCat(": ", s->evidence));
    if (!override_reason.empty()) {
      overridden.push_back(absl::StrCat(r.address, " (", why, ")"));
      r.suppression_override = true;
      continue;
    }
    r.status = store::MessageStatus::kSuppressed;
    r.detail = absl::StrCat("suppressed: ", why);
    suppression_events.push_back(NewEvent(m, store::EventType::kSuppressed, now,
                                          r.address, r.detail));
  }
  m.status = delivery::DeriveMessageStatus(m.recipients);
  if (m.status == store::MessageStatus::kQueued) {
    m.next_attempt_time = std::max(send_time, now);
  }
  std::string detail = "accepted";
  if (send_time > now) {
    absl::StrAppend(&detail, "; scheduled for ",
                    absl::FormatTime(absl::RFC3339_sec, send_time,
                                     absl::UTCTimeZone()));
  }
  if (!m.resend_of.empty()) {
    absl::StrAppend(&detail, "; resend of ", MessageName(m.resend_of));
  }
  if (!overridden.empty()) {
    absl::StrAppend(&detail, "; suppression overridden for ",
                    absl::StrJoin(overridden, ", "), " because: ",
                    override_reason);
  }
  item.events.push_back(
      NewEvent(m, store::EventType::kQueued, now, "", std::move(detail)));
  for (store::Event& e : suppression_events) item.events.push_back(std::move(e));
  item.message = std::move(m);
  return item;
}

// The suppressions of every recipient of every item (by item index; empty
// for a missing item), with one store lookup per stream rather than one per
// message: on a networked store each lookup is a round trip.
absl::StatusOr<std::vector<RecipientSuppressions>> BatchSuppressions(
    store::Store& store, int64_t tenant_id,
    const std::vector<std::optional<ValidatedSend>>& items, absl::Time now) {
  std::vector<RecipientSuppressions> out(items.size());
  // stream -> (addresses, and for each its item and recipient position)
  struct Lookup {
    std::vector<std::string> addresses;
    std::vector<std::pair<size_t, size_t>> where;
  };
  std::map<std::string, Lookup> by_stream;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].has_value()) continue;
    const store::Message& m = items[i]->message;
    out[i].resize(m.recipients.size());
    Lookup& lookup = by_stream[m.stream];
    for (size_t k = 0; k < m.recipients.size(); ++k) {
      lookup.addresses.push_back(m.recipients[k].address);
      lookup.where.emplace_back(i, k);
    }
  }
  for (auto& [stream, lookup] : by_stream) {
    absl::StatusOr<RecipientSuppressions> found =
        store.FindSuppressions(tenant_id, lookup.addresses, stream, now);
    if (!found.ok()) return found.status();
    for (size_t j = 0; j < lookup.where.size(); ++j) {
      out[lookup.where[j].first][lookup.where[j].second] =
          std::move((*found)[j]);
    }
  }
  return out;
}

// Responses are filled in before the insert is submitted, so the store's
// commit callback stays short; only a replay (rare) needs the earlier
// message read back, as it is now.
absl::Status ApplyOutcome(store::Store& store, int64_t tenant_id,
                          const store::InsertOutcome& outcome,
                          v1::Message* out, bool summary = false) {
  if (!outcome.status.ok()) return outcome.status;
  if (!outcome.replayed) return absl::OkStatus();
  absl::StatusOr<store::Message> earlier =
      store.GetMessage(tenant_id, outcome.message_id, false);
  if (!earlier.ok()) return earlier.status();
  out->Clear();
  if (summary) {
    ToSummaryProto(*earlier, out);
  } else {
    ToProto(*earlier, out);
  }
  return absl::OkStatus();
}

void SetItemError(const absl::Status& status, v1::ItemError* error) {
  error->set_code(static_cast<int>(status.code()));
  error->set_message(std::string(status.message()));
  error->set_field(FieldOfError(status.message()));
}

std::string EncodePageToken(const store::MessageCursor& cursor) {
  return absl::StrCat("v1.", absl::ToUnixMicros(cursor.create_time), ".",
                      cursor.row_id);
}

std::optional<store::MessageCursor> DecodePageToken(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  int64_t micros = 0, row = 0;
  if (parts.size() != 3 || parts[0] != "v1" ||
      !absl::SimpleAtoi(parts[1], &micros) ||
      !absl::SimpleAtoi(parts[2], &row) || row <= 0) {
    return std::nullopt;
  }
  return store::MessageCursor{absl::FromUnixMicros(micros), row};
}

bool IsKnownStatus(int value) { return value >= 1 && value <= 8; }
bool IsKnownEventType(int value) { return value >= 1 && value <= 14; }

}  // namespace

grpc::ServerUnaryReactor* MessagesService::Send(
    grpc::CallbackServerContext* call, const v1::SendRequest* request,
    v1::SendResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::Time now = absl::Now();
  absl::StatusOr<ValidatedSend> valid =
      ValidateSend(*request, ctx_->limits, "", now);
  if (!valid.ok()) return FinishWith(call, valid.status());

  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  int64_t tenant_id = caller->tenant_id;
  auto validated = std::make_shared<ValidatedSend>(std::move(*valid));
  std::string from = validated->message.from_address;
  GateSenders(tenant_id, {from},
              [this, reactor, response, tenant_id, validated,
               now](std::vector<absl::Status> gate) {
                if (!gate[0].ok()) {
                  reactor->Finish(ToGrpc(gate[0]));
                  return;
                }
                StoreOne(reactor, response, tenant_id, std::move(*validated),
                         now);
              });
  return reactor;
}

void MessagesService::GateSenders(
    int64_t tenant_id, std::vector<std::string> from_addresses,
    std::function<void(std::vector<absl::Status>)> done) {
  if (ctx_->send_gate == nullptr) {
    done(std::vector<absl::Status>(from_addresses.size(), absl::OkStatus()));
    return;
  }
  ctx_->send_gate->Check(tenant_id, std::move(from_addresses), std::move(done));
}

void MessagesService::StoreOne(grpc::ServerUnaryReactor* reactor,
                               v1::SendResponse* response, int64_t tenant_id,
                               ValidatedSend valid, absl::Time now) {
  if (absl::Status s = CheckListSubscription(*ctx_->store, tenant_id, valid, "");
      !s.ok()) {
    reactor->Finish(ToGrpc(s));
    return;
  }
  absl::StatusOr<store::NewMessage> item = PrepareMessage(
      *ctx_->store, tenant_id, std::move(valid.message), valid.send_time,
      std::move(valid.request_hash), now, "",
      valid.list.empty() ? nullptr : ctx_->list_unsubscribe);
  if (!item.ok()) {
    reactor->Finish(ToGrpc(item.status()));
    return;
  }
  ToProto(item->message, response->mutable_message());
  std::vector<store::NewMessage> batch;
  batch.push_back(std::move(*item));
  ServiceContext* ctx = ctx_;
  ctx_->store->InsertMessages(
      std::move(batch),
      [reactor, response, tenant_id,
       ctx](absl::StatusOr<std::vector<store::InsertOutcome>> result) {
        if (!result.ok()) {
          reactor->Finish(ToGrpc(absl::UnavailableError(absl::StrCat(
              "message not stored: ", result.status().message()))));
          return;
        }
        const store::InsertOutcome& outcome = result->front();
        absl::Status filled = ApplyOutcome(*ctx->store, tenant_id, outcome,
                                           response->mutable_message());
        if (!outcome.replayed && ctx->on_queued) ctx->on_queued();
        reactor->Finish(ToGrpc(filled));
      });
}

grpc::ServerUnaryReactor* MessagesService::SendBatch(
    grpc::CallbackServerContext* call, const v1::SendBatchRequest* request,
    v1::SendBatchResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (request->messages_size() == 0 || request->messages_size() > kMaxBatch) {
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "messages: between 1 and ", kMaxBatch,
                                " messages per batch, got ",
                                request->messages_size())));
  }
  if (absl::Status s = ValidateRequestId(request->request_id(), "request_id");
      !s.ok()) {
    return FinishWith(call, s);
  }
  if (request->request_id().size() > kMaxBatchRequestId) {
    // Items are protected as "<request_id>#<index>", which must itself fit.
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "request_id: a batch request_id may have at "
                                "most ",
                                kMaxBatchRequestId, " characters")));
  }
  absl::Time now = absl::Now();
  int64_t tenant_id = caller->tenant_id;

  // Validation first; then the senders' domains (when the tenant's policy
  // gates them), then storing.
  auto validated =
      std::make_shared<std::vector<std::optional<ValidatedSend>>>(
          request->messages_size());
  std::vector<std::string> froms;
  std::vector<int> gated_items;
  for (int i = 0; i < request->messages_size(); ++i) {
    response->add_results();
    const v1::SendRequest* item_request = &request->messages(i);
    v1::SendRequest with_id;
    if (item_request->request_id().empty() && !request->request_id().empty()) {
      // A batch-level key protects each item under a derived key, so a
      // replayed batch replays item by item.
      with_id = *item_request;
      with_id.set_request_id(absl::StrCat(request->request_id(), "#", i));
      item_request = &with_id;
    }
    absl::StatusOr<ValidatedSend> valid = ValidateSend(
        *item_request, ctx_->limits, absl::StrCat("messages[", i, "]."), now);
    if (!valid.ok()) {
      SetItemError(valid.status(), response->mutable_results(i)->mutable_error());
      continue;
    }
    froms.push_back(valid->message.from_address);
    gated_items.push_back(i);
    (*validated)[i] = std::move(*valid);
  }

  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  GateSenders(
      tenant_id, std::move(froms),
      [this, reactor, request, response, tenant_id, validated, gated_items,
       now](std::vector<absl::Status> gate) {
        for (size_t k = 0; k < gated_items.size(); ++k) {
          if (gate[k].ok()) continue;
          int i = gated_items[k];
          (*validated)[i].reset();
          SetItemError(
              absl::Status(gate[k].code(),
                           absl::StrCat("messages[", i, "].", gate[k].message())),
              response->mutable_results(i)->mutable_error());
        }
        StoreBatch(reactor, request, response, tenant_id, std::move(*validated),
                   now);
      });
  return reactor;
}

void MessagesService::StoreBatch(
    grpc::ServerUnaryReactor* reactor, const v1::SendBatchRequest* request,
    v1::SendBatchResponse* response, int64_t tenant_id,
    std::vector<std::optional<ValidatedSend>> validated, absl::Time now) {
  // Items keep their request order; `slot[i]` is the index into the stored
  // batch, or -1 when the item was refused before storing.
  auto slot = std::make_shared<std::vector<int>>(request->messages_size(), -1);
  std::vector<store::NewMessage> batch;
  batch.reserve(request->messages_size());
  absl::StatusOr<std::vector<RecipientSuppressions>> suppressions =
      BatchSuppressions(*ctx_->store, tenant_id, validated, now);
  if (!suppressions.ok()) {
    reactor->Finish(ToGrpc(suppressions.status()));
    return;
  }
  for (int i = 0; i < request->messages_size(); ++i) {
    if (!validated[i].has_value()) continue;
    ValidatedSend& valid = *validated[i];
    absl::Status subscribed = CheckListSubscription(
        *ctx_->store, tenant_id, valid, absl::StrCat("messages[", i, "]."));
    if (absl::IsFailedPrecondition(subscribed)) {
      SetItemError(subscribed, response->mutable_results(i)->mutable_error());
      continue;
    }
    if (!subscribed.ok()) {
      reactor->Finish(ToGrpc(subscribed));
      return;
    }
    absl::StatusOr<store::NewMessage> item = PrepareMessage(
        *ctx_->store, tenant_id, std::move(valid.message), valid.send_time,
        std::move(valid.request_hash), now, "",
        valid.list.empty() ? nullptr : ctx_->list_unsubscribe,
        &(*suppressions)[i]);
    if (!item.ok()) {
      reactor->Finish(ToGrpc(item.status()));
      return;
    }
    (*slot)[i] = static_cast<int>(batch.size());
    ToSummaryProto(item->message,
                   response->mutable_results(i)->mutable_message());
    batch.push_back(std::move(*item));
  }

  if (batch.empty()) {
    response->set_rejected_count(request->messages_size());
    reactor->Finish(grpc::Status::OK);
    return;
  }
  ServiceContext* ctx = ctx_;
  ctx_->store->InsertMessages(
      std::move(batch),
      [reactor, response, slot, tenant_id,
       ctx](absl::StatusOr<std::vector<store::InsertOutcome>> result) {
        if (!result.ok()) {
          reactor->Finish(ToGrpc(absl::UnavailableError(absl::StrCat(
              "batch not stored: ", result.status().message()))));
          return;
        }
        int accepted = 0, rejected = 0;
        bool queued = false;
        for (size_t i = 0; i < slot->size(); ++i) {
          v1::SendBatchResult* out = response->mutable_results(i);
          int k = (*slot)[i];
          if (k < 0) {
            ++rejected;
            continue;
          }
          const store::InsertOutcome& outcome = (*result)[k];
          absl::Status status =
              ApplyOutcome(*ctx->store, tenant_id, outcome,
                           out->mutable_message(), /*summary=*/true);
          if (!status.ok()) {
            SetItemError(status, out->mutable_error());
            ++rejected;
            continue;
          }
          queued |= !outcome.replayed;
          ++accepted;
        }
        response->set_accepted_count(accepted);
        response->set_rejected_count(rejected);
        if (queued && ctx->on_queued) ctx->on_queued();
        reactor->Finish(grpc::Status::OK);
      });
}

grpc::ServerUnaryReactor* MessagesService::GetMessage(
    grpc::CallbackServerContext* call, const v1::GetMessageRequest* request,
    v1::Message* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  std::string id = MessageIdFromName(request->name());
  if (id.empty()) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "name: expected \"messages/{id}\" or an id "
                                "starting with m_"));
  }
  absl::StatusOr<store::Message> message =
      ctx_->store->GetMessage(caller->tenant_id, id, false);
  if (!message.ok()) return FinishWith(call, message.status());
  absl::StatusOr<std::vector<store::Event>> events =
      ctx_->store->MessageEvents(caller->tenant_id, id);
  if (!events.ok()) return FinishWith(call, events.status());
  ToProto(*message, response);
  for (const store::Event& e : *events) ToProto(e, response->add_events());
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* MessagesService::ListMessages(
    grpc::CallbackServerContext* call, const v1::ListMessagesRequest* request,
    v1::ListMessagesResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  int page_size = request->page_size();
  if (page_size < 0 || page_size > kMaxPageSize) {
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "page_size: must be between 0 and ",
                                kMaxPageSize)));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  std::optional<store::MessageCursor> after;
  if (!request->page_token().empty()) {
    after = DecodePageToken(request->page_token());
    if (!after.has_value()) {
      return FinishWith(call, absl::InvalidArgumentError(
                                  "page_token: not a token from ListMessages"));
    }
  }
  store::MessageFilter filter;
  for (int i = 0; i < request->statuses_size(); ++i) {
    int value = request->statuses(i);
    if (!IsKnownStatus(value)) {
      return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                  "statuses[", i, "]: unknown status ", value)));
    }
    filter.statuses.push_back(static_cast<store::MessageStatus>(value));
  }
  filter.recipient = request->recipient();
  filter.sender = request->sender();
  filter.tag = request->tag();
  if (request->has_start_time()) {
    filter.start_time = FromTimestamp(request->start_time());
  }
  if (request->has_end_time()) {
    filter.end_time = FromTimestamp(request->end_time());
  }
  if (filter.start_time != absl::InfinitePast() &&
      filter.end_time != absl::InfiniteFuture() &&
      filter.end_time <= filter.start_time) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "end_time: must be after start_time"));
  }
  absl::StatusOr<store::MessagePage> page =
      ctx_->store->ListMessages(caller->tenant_id, filter, page_size, after);
  if (!page.ok()) return FinishWith(call, page.status());
  for (const store::Message& m : page->messages) {
    ToProto(m, response->add_messages());
  }
  if (page->next.has_value()) {
    response->set_next_page_token(EncodePageToken(*page->next));
  }
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* MessagesService::Resend(
    grpc::CallbackServerContext* call, const v1::ResendRequest* request,
    v1::ResendResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (request->names_size() == 0 || request->names_size() > kMaxBatch) {
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "names: between 1 and ", kMaxBatch,
                                " messages per call")));
  }
  if (absl::Status s = ValidateRequestId(request->request_id(), "request_id");
      !s.ok()) {
    return FinishWith(call, s);
  }
  const std::string& reason = request->override_reason();
  if (request->override_suppression() && reason.empty()) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "override_reason: required when "
                                "override_suppression is set"));
  }
  if (reason.size() > 1024 || HasLineBreakOrNul(reason)) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "override_reason: at most 1024 bytes, without "
                                "CR, LF or NUL"));
  }
  int64_t tenant_id = caller->tenant_id;
  absl::Time now = absl::Now();
  auto slot = std::make_shared<std::vector<int>>(request->names_size(), -1);
  std::vector<store::NewMessage> batch;
  for (int i = 0; i < request->names_size(); ++i) {
    v1::ResendResult* result = response->add_results();
    result->set_original(request->names(i));
    std::string id = MessageIdFromName(request->names(i));
    if (id.empty()) {
      SetItemError(absl::InvalidArgumentError(absl::StrCat(
                       "names[", i, "]: expected \"messages/{id}\"")),
                   result->mutable_error());
      continue;
    }
    absl::StatusOr<store::Message> original =
        ctx_->store->GetMessage(tenant_id, id, true);
    if (!original.ok()) {
      SetItemError(absl::IsNotFound(original.status())
                       ? absl::NotFoundError(absl::StrCat(
                             "names[", i, "]: no message ", MessageName(id)))
                       : original.status(),
                   result->mutable_error());
      continue;
    }
    store::Message copy;
    copy.from_address = original->from_address;
    copy.from_name = original->from_name;
    copy.subject = original->subject;
    copy.tags = original->tags;
    copy.metadata = original->metadata;
    copy.stream = original->stream;
    copy.size_bytes = original->size_bytes;
    copy.content = original->content;
    copy.resend_of = original->id;
    for (const store::Recipient& r : original->recipients) {
      store::Recipient fresh;
      fresh.address = r.address;
      fresh.kind = r.kind;
      copy.recipients.push_back(std::move(fresh));
    }
    if (!request->request_id().empty()) {
      copy.request_id = absl::StrCat(request->request_id(), "#", id);
    }
    std::string hash = store::Sha256(absl::StrCat(
        id, "|", request->override_suppression() ? "1" : "0", "|", reason));
    absl::StatusOr<store::NewMessage> item = PrepareMessage(
        *ctx_->store, tenant_id, std::move(copy), absl::InfinitePast(),
        std::move(hash), now,
        request->override_suppression() ? reason : std::string(),
        /*list_unsubscribe=*/nullptr);
    if (!item.ok()) return FinishWith(call, item.status());
    std::vector<std::string> blocked;
    for (const store::Recipient& r : item->message.recipients) {
      if (r.status == store::MessageStatus::kSuppressed) {
        blocked.push_back(absl::StrCat(r.address, " (", r.detail, ")"));
      }
    }
    if (!blocked.empty()) {
      SetItemError(
          absl::FailedPreconditionError(absl::StrCat(
              "names[", i, "]: suppressed recipients: ",
              absl::StrJoin(blocked, ", "),
              "; set override_suppression and override_reason to send anyway")),
          result->mutable_error());
      continue;
    }
    item->related_events.push_back(
        NewEvent(*original, store::EventType::kResent, now, "",
                 absl::StrCat("resent as ", MessageName(item->message.id))));
    (*slot)[i] = static_cast<int>(batch.size());
    ToProto(item->message, result->mutable_message());
    batch.push_back(std::move(*item));
  }
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  if (batch.empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  ServiceContext* ctx = ctx_;
  ctx_->store->InsertMessages(
      std::move(batch),
      [reactor, response, slot, tenant_id,
       ctx](absl::StatusOr<std::vector<store::InsertOutcome>> result) {
        if (!result.ok()) {
          reactor->Finish(ToGrpc(absl::UnavailableError(absl::StrCat(
              "resend not stored: ", result.status().message()))));
          return;
        }
        bool queued = false;
        for (size_t i = 0; i < slot->size(); ++i) {
          int k = (*slot)[i];
          if (k < 0) continue;
          v1::ResendResult* out = response->mutable_results(i);
          const store::InsertOutcome& outcome = (*result)[k];
          absl::Status status = ApplyOutcome(*ctx->store, tenant_id, outcome,
                                             out->mutable_message());
          if (!status.ok()) {
            SetItemError(status, out->mutable_error());
            continue;
          }
          queued |= !outcome.replayed;
        }
        if (queued && ctx->on_queued) ctx->on_queued();
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

namespace {

// One WatchEvents stream. Reads happen on the EventHub's thread (Poll);
// writes complete on gRPC threads (OnWriteDone). `mu_` orders the two.
class EventStream final : public grpc::ServerWriteReactor<v1::WatchEventsResponse>,
                          public EventWatcher {
 public:
  EventStream(ServiceContext* ctx, int64_t tenant_id, int64_t after_id,
              store::EventFilter filter)
      : ctx_(ctx),
        tenant_id_(tenant_id),
        after_id_(after_id),
        filter_(std::move(filter)) {
    ctx_->hub->Register(this);
  }

  void Poll() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || finished_) return;
    // A filter may skip whole pages; read on until something matches or the
    // stream is caught up, a bounded number of pages per Poll.
    absl::StatusOr<store::EventBatch> batch;
    for (int page = 0; page < 64; ++page) {
      batch = ctx_->store->ReadEvents(tenant_id_, after_id_, filter_, 256);
      if (!batch.ok()) {
        FinishLocked(ToGrpc(batch.status()));
        return;
      }
      after_id_ = batch->scanned_through;
      if (!batch->events.empty() || !batch->more) break;
    }
    if (batch->events.empty() && batch->more) ctx_->hub->Notify();
    for (const store::Event& e : batch->events) {
      v1::WatchEventsResponse response;
      ToProto(e, response.mutable_event());
      queue_.push_back(std::move(response));
    }
    WriteNextLocked();
  }

  void Shutdown() override {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    if (!writing_) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server is shutting down; resume with the "
                                "last cursor"));
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
      return;
    }
    if (shutting_down_) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "server is shutting down; resume with the "
                                "last cursor"));
      return;
    }
    WriteNextLocked();
    if (!writing_) ctx_->hub->Notify();  // caught up? look again soon
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!writing_) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
  }

  void OnDone() override {
    ctx_->hub->Unregister(this);
    delete this;
  }

 private:
  void WriteNextLocked() {
    if (queue_.empty() || writing_ || finished_) return;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  ServiceContext* ctx_;
  int64_t tenant_id_;
  std::mutex mu_;
  int64_t after_id_;
  store::EventFilter filter_;
  std::deque<v1::WatchEventsResponse> queue_;
  v1::WatchEventsResponse current_;
  bool writing_ = false;
  bool finished_ = false;
  bool shutting_down_ = false;
};

class FailedStream final
    : public grpc::ServerWriteReactor<v1::WatchEventsResponse> {
 public:
  explicit FailedStream(const absl::Status& status) { Finish(ToGrpc(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchEventsResponse>* MessagesService::WatchEvents(
    grpc::CallbackServerContext* call, const v1::WatchEventsRequest* request) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return new FailedStream(caller.status());
  if (ctx_->hub->shutting_down()) {
    return new FailedStream(absl::UnavailableError("server is shutting down"));
  }
  store::EventFilter filter;
  if (!request->message().empty()) {
    filter.message_id = MessageIdFromName(request->message());
    if (filter.message_id.empty()) {
      return new FailedStream(absl::InvalidArgumentError(
          "message: expected \"messages/{id}\""));
    }
  }
  filter.tag = request->tag();
  for (int i = 0; i < request->types_size(); ++i) {
    if (!IsKnownEventType(request->types(i))) {
      return new FailedStream(absl::InvalidArgumentError(
          absl::StrCat("types[", i, "]: unknown event type ",
                       request->types(i))));
    }
    filter.types.push_back(static_cast<store::EventType>(request->types(i)));
  }
  int64_t after_id = 0;
  if (!request->after_cursor().empty()) {
    after_id = ParseEventCursor(request->after_cursor());
    if (after_id < 0) {
      return new FailedStream(absl::InvalidArgumentError(
          "after_cursor: not a cursor from an Event"));
    }
  } else if (!request->from_beginning()) {
    absl::StatusOr<int64_t> last = ctx_->store->LastEventId(caller->tenant_id);
    if (!last.ok()) return new FailedStream(last.status());
    after_id = *last;
  }
  return new EventStream(ctx_, caller->tenant_id, after_id, std::move(filter));
}

}  // namespace deliverd::api
