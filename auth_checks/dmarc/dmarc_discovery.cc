#include "auth_checks/dmarc/dmarc_discovery.h"

#include <libpsl.h>

#include <algorithm>

namespace deliverd::auth_checks::dmarc {
namespace {

const psl_ctx_t* Psl() {
  // psl_latest picks the newer of the system's list and the built-in one.
  static const psl_ctx_t* const ctx = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  return ctx;
}

std::vector<std::string_view> Labels(std::string_view domain) {
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    labels.push_back(domain.substr(start, dot - start));
    start = dot + 1;
  }
  return labels;
}

std::string Join(const std::vector<std::string_view>& labels, size_t from) {
  std::string out;
  for (size_t i = from; i < labels.size(); ++i) {
    if (!out.empty()) out.push_back('.');
    out.append(labels[i]);
  }
  return out;
}

}  // namespace

std::string OrganizationalDomain(std::string_view domain) {
  std::string name(domain);
  if (name.empty() || Psl() == nullptr) return name;
  const char* registrable = psl_registrable_domain(Psl(), name.c_str());
  return registrable != nullptr ? std::string(registrable) : name;
}

std::vector<std::string> TreeWalkNames(std::string_view domain) {
  std::vector<std::string> names;
  if (domain.empty()) return names;
  std::vector<std::string_view> labels = Labels(domain);
  names.push_back("_dmarc." + std::string(domain));
  size_t first = 1;
  // Long names jump to their last seven labels.
  if (labels.size() >= 8) first = labels.size() - 7;
  for (size_t i = first; i < labels.size(); ++i) {
    names.push_back("_dmarc." + Join(labels, i));
  }
  return names;
}

DmarcDiscovery DiscoverDmarc(dns::Resolver& resolver, std::string_view domain) {
  DmarcDiscovery out;
  out.domain = std::string(domain);
  out.organizational_domain = OrganizationalDomain(domain);
  bool first = true;
  uint32_t ttl = UINT32_MAX;
  for (const std::string& name : TreeWalkNames(domain)) {
    std::string at = name.substr(7);  // without "_dmarc."
    dns::Answer answer = resolver.Lookup(name, dns::RrType::kTxt);
    out.queried.push_back(name);
    DmarcLookup lookup = SelectDmarcRecord(answer, at);
    if (answer.outcome == dns::Outcome::kOk ||
        answer.outcome == dns::Outcome::kNoData ||
        answer.outcome == dns::Outcome::kNxDomain) {
      ttl = std::min(ttl, answer.ttl);
    } else {
      ttl = 0;  // a failure is not to be cached
    }
    if (first) out.lookup = lookup;
    first = false;
    if (lookup.status == DmarcLookup::kNoRecord) continue;
    // Found (valid or not), several records, or a DNS failure: the walk
    // ends here.
    out.lookup = lookup;
    if (lookup.status == DmarcLookup::kFound) {
      out.found_at = at;
      out.inherited = at != out.domain;
    }
    break;
  }
  out.ttl = ttl == UINT32_MAX ? 0 : ttl;

  if (out.inherited) {
    // The domain's own lookup said "no record"; the parent's record is the
    // answer, so that finding is replaced by an explanation.
    for (const Finding& f : out.lookup.findings) {
      if (f.code != "dmarc.no_record") out.findings.push_back(f);
    }
    const DmarcRecord& r = *out.lookup.record;
    Finding note;
    note.severity = Finding::kInfo;
    note.code = "dmarc.inherited";
    note.message = "No DMARC record at _dmarc." + out.domain +
                   "; the record of " + out.found_at + " applies with its "
                   "subdomain policy (" +
                   std::string(PolicyName(r.EffectiveSubdomainPolicy())) + ")";
    note.fix = "Publish a record at _dmarc." + out.domain +
               " if this domain needs its own policy or reports.";
    out.findings.push_back(note);
    if (r.valid) out.applied_policy = r.EffectiveSubdomainPolicy();
  } else {
    out.findings = out.lookup.findings;
    if (out.lookup.status == DmarcLookup::kFound && out.lookup.record->valid) {
      out.applied_policy = out.lookup.record->policy;
    }
    if (out.lookup.status == DmarcLookup::kNoRecord) {
      // Nothing at the domain nor above it: make the message say so.
      for (Finding& f : out.findings) {
        // (A near-miss record at the domain keeps its own message.)
        if (f.code == "dmarc.no_record" &&
            f.message.rfind("No DMARC record", 0) == 0) {
          f.message = "No DMARC record at _dmarc." + out.domain +
                      " nor at any parent domain";
          f.fix = "Publish a TXT record at _dmarc." +
                  (out.organizational_domain.empty() ? out.domain
                                                     : out.organizational_domain) +
                  " such as \"v=DMARC1; p=none; rua=mailto:dmarc@" +
                  (out.organizational_domain.empty() ? out.domain
                                                     : out.organizational_domain) +
                  "\" and tighten p once reports look clean.";
        }
      }
    }
  }
  return out;
}

}  // namespace deliverd::auth_checks::dmarc
