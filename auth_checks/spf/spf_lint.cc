#include "auth_checks/spf/spf_lint.h"

#include "auth_checks/spf/spf_record.h"

namespace deliverd::auth_checks::spf {
namespace {


void LintRecord(const std::string& text, std::string_view domain,
                std::vector<Finding>* out) {
  if (text.size() > 450) {
    out->push_back(MakeFinding(
        Finding::kWarning, "spf.long_record",
        "The SPF record is " + std::to_string(text.size()) +
            " octets; answers over 512 octets may be truncated over UDP",
        "Move groups of addresses into include: records of their own."));
  }
  absl::StatusOr<SpfRecord> parsed = ParseSpfRecord(text);
  if (!parsed.ok()) {
    out->push_back(MakeFinding(Finding::kError, "spf.syntax",
                        "The SPF record does not parse (receivers return "
                        "permerror): " + std::string(parsed.status().message()),
                        "Correct the record; every term must follow RFC 7208 "
                        "section 12."));
    return;
  }
  const Mechanism* all = nullptr;
  for (const Mechanism& m : parsed->mechanisms) {
    if (m.kind == MechanismKind::kAll && all == nullptr) all = &m;
    if (m.kind == MechanismKind::kPtr) {
      out->push_back(MakeFinding(
          Finding::kWarning, "spf.ptr",
          "The record uses \"" + m.text +
              "\": slow, unreliable, and some receivers skip it",
          "Replace ptr with the ip4:/ip6: ranges or a: names of the senders."));
    }
  }
  if (all != nullptr) {
    if (all->qualifier == Qualifier::kPass) {
      out->push_back(MakeFinding(Finding::kError, "spf.plus_all",
                          "\"" + all->text + "\" lets any host on the internet "
                          "pass SPF as " + std::string(domain),
                          "End the record with -all (or ~all while testing)."));
    } else if (all->qualifier == Qualifier::kNeutral) {
      out->push_back(MakeFinding(Finding::kWarning, "spf.neutral_all",
                          "\"?all\" makes SPF say nothing about other senders",
                          "End the record with -all or ~all."));
    }
    if (parsed->redirect.has_value()) {
      out->push_back(MakeFinding(Finding::kWarning, "spf.redirect_ignored",
                          "redirect=" + *parsed->redirect +
                              " never applies because the record has \"all\"",
                          "Remove either the redirect= modifier or the all "
                          "mechanism."));
    }
  } else if (!parsed->redirect.has_value()) {
    out->push_back(MakeFinding(Finding::kWarning, "spf.no_all",
                        "The record has no \"all\" and no redirect=: mail from "
                        "unlisted hosts gets neutral",
                        "End the record with -all (or ~all while testing)."));
  }
  for (const Modifier& m : parsed->unknown_modifiers) {
    out->push_back(MakeFinding(Finding::kInfo, "spf.unknown_modifier",
                        "Modifier \"" + m.name + "\" is not defined by SPF and "
                        "is ignored",
                        ""));
  }
}

}  // namespace

PublishedSpf SelectSpfRecord(const dns::Answer& txt, std::string_view domain) {
  PublishedSpf out;
  out.ttl = txt.ttl;
  if (dns::IsTransientFailure(txt.outcome)) {
    out.status = PublishedSpf::kDnsFailure;
    out.findings.push_back(MakeFinding(
        Finding::kWarning, "spf.dns_failure",
        "The TXT lookup of " + std::string(domain) + " failed: " +
            (txt.detail.empty() ? std::string("no usable answer") : txt.detail),
        "Check the domain's name servers; receivers return temperror until "
        "they answer."));
    return out;
  }
  std::vector<std::string> records;
  for (const dns::Record& r : txt.records) {
    if (IsSpfRecord(r.data)) records.push_back(r.data);
  }
  if (records.empty()) {
    out.status = PublishedSpf::kNoRecord;
    out.findings.push_back(MakeFinding(
        Finding::kError, "spf.no_record",
        "No SPF record at " + std::string(domain) +
            ": receivers cannot tell which hosts may send for it",
        "Publish a TXT record such as \"v=spf1 mx -all\" listing the hosts "
        "that send the domain's mail."));
    return out;
  }
  if (records.size() > 1) {
    out.status = PublishedSpf::kMultipleRecords;
    out.findings.push_back(MakeFinding(
        Finding::kError, "spf.multiple_records",
        std::to_string(records.size()) + " SPF records at " +
            std::string(domain) + ": receivers return permerror",
        "Merge them into one v=spf1 record."));
    return out;
  }
  out.status = PublishedSpf::kFound;
  out.record = records[0];
  LintRecord(out.record, domain, &out.findings);
  return out;
}

std::vector<Finding> LintSpfEvaluation(const SpfCheckResult& probe) {
  std::vector<Finding> out;
  if (probe.dns_lookups > 10) {
    out.push_back(MakeFinding(Finding::kError, "spf.too_many_lookups",
                       "Evaluating the record needs more than 10 DNS lookups "
                       "(RFC 7208 4.6.4): receivers return permerror",
                       "Flatten includes into ip4:/ip6: ranges or drop "
                       "services that no longer send."));
  } else if (probe.dns_lookups >= 9) {
    out.push_back(MakeFinding(Finding::kWarning, "spf.lookups_near_limit",
                       "Evaluating the record needs " +
                           std::to_string(probe.dns_lookups) +
                           " of the 10 DNS lookups allowed",
                       "Flatten an include or two before adding a service."));
  }
  if (probe.void_lookups > 2) {
    out.push_back(MakeFinding(Finding::kError, "spf.too_many_void_lookups",
                       "More than 2 lookups found nothing (RFC 7208 4.6.4): "
                       "receivers return permerror",
                       "Remove terms that point at names without records."));
  } else if (probe.void_lookups > 0) {
    out.push_back(MakeFinding(Finding::kWarning, "spf.void_lookup",
                       std::to_string(probe.void_lookups) +
                           " lookup(s) found nothing; a third makes the record "
                           "fail",
                       "Remove terms that point at names without records."));
  }
  if (probe.result == SpfResult::kPermError &&
      probe.dns_lookups <= 10 && probe.void_lookups <= 2) {
    out.push_back(MakeFinding(Finding::kError, "spf.evaluation_error",
                       "Evaluation ends in permerror: " + probe.problem,
                       "Fix the record or the include it names."));
  } else if (probe.result == SpfResult::kTempError) {
    out.push_back(MakeFinding(Finding::kWarning, "spf.evaluation_error",
                       "Evaluation ends in temperror: " + probe.problem,
                       "Check the name servers of the domains the record "
                       "names."));
  }
  return out;
}

}  // namespace deliverd::auth_checks::spf
