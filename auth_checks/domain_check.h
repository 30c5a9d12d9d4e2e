// The sending-domain report: SPF, DKIM (per selector), DMARC and mail
// routes of one domain, each with Findings a person can act on, and one
// verdict a CI pre-send check can gate on.
//
// SPF is judged twice: the published record (syntax, all/ptr lints) and a
// probe evaluation of check_host() for an address that matches nothing
// (0.0.0.1: "this network", never a sender, and outside every range but a
// /7 or wider), which walks every include and so counts the lookups and
// void lookups a real receiver may need.
//
// Contract
//   * CheckDomain() never fails; DNS trouble is a finding. It issues the
//     independent lookups (SPF, each DKIM selector, DMARC, MX) concurrently
//     through `resolver` (thread-safe), and costs at most the resolver's
//     bounded time per dependent step.
//   * `ttl` is the smallest TTL of the answers read directly (the domain's
//     TXT, the selectors', the DMARC walk's, MX), for callers that cache the
//     report; 0 when any of them was a failure.
//
// Codes: those of spf_lint, dkim_key (prefixed with the selector in the
// message), dmarc_record and dmarc_discovery, plus
//   mx.nxdomain [error]        the domain does not exist.
//   mx.null_mx [warning]       "MX 0 .": replies and bounces to it fail.
//   mx.no_mail_host [warning]  no MX and no address: replies cannot arrive.
//   mx.implicit [info]         no MX; its A/AAAA address takes mail.
//   mx.dns_failure [warning]   the MX lookup failed transiently.
//   dkim.no_selectors [info]   no selector asked for: DKIM not checked.
#ifndef DELIVERD_AUTH_CHECKS_DOMAIN_CHECK_H_
#define DELIVERD_AUTH_CHECKS_DOMAIN_CHECK_H_

#include <string>
#include <string_view>
#include <vector>

#include "auth_checks/dkim/dkim_key.h"
#include "auth_checks/dmarc/dmarc_discovery.h"
#include "auth_checks/dns/resolver.h"
#include "auth_checks/finding.h"
#include "auth_checks/mx.h"
#include "auth_checks/spf/spf_evaluator.h"
#include "auth_checks/spf/spf_lint.h"

namespace deliverd::auth_checks {

struct DomainCheckOptions {
  std::vector<std::string> dkim_selectors;
};

struct DkimSelectorReport {
  std::string selector;
  std::string name;  // <selector>._domainkey.<domain>
  dkim::DkimKey key;
};

enum class DomainVerdict { kPass, kWarnings, kErrors };
std::string_view DomainVerdictName(DomainVerdict verdict);  // pass, ...

struct DomainReport {
  std::string domain;
  spf::PublishedSpf spf;
  spf::SpfCheckResult spf_probe;  // trace and lookup counts
  std::vector<DkimSelectorReport> dkim;
  dmarc::DmarcDiscovery dmarc;
  MailHosts mx;
  // Every finding: SPF, DKIM, DMARC, MX, in that order.
  std::vector<Finding> findings;
  DomainVerdict verdict = DomainVerdict::kPass;
  uint32_t ttl = 0;
};

// `domain`: lower-case A-labels, no trailing dot (callers validate).
DomainReport CheckDomain(dns::Resolver& resolver, std::string_view domain,
                         const DomainCheckOptions& options);

// The address the SPF probe evaluates.
inline constexpr char kSpfProbeAddress[] = "0.0.0.1";

}  // namespace deliverd::auth_checks

#endif  // DELIVERD_AUTH_CHECKS_DOMAIN_CHECK_H_
