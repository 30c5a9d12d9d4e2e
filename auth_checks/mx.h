// Where mail for a domain goes, from its DNS answers: MX hosts, a null MX
// (RFC 7505: the domain accepts no mail), the implicit MX (no MX records,
// so the domain's own A/AAAA, RFC 5321 5.1), or nowhere.
//
// Interpretation is kept apart from lookup so that callers can batch the
// queries of many domains (the list cleaner asks once per distinct domain)
// and so it can be tested without DNS. Pure; thread-safe.
#ifndef DELIVERD_AUTH_CHECKS_MX_H_
#define DELIVERD_AUTH_CHECKS_MX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "auth_checks/dns/resolver.h"

namespace deliverd::auth_checks {

enum class MailRoute {
  kMx,          // one or more usable MX hosts
  kNullMx,      // "MX 0 ." : mail is refused by design
  kImplicit,    // no MX; the domain's own address takes mail
  kNoMailHost,  // the name exists but has neither MX nor A/AAAA
  kNxDomain,    // the domain does not exist
  kDnsError,    // SERVFAIL, timeout, malformed: unknown for now
};

const char* MailRouteName(MailRoute route);

struct MailHosts {
  MailRoute route = MailRoute::kDnsError;
  struct Host {
    uint16_t preference = 0;
    std::string name;
  };
  std::vector<Host> hosts;  // by preference (kMx only)
  std::string detail;       // the DNS failure, for kDnsError
};

// From the MX answer alone. Returns nullopt-like kNoMailHost with
// `needs_address_lookup` set when the MX answer is NODATA: then the caller
// looks up A and AAAA and calls WithAddressAnswers.
MailHosts InterpretMx(const dns::Answer& mx, bool* needs_address_lookup);
MailHosts WithAddressAnswers(const dns::Answer& a, const dns::Answer& aaaa);

// Convenience: the lookups and the interpretation for one domain.
MailHosts LookUpMailHosts(dns::Resolver& resolver, const std::string& domain);

}  // namespace deliverd::auth_checks

#endif  // DELIVERD_AUTH_CHECKS_MX_H_
