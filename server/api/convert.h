// Translation between the v1 protos and the store's plain records, and
// between absl::Status and grpc::Status. Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_API_CONVERT_H_
#define DELIVERD_SERVER_API_CONVERT_H_

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "deliverd/v1/messages.pb.h"
#include "deliverd/v1/subscriptions.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/store/types.h"

namespace deliverd::api {

grpc::Status ToGrpc(const absl::Status& status);

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

constexpr char kMessagePrefix[] = "messages/";
std::string MessageName(const std::string& id);
// Accepts "messages/{id}" or a bare id; empty when malformed.
std::string MessageIdFromName(const std::string& name);

void ToProto(const store::Reply& reply, v1::SmtpReply* out);
void ToProto(const store::Event& event, v1::Event* out);
// Events are added separately (only GetMessage returns them).
void ToProto(const store::Message& message, v1::Message* out);
// The summary SendBatch returns per item (see SendBatchResult).
void ToSummaryProto(const store::Message& message, v1::Message* out);
void ToProto(const store::Suppression& suppression, v1::Suppression* out);
// Subscription.metadata is stored opaque, as a serialized v1::Subscription
// holding only its metadata map (the way message metadata is stored).
std::string EncodeSubscriptionMetadata(
    const google::protobuf::Map<std::string, std::string>& metadata);
void ToProto(const store::Subscription& subscription, v1::Subscription* out);

// The opaque cursor of an event id, and back (-1 when malformed).
std::string EventCursor(int64_t event_id);
int64_t ParseEventCursor(const std::string& cursor);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_CONVERT_H_
