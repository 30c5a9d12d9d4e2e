// SPF check_host() (RFC 7208 sections 4 to 6, 8, 11) over a dns::Resolver.
//
// Why hand-written: see spf_macro.h. In short, SPF is deliverd's core check
// and must be exactly right (the limits and the DNS-outcome rules decide
// pass/fail of real mail), thread-safe, and built on our own resolver.
//
// Contract
//   * CheckHost() is a pure function of the request and DNS answers; the
//     evaluator holds no mutable state, so one instance can serve any number
//     of threads at once (the Resolver must be thread-safe, as all are).
//   * It always returns a result; problems become temperror (a DNS failure:
//     SERVFAIL, REFUSED, timeout, malformed reply) or permerror (syntax,
//     multiple records, limits, include/redirect of a domain with no record),
//     with `problem` saying what happened.
//   * Processing limits (4.6.4), per evaluation, across includes/redirects:
//     10 DNS-querying terms (include, a, mx, ptr, exists, redirect), 10 MX
//     names per mx, 10 PTR names per ptr (the rest ignored), 2 void lookups
//     (NODATA or NXDOMAIN answers to a term's query). Exceeding -> permerror.
//   * Bounded time: every lookup is bounded by the resolver, and at most
//     about 10 * (1 + 10) lookups happen (plus the exp and %{p} lookups).
//   * The explanation (exp=) is computed only for a fail result, only from
//     the record that produced it (never from an include's record; from the
//     redirect target's record after a redirect). Without one it is empty.
#ifndef DELIVERD_AUTH_CHECKS_SPF_SPF_EVALUATOR_H_
#define DELIVERD_AUTH_CHECKS_SPF_SPF_EVALUATOR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth_checks/dns/resolver.h"

namespace deliverd::auth_checks::spf {

enum class SpfResult {
  kNone,
  kNeutral,
  kPass,
  kFail,
  kSoftFail,
  kTempError,
  kPermError,
};

// "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror".
std::string_view SpfResultName(SpfResult result);

// One check_host() call in the evaluation: the top domain, then one child per
// include and redirect followed.
struct SpfTraceNode {
  std::string via;     // "" at the top, else the include/redirect term.
  std::string domain;  // The domain evaluated.
  std::string record;  // The SPF record found ("" if none).
  SpfResult result = SpfResult::kNone;
  std::string matched_term;  // "" when none matched.
  std::string problem;       // Why temperror/permerror/none, if so.
  std::vector<SpfTraceNode> children;
};

// A readable indented tree, one line per node.
std::string FormatTrace(const SpfTraceNode& node);

struct SpfCheckResult {
  SpfResult result = SpfResult::kNone;
  std::string explanation;   // Only for fail with a usable exp=.
  std::string matched_term;  // The top record's deciding term, if any.
  std::string problem;       // For temperror/permerror/none.
  int dns_lookups = 0;       // DNS-querying terms evaluated.
  int void_lookups = 0;
  SpfTraceNode trace;
};

struct SpfRequest {
  std::string ip;      // The SMTP client's address, IPv4 or IPv6 text.
  std::string domain;  // <domain>: the identity's domain.
  std::string sender;  // <sender>: "local@domain" (local part may be empty).
  std::string helo;    // For %{h}.
  std::string receiver = "unknown";  // For %{r}.
  int64_t timestamp = 0;             // For %{t}; 0: now.
};

struct SpfLimits {
  int max_dns_terms = 10;
  int max_void_lookups = 2;
  int max_mx_names = 10;
  int max_ptr_names = 10;
};

class SpfEvaluator {
 public:
  explicit SpfEvaluator(dns::Resolver& resolver, SpfLimits limits = {})
      : resolver_(resolver), limits_(limits) {}

  SpfCheckResult CheckHost(const SpfRequest& request) const;

  // The MAIL FROM identity (RFC 7208 2.4): the domain of `mail_from`; with
  // an empty reverse-path, "postmaster@" + helo (the HELO identity, 2.3).
  SpfCheckResult CheckMailFrom(std::string_view ip, std::string_view mail_from,
                               std::string_view helo) const;

 private:
  dns::Resolver& resolver_;
  SpfLimits limits_;
};

}  // namespace deliverd::auth_checks::spf

#endif  // DELIVERD_AUTH_CHECKS_SPF_SPF_EVALUATOR_H_
