// The domain report (auth_checks::DomainReport) and SPF results as the v1
// API spells them. Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_API_DOMAIN_REPORT_PROTO_H_
#define DELIVERD_SERVER_API_DOMAIN_REPORT_PROTO_H_

#include "absl/time/time.h"
#include "auth_checks/domain_check.h"
#include "auth_checks/spf/spf_evaluator.h"
#include "deliverd/v1/hygiene.pb.h"

namespace deliverd::api {

v1::SpfResult SpfResultToProto(auth_checks::spf::SpfResult result);

// Findings are ordered most severe first (stable within a severity).
v1::DomainReport DomainReportToProto(const auth_checks::DomainReport& report,
                                     absl::Time check_time);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_DOMAIN_REPORT_PROTO_H_
