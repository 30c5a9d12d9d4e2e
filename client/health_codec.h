// The wire format of grpc.health.v1.Health/Check, encoded by hand.
//
// Why by hand: Debian ships no health.proto and deliverctl needs only two
// tiny messages, so instead of vendoring the file the client encodes
// HealthCheckRequest {string service = 1} and decodes
// HealthCheckResponse {ServingStatus status = 1} itself, and calls the
// method through grpc::GenericStub.
//
// Contract: decoding skips unknown fields (newer servers may add some) and
// fails only on malformed bytes; a missing status field is 0 (UNKNOWN), as
// in proto3.
#ifndef DELIVERD_CLIENT_HEALTH_CODEC_H_
#define DELIVERD_CLIENT_HEALTH_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::client {

inline constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";

// Serving statuses of grpc.health.v1.HealthCheckResponse.
inline constexpr int kHealthServing = 1;

// Empty `service` asks about the server as a whole.
std::string EncodeHealthCheckRequest(absl::string_view service);

// The status enum's number.
absl::StatusOr<int> DecodeHealthCheckResponse(absl::string_view bytes);

// "SERVING", "NOT_SERVING", ...; unknown numbers as "UNKNOWN(7)".
std::string HealthStatusName(int status);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_HEALTH_CODEC_H_
