// Finding the DMARC policy that applies to a domain, and its organisational
// domain.
//
// Two definitions of the organisational domain are in use and a report
// shows both when they differ:
//   * RFC 7489: the registrable domain under the public suffix list
//     ("mail.shop.example.co.uk" -> "example.co.uk"), from libpsl with the
//     newest list on the machine (Debian's publicsuffix package, else the
//     list built into libpsl).
//   * DMARCbis: the DNS tree walk. _dmarc.<domain> first; without a record
//     there, the name is shortened to its last 7 labels when it has 8 or
//     more, and then one label at a time from the left, querying
//     _dmarc.<name> at each step down to the single-label name (at most 8
//     queries). The first record found applies; when it is not the domain's
//     own, its sp= (or np=) policy is what receivers use for the domain.
//
// Why the walk and not only the list: the list is a snapshot that lags
// registries, and DMARCbis receivers walk; a report that matches what
// receivers will do is the useful one.
//
// Contract
//   * DiscoverDmarc() queries through `resolver` (thread-safe if the resolver
//     is) and never fails: DNS trouble is a dmarc.dns_failure finding, and
//     the walk stops there (a later answer could not be trusted to be the
//     applicable one).
//   * OrganizationalDomain() is pure and thread-safe (libpsl's context is
//     loaded once). Input is a lower-case A-label domain without a trailing
//     dot; the result is lower-case, or the input itself for a name the
//     list does not know.
//
// Codes added to the record's (severity):
//   dmarc.inherited [info]   no record at the domain; a parent's applies.
//   dmarc.no_record [error]  no record at the domain or above it.
#ifndef DELIVERD_AUTH_CHECKS_DMARC_DMARC_DISCOVERY_H_
#define DELIVERD_AUTH_CHECKS_DMARC_DMARC_DISCOVERY_H_

#include <string>
#include <string_view>
#include <vector>

#include "auth_checks/dmarc/dmarc_record.h"
#include "auth_checks/dns/resolver.h"
#include "auth_checks/finding.h"

namespace deliverd::auth_checks::dmarc {

std::string OrganizationalDomain(std::string_view domain);

// The names the DMARCbis tree walk queries for `domain`, in order
// ("_dmarc.a.b.example", "_dmarc.b.example", "_dmarc.example").
std::vector<std::string> TreeWalkNames(std::string_view domain);

struct DmarcDiscovery {
  std::string domain;
  std::string organizational_domain;  // RFC 7489 (public suffix list)
  // Where the applicable record was found (without "_dmarc."); empty when
  // none applies.
  std::string found_at;
  bool inherited = false;  // found_at is a parent of domain
  // The lookup at found_at, or at the domain when nothing was found.
  DmarcLookup lookup;
  std::vector<std::string> queried;  // names asked, in order
  std::vector<Finding> findings;     // lookup's findings plus the walk's
  // The policy receivers apply to mail from `domain` (p, or sp/np when
  // inherited), when a record applies.
  std::optional<Policy> applied_policy;
  uint32_t ttl = 0;  // smallest TTL of the answers used (for caching)
};

DmarcDiscovery DiscoverDmarc(dns::Resolver& resolver, std::string_view domain);

}  // namespace deliverd::auth_checks::dmarc

#endif  // DELIVERD_AUTH_CHECKS_DMARC_DMARC_DISCOVERY_H_
