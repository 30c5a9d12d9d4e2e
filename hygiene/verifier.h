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
// Thread-safe if the resolver is; a MailRouteCache is not (one per caller).
#ifndef DELIVERD_HYGIENE_VERIFIER_H_
#define DELIVERD_HYGIENE_VERIFIER_H_

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth_checks/dns/resolver.h"
#include "auth_checks/mx.h"
#include "hygiene/offline_verdict.h"

namespace deliverd::hygiene {

std::vector<AddressVerdict> VerifyWithDns(
    auth_checks::dns::Resolver& resolver,
    const std::vector<std::string>& addresses);

// Mail routes already looked up, by A-label domain, so that a list verified
// in chunks (hygiene/cleaner.h) looks each domain up once for the whole
// list, not once per chunk. Only the route is kept (not the host names):
// that is all a verdict needs, and it keeps an entry near the size of the
// domain's name. Bounded: when `max_domains` is reached the cache starts
// over, trading a few repeated lookups for a memory ceiling on lists with
// millions of distinct domains. DNS failures are not kept (they may be
// transient; the next chunk asks again). Not thread-safe.
class MailRouteCache {
 public:
  explicit MailRouteCache(size_t max_domains = 1 << 20)
      : max_domains_(max_domains) {}
  const auth_checks::MailRoute* Find(const std::string& domain) const;
  void Put(const std::string& domain, auth_checks::MailRoute route);
  size_t size() const { return routes_.size(); }

 private:
  size_t max_domains_;
  std::unordered_map<std::string, auth_checks::MailRoute> routes_;
};

// As above, reusing and filling `cache` (may be null: no reuse).
std::vector<AddressVerdict> VerifyWithDns(
    auth_checks::dns::Resolver& resolver,
    const std::vector<std::string>& addresses, MailRouteCache* cache);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_VERIFIER_H_
