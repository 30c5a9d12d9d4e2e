#include "auth_checks/mx.h"

#include <algorithm>

namespace deliverd::auth_checks {

const char* MailRouteName(MailRoute route) {
  switch (route) {
    case MailRoute::kMx: return "mx";
    case MailRoute::kNullMx: return "null_mx";
    case MailRoute::kImplicit: return "implicit_mx";
    case MailRoute::kNoMailHost: return "no_mail_host";
    case MailRoute::kNxDomain: return "nxdomain";
    case MailRoute::kDnsError: return "dns_error";
  }
  return "dns_error";
}

MailHosts InterpretMx(const dns::Answer& mx, bool* needs_address_lookup) {
  *needs_address_lookup = false;
  MailHosts out;
  switch (mx.outcome) {
    case dns::Outcome::kOk:
      break;
    case dns::Outcome::kNoData:
      *needs_address_lookup = true;
      out.route = MailRoute::kNoMailHost;
      return out;
    case dns::Outcome::kNxDomain:
      out.route = MailRoute::kNxDomain;
      return out;
    default:
      out.route = MailRoute::kDnsError;
      out.detail = std::string(dns::OutcomeName(mx.outcome));
      if (!mx.detail.empty()) out.detail += ": " + mx.detail;
      return out;
  }
  for (const dns::Record& r : mx.records) {
    std::string name = r.data;
    if (!name.empty() && name.back() == '.') name.pop_back();
    // RFC 7505: a single MX with an empty (root) exchange means no mail.
    if (name.empty()) {
      if (mx.records.size() == 1) {
        out.route = MailRoute::kNullMx;
        return out;
      }
      continue;  // a null MX mixed with real ones is ignored
    }
    out.hosts.push_back({r.preference, name});
  }
  if (out.hosts.empty()) {
    out.route = MailRoute::kNullMx;
    return out;
  }
  std::stable_sort(out.hosts.begin(), out.hosts.end(),
                   [](const MailHosts::Host& a, const MailHosts::Host& b) {
                     return a.preference < b.preference;
                   });
  out.route = MailRoute::kMx;
  return out;
}

MailHosts WithAddressAnswers(const dns::Answer& a, const dns::Answer& aaaa) {
  MailHosts out;
  if (a.outcome == dns::Outcome::kOk || aaaa.outcome == dns::Outcome::kOk) {
    out.route = MailRoute::kImplicit;
  } else if (dns::IsTransientFailure(a.outcome) ||
             dns::IsTransientFailure(aaaa.outcome)) {
    out.route = MailRoute::kDnsError;
    out.detail = std::string(dns::OutcomeName(
        dns::IsTransientFailure(a.outcome) ? a.outcome : aaaa.outcome));
  } else {
    out.route = MailRoute::kNoMailHost;
  }
  return out;
}

MailHosts LookUpMailHosts(dns::Resolver& resolver, const std::string& domain) {
  bool needs_address = false;
  MailHosts hosts =
      InterpretMx(resolver.Lookup(domain, dns::RrType::kMx), &needs_address);
  if (!needs_address) return hosts;
  std::vector<dns::Answer> answers = resolver.LookupAll(
      {{domain, dns::RrType::kA}, {domain, dns::RrType::kAaaa}});
  return WithAddressAnswers(answers[0], answers[1]);
}

}  // namespace deliverd::auth_checks
