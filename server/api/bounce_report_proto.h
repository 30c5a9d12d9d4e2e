// A parsed bounce (hygiene::bounce::BounceReport) as the v1 API spells it.
// Our message id comes from the returned X-Deliverd-Id header, else from a
// VERP address the bounce was sent to. Pure; thread-safe.
#ifndef DELIVERD_SERVER_API_BOUNCE_REPORT_PROTO_H_
#define DELIVERD_SERVER_API_BOUNCE_REPORT_PROTO_H_

#include "deliverd/v1/hygiene.pb.h"
#include "hygiene/bounce/bounce_message.h"

namespace deliverd::api {

v1::BounceClass BounceClassToProto(hygiene::bounce::BounceClass c);

v1::ClassifyBounceResponse BounceReportToProto(
    const hygiene::bounce::BounceReport& report);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_BOUNCE_REPORT_PROTO_H_
