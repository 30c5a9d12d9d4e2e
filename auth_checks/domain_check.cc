#include "auth_checks/domain_check.h"

#include <algorithm>
#include <future>

namespace deliverd::auth_checks {
namespace {


std::vector<Finding> MxFindings(const MailHosts& mx, const std::string& domain) {
  std::vector<Finding> out;
  switch (mx.route) {
    case MailRoute::kMx:
      break;
    case MailRoute::kNullMx:
      out.push_back(MakeFinding(Finding::kWarning, "mx.null_mx",
                         domain + " publishes a null MX: it accepts no mail, "
                         "so replies and bounces to it are refused",
                         "Send from a domain that can receive replies, or "
                         "publish real MX records."));
      break;
    case MailRoute::kImplicit:
      out.push_back(MakeFinding(Finding::kInfo, "mx.implicit",
                         domain + " has no MX; mail goes to its own address",
                         "Publish an MX record naming the host that receives "
                         "mail."));
      break;
    case MailRoute::kNoMailHost:
      out.push_back(MakeFinding(Finding::kWarning, "mx.no_mail_host",
                         domain + " has neither MX nor an address: replies "
                         "and bounces cannot be delivered",
                         "Publish MX records for the domain."));
      break;
    case MailRoute::kNxDomain:
      out.push_back(MakeFinding(Finding::kError, "mx.nxdomain",
                         domain + " does not exist in DNS",
                         "Check the spelling, or register and publish the "
                         "domain."));
      break;
    case MailRoute::kDnsError:
      out.push_back(MakeFinding(Finding::kWarning, "mx.dns_failure",
                         "The MX lookup of " + domain + " failed: " + mx.detail,
                         "Check the domain's name servers."));
      break;
  }
  return out;
}

}  // namespace

std::string_view DomainVerdictName(DomainVerdict verdict) {
  switch (verdict) {
    case DomainVerdict::kPass:
      return "pass";
    case DomainVerdict::kWarnings:
      return "warnings";
    case DomainVerdict::kErrors:
      return "errors";
  }
  return "unknown";
}

DomainReport CheckDomain(dns::Resolver& resolver, std::string_view domain,
                         const DomainCheckOptions& options) {
  DomainReport report;
  report.domain = std::string(domain);
  const std::string& name = report.domain;

  // The independent parts run at once; each is a chain of dependent lookups.
  auto spf_part = std::async(std::launch::async, [&] {
    dns::Answer txt = resolver.Lookup(name, dns::RrType::kTxt);
    spf::PublishedSpf published = spf::SelectSpfRecord(txt, name);
    spf::SpfCheckResult probe;
    if (published.status == spf::PublishedSpf::kFound) {
      spf::SpfRequest request;
      request.ip = kSpfProbeAddress;
      request.domain = name;
      request.sender = "postmaster@" + name;
      request.helo = name;
      probe = spf::SpfEvaluator(resolver).CheckHost(request);
    }
    return std::make_pair(std::move(published), std::move(probe));
  });
  auto dmarc_part = std::async(std::launch::async, [&] {
    return dmarc::DiscoverDmarc(resolver, name);
  });
  auto mx_part = std::async(std::launch::async, [&] {
    dns::Answer answer = resolver.Lookup(name, dns::RrType::kMx);
    bool needs_address = false;
    MailHosts hosts = InterpretMx(answer, &needs_address);
    if (needs_address) {
      std::vector<dns::Answer> addresses = resolver.LookupAll(
          {{name, dns::RrType::kA}, {name, dns::RrType::kAaaa}});
      hosts = WithAddressAnswers(addresses[0], addresses[1]);
    }
    return std::make_pair(std::move(hosts), answer.ttl);
  });
  std::vector<dns::Query> dkim_queries;
  for (const std::string& selector : options.dkim_selectors) {
    dkim_queries.push_back(
        {dkim::DkimKeyName(selector, name), dns::RrType::kTxt});
  }
  std::vector<dns::Answer> dkim_answers = resolver.LookupAll(dkim_queries);

  uint32_t ttl = UINT32_MAX;
  auto take_ttl = [&ttl](uint32_t t) { ttl = std::min(ttl, t); };

  auto [published, probe] = spf_part.get();
  report.spf = std::move(published);
  report.spf_probe = std::move(probe);
  take_ttl(report.spf.ttl);
  report.findings = report.spf.findings;
  if (report.spf.status == spf::PublishedSpf::kFound) {
    for (Finding& f : spf::LintSpfEvaluation(report.spf_probe)) {
      report.findings.push_back(std::move(f));
    }
  }

  if (options.dkim_selectors.empty()) {
    report.findings.push_back(MakeFinding(
        Finding::kInfo, "dkim.no_selectors",
        "No DKIM selector given, so no DKIM key was checked",
        "Name the selectors your mail is signed with (the s= of its "
        "DKIM-Signature)."));
  }
  for (size_t i = 0; i < options.dkim_selectors.size(); ++i) {
    DkimSelectorReport s;
    s.selector = options.dkim_selectors[i];
    s.name = dkim_queries[i].name;
    s.key = dkim::CheckDkimKeyAnswer(dkim_answers[i]);
    take_ttl(dkim_answers[i].ttl);
    for (const Finding& f : s.key.findings) {
      Finding g = f;
      g.message = "selector " + s.selector + ": " + f.message;
      report.findings.push_back(std::move(g));
    }
    report.dkim.push_back(std::move(s));
  }

  report.dmarc = dmarc_part.get();
  take_ttl(report.dmarc.ttl);
  for (const Finding& f : report.dmarc.findings) report.findings.push_back(f);

  auto [hosts, mx_ttl] = mx_part.get();
  report.mx = std::move(hosts);
  take_ttl(mx_ttl);
  for (Finding& f : MxFindings(report.mx, name)) {
    report.findings.push_back(std::move(f));
  }

  report.ttl = ttl == UINT32_MAX ? 0 : ttl;
  report.verdict = DomainVerdict::kPass;
  for (const Finding& f : report.findings) {
    if (f.severity == Finding::kError) {
      report.verdict = DomainVerdict::kErrors;
      break;
    }
    if (f.severity == Finding::kWarning) {
      report.verdict = DomainVerdict::kWarnings;
    }
  }
  return report;
}

}  // namespace deliverd::auth_checks
