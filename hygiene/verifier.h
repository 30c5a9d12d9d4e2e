// One verdict per address, with DNS: the offline verdict (syntax, typo,
// disposable, role; hygiene/offline_verdict.h) refined by where the
// address's domain takes mail (auth_checks/mx.h). Each distinct domain is
// looked up once, and all domains' lookups are in flight together.
//
// Verdicts with DNS:
//   syntax or special-use failure        undeliverable (offline reason)
//   domain does not exist                undeliverable  domain.nxdomain
//   null MX (RFC 7505)                   undeliverable  domain.null_mx
//   neither MX nor A/AAAA                undeliverable  domain.no_mail_host
//   DNS failure (SERVFAIL, timeout)      unknown        domain.dns_error
//   mail host found, offline risky       risky          (offline reason)
//   mail host found                      deliverable    ok.mx / ok.implicit_mx
// "deliverable" means the domain takes mail; no mailbox is probed (probing
// mailboxes over SMTP harms the sender's reputation). Address literals are
// not looked up and stay "unknown".
//
// Thread-safe if the resolver is.
#ifndef DELIVERD_HYGIENE_VERIFIER_H_
#define DELIVERD_HYGIENE_VERIFIER_H_

#include <string>
#include <vector>

#include "auth_checks/dns/resolver.h"
#include "hygiene/offline_verdict.h"

namespace deliverd::hygiene {

std::vector<AddressVerdict> VerifyWithDns(
    auth_checks::dns::Resolver& resolver,
    const std::vector<std::string>& addresses);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_VERIFIER_H_
