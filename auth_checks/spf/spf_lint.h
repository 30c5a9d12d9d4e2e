// What a domain publishes for SPF, judged for a person: picking the record
// out of the domain's TXT answer, and lints of the record and of a probe
// evaluation (lookup counts, the evaluation's own errors).
//
// Contract: pure functions, thread-safe, never fail; problems are Findings.
//
// Codes (stable; severity in brackets)
//   spf.no_record [error]          no v=spf1 record: receivers get "none".
//   spf.multiple_records [error]   several v=spf1 records: permerror.
//   spf.dns_failure [warning]      the TXT lookup failed transiently.
//   spf.syntax [error]             the record does not parse: permerror.
//   spf.plus_all [error]           "+all"/"all": anyone may send as the domain.
//   spf.neutral_all [warning]      "?all": says nothing about other senders.
//   spf.no_all [warning]           no "all" and no redirect=: others get neutral.
//   spf.redirect_ignored [warning] redirect= next to "all" never applies.
//   spf.ptr [warning]              the ptr mechanism (RFC 7208 5.5: do not use).
//   spf.unknown_modifier [info]    a modifier SPF does not define; ignored.
//   spf.long_record [warning]      over 450 octets: risks DNS truncation.
//   spf.too_many_lookups [error]   the probe needed more than 10 lookups.
//   spf.lookups_near_limit [warning] 9 or 10 lookups: one more include breaks it.
//   spf.too_many_void_lookups [error] more than 2 lookups found nothing.
//   spf.void_lookup [warning]      1 or 2 lookups found nothing.
//   spf.evaluation_error [error/warning] the probe ended in permerror
//                                  (error) or temperror (warning).
#ifndef DELIVERD_AUTH_CHECKS_SPF_SPF_LINT_H_
#define DELIVERD_AUTH_CHECKS_SPF_SPF_LINT_H_

#include <string>
#include <string_view>
#include <vector>

#include "auth_checks/dns/resolver.h"
#include "auth_checks/finding.h"
#include "auth_checks/spf/spf_evaluator.h"

namespace deliverd::auth_checks::spf {

struct PublishedSpf {
  enum Status { kFound, kNoRecord, kMultipleRecords, kDnsFailure };
  Status status = kNoRecord;
  std::string record;  // the v=spf1 record when kFound
  std::vector<Finding> findings;
  uint32_t ttl = 0;
};

// Interprets the TXT answer for `domain` and lints the record found.
PublishedSpf SelectSpfRecord(const dns::Answer& txt, std::string_view domain);

// Lints of a check_host() run made to walk the whole record (a probe
// address that matches nothing): lookup and void-lookup counts against the
// limits, and where the evaluation broke.
std::vector<Finding> LintSpfEvaluation(const SpfCheckResult& probe);

}  // namespace deliverd::auth_checks::spf

#endif  // DELIVERD_AUTH_CHECKS_SPF_SPF_LINT_H_
