#include "server/api/convert.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace deliverd::api {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return;
  int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string MessageName(const std::string& id) {
  return absl::StrCat(kMessagePrefix, id);
}

std::string MessageIdFromName(const std::string& name) {
  absl::string_view id = name;
  absl::ConsumePrefix(&id, kMessagePrefix);
  if (!absl::StartsWith(id, "m_") || id.size() > 64) return "";
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return "";
    }
  }
  return std::string(id);
}

void ToProto(const store::Reply& reply, v1::SmtpReply* out) {
  out->set_code(reply.code);
  out->set_enhanced_code(reply.enhanced_code);
  out->set_text(reply.text);
  out->set_remote_host(reply.remote_host);
}

void ToProto(const store::Event& event, v1::Event* out) {
  out->set_cursor(EventCursor(event.id));
  // An event about no message (an unsubscribe through the API) has none.
  if (!event.message_id.empty()) {
    out->set_message(MessageName(event.message_id));
  }
  out->set_type(static_cast<v1::EventType>(event.type));
  ToTimestamp(event.time, out->mutable_time());
  out->set_recipient(event.recipient);
  out->set_source(event.source);
  out->set_detail(event.detail);
  if (event.reply.code != 0 || !event.reply.text.empty()) {
    ToProto(event.reply, out->mutable_reply());
  }
  for (const std::string& tag : event.tags) out->add_tags(tag);
}

void ToProto(const store::Message& m, v1::Message* out) {
  out->set_name(MessageName(m.id));
  out->set_id(m.id);
  out->set_status(static_cast<v1::MessageStatus>(m.status));
  out->mutable_from()->set_address(m.from_address);
  out->mutable_from()->set_display_name(m.from_name);
  for (const store::Recipient& r : m.recipients) {
    v1::Recipient* rp = out->add_recipients();
    rp->set_address(r.address);
    rp->set_kind(static_cast<v1::RecipientKind>(r.kind));
    rp->set_status(static_cast<v1::MessageStatus>(r.status));
    rp->set_detail(r.detail);
    if (r.last_reply.code != 0 || !r.last_reply.text.empty()) {
      ToProto(r.last_reply, rp->mutable_last_reply());
    }
  }
  out->set_subject(m.subject);
  for (const std::string& tag : m.tags) out->add_tags(tag);
  if (!m.metadata.empty()) {
    v1::SendRequest holder;
    if (holder.ParseFromString(m.metadata)) {
      *out->mutable_metadata() = holder.metadata();
    }
  }
  out->set_stream(m.stream);
  ToTimestamp(m.create_time, out->mutable_create_time());
  ToTimestamp(m.update_time, out->mutable_update_time());
  if (m.next_attempt_time != absl::InfiniteFuture()) {
    ToTimestamp(m.next_attempt_time, out->mutable_next_attempt_time());
  }
  out->set_attempt_count(m.attempt_count);
  if (!m.resend_of.empty()) out->set_resend_of(MessageName(m.resend_of));
  out->set_rfc822_message_id(m.rfc822_message_id);
  out->set_size_bytes(m.size_bytes);
  out->set_request_id(m.request_id);
}

void ToSummaryProto(const store::Message& m, v1::Message* out) {
  out->set_name(MessageName(m.id));
  out->set_id(m.id);
  out->set_status(static_cast<v1::MessageStatus>(m.status));
  for (const store::Recipient& r : m.recipients) {
    v1::Recipient* rp = out->add_recipients();
    rp->set_address(r.address);
    rp->set_kind(static_cast<v1::RecipientKind>(r.kind));
    rp->set_status(static_cast<v1::MessageStatus>(r.status));
  }
  ToTimestamp(m.create_time, out->mutable_create_time());
  if (m.next_attempt_time != absl::InfiniteFuture()) {
    ToTimestamp(m.next_attempt_time, out->mutable_next_attempt_time());
  }
  out->set_request_id(m.request_id);
}

void ToProto(const store::Suppression& s, v1::Suppression* out) {
  out->set_address(s.address);
  out->set_reason(static_cast<v1::SuppressionReason>(s.reason));
  out->set_scope(s.scope);
  ToTimestamp(s.create_time, out->mutable_create_time());
  if (s.expire_time != absl::InfiniteFuture()) {
    ToTimestamp(s.expire_time, out->mutable_expire_time());
  }
  out->set_source_message(s.source_message);
  out->set_evidence(s.evidence);
}

std::string EncodeSubscriptionMetadata(
    const google::protobuf::Map<std::string, std::string>& metadata) {
  std::string out;
  if (metadata.empty()) return out;
  v1::Subscription holder;
  *holder.mutable_metadata() = metadata;
  holder.SerializeToString(&out);
  return out;
}

void ToProto(const store::Subscription& sub, v1::Subscription* out) {
  out->set_address(sub.address);
  out->set_list(sub.list);
  out->set_state(static_cast<v1::SubscriptionState>(sub.state));
  ToTimestamp(sub.create_time, out->mutable_create_time());
  ToTimestamp(sub.update_time, out->mutable_update_time());
  out->set_source(sub.source);
  if (!sub.metadata.empty()) {
    v1::Subscription holder;
    if (holder.ParseFromString(sub.metadata)) {
      *out->mutable_metadata() = holder.metadata();
    }
  }
}

std::string EventCursor(int64_t event_id) { return absl::StrCat(event_id); }

int64_t ParseEventCursor(const std::string& cursor) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(cursor, &id) || id < 0) return -1;
  return id;
}

}  // namespace deliverd::api
