// auth_checks::DomainReport as a v1::DomainReport, for `check-domain
// --local` (see the .cc for why this mirrors the server's translation).
// Pure; thread-safe.
#ifndef DELIVERD_CLIENT_DOMAIN_REPORT_LOCAL_H_
#define DELIVERD_CLIENT_DOMAIN_REPORT_LOCAL_H_

#include "absl/time/time.h"
#include "auth_checks/domain_check.h"
#include "deliverd/v1/hygiene.pb.h"

namespace deliverd::client {

v1::SpfResult SpfResultToProto(auth_checks::spf::SpfResult result);
v1::DomainReport DomainReportToProto(const auth_checks::DomainReport& report,
                                     absl::Time check_time);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_DOMAIN_REPORT_LOCAL_H_
