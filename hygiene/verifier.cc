#include "hygiene/verifier.h"

#include <map>

#include "auth_checks/mx.h"

namespace deliverd::hygiene {
namespace {

namespace dns = auth_checks::dns;
using auth_checks::MailHosts;
using auth_checks::MailRoute;

std::string DomainOf(const AddressVerdict& v) {
  size_t at = v.normalized.rfind('@');
  if (at == std::string::npos) return "";
  std::string domain = v.normalized.substr(at + 1);
  if (!domain.empty() && domain.front() == '[') return "";  // literal
  return domain;
}

// Looks up every domain's mail route, all MX queries at once, then all the
// A/AAAA queries the NODATA answers call for.
std::map<std::string, MailHosts> RoutesOf(
    dns::Resolver& resolver, const std::vector<std::string>& domains) {
  std::vector<dns::Query> mx_queries;
  for (const std::string& d : domains) mx_queries.push_back({d, dns::RrType::kMx});
  std::vector<dns::Answer> mx = resolver.LookupAll(mx_queries);
  std::map<std::string, MailHosts> routes;
  std::vector<std::string> need_address;
  for (size_t i = 0; i < domains.size(); ++i) {
    bool needs = false;
    routes[domains[i]] = auth_checks::InterpretMx(mx[i], &needs);
    if (needs) need_address.push_back(domains[i]);
  }
  std::vector<dns::Query> address_queries;
  for (const std::string& d : need_address) {
    address_queries.push_back({d, dns::RrType::kA});
    address_queries.push_back({d, dns::RrType::kAaaa});
  }
  std::vector<dns::Answer> addresses = resolver.LookupAll(address_queries);
  for (size_t i = 0; i < need_address.size(); ++i) {
    routes[need_address[i]] =
        auth_checks::WithAddressAnswers(addresses[2 * i], addresses[2 * i + 1]);
  }
  return routes;
}

}  // namespace

const auth_checks::MailRoute* MailRouteCache::Find(
    const std::string& domain) const {
  auto it = routes_.find(domain);
  return it == routes_.end() ? nullptr : &it->second;
}

void MailRouteCache::Put(const std::string& domain,
                         auth_checks::MailRoute route) {
  if (routes_.size() >= max_domains_) routes_.clear();
  routes_[domain] = route;
}

std::vector<AddressVerdict> VerifyWithDns(
    dns::Resolver& resolver, const std::vector<std::string>& addresses) {
  return VerifyWithDns(resolver, addresses, nullptr);
}

std::vector<AddressVerdict> VerifyWithDns(
    dns::Resolver& resolver, const std::vector<std::string>& addresses,
    MailRouteCache* cache) {
  std::vector<AddressVerdict> verdicts;
  verdicts.reserve(addresses.size());
  std::vector<std::string> domains;
  std::map<std::string, MailRoute> routes;
  for (const std::string& address : addresses) {
    verdicts.push_back(VerifyOffline(address));
    const AddressVerdict& v = verdicts.back();
    if (v.verdict == Verdict::kUndeliverable) continue;
    std::string domain = DomainOf(v);
    if (domain.empty() || routes.count(domain) > 0) continue;
    const MailRoute* cached = cache == nullptr ? nullptr : cache->Find(domain);
    if (cached != nullptr) {
      routes[domain] = *cached;
    } else {
      routes[domain] = MailRoute::kDnsError;  // placeholder until looked up
      domains.push_back(domain);
    }
  }
  for (const auto& [domain, hosts] : RoutesOf(resolver, domains)) {
    routes[domain] = hosts.route;
    // A DNS failure may be transient: ask again for the next chunk.
    if (cache != nullptr && hosts.route != MailRoute::kDnsError) {
      cache->Put(domain, hosts.route);
    }
  }
  for (AddressVerdict& v : verdicts) {
    if (v.verdict == Verdict::kUndeliverable) continue;
    auto it = routes.find(DomainOf(v));
    if (it == routes.end()) continue;
    switch (it->second) {
      case MailRoute::kNxDomain:
        v.verdict = Verdict::kUndeliverable;
        v.reason = "domain.nxdomain";
        break;
      case MailRoute::kNullMx:
        v.verdict = Verdict::kUndeliverable;
        v.reason = "domain.null_mx";
        break;
      case MailRoute::kNoMailHost:
        v.verdict = Verdict::kUndeliverable;
        v.reason = "domain.no_mail_host";
        break;
      case MailRoute::kDnsError:
        v.verdict = Verdict::kUnknown;
        v.reason = "domain.dns_error";
        break;
      case MailRoute::kMx:
      case MailRoute::kImplicit:
        if (v.verdict != Verdict::kRisky) {
          v.verdict = Verdict::kDeliverable;
          v.reason = it->second == MailRoute::kMx ? "ok.mx" : "ok.implicit_mx";
        }
        break;
    }
  }
  return verdicts;
}

}  // namespace deliverd::hygiene
