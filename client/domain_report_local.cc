// The --local twin of server/api/domain_report_proto.cc: deliverctl
// builds the same v1::DomainReport in-process so one printer serves both
// ways. The layering (client/ never includes server/, and only those two
// include generated code) is why the translation exists twice.
#include "client/domain_report_local.h"

#include <algorithm>

#include "auth_checks/spf/spf_record.h"
#include "google/protobuf/util/time_util.h"

namespace deliverd::client {
namespace {

v1::Severity SeverityToProto(auth_checks::Finding::Severity s) {
  switch (s) {
    case auth_checks::Finding::kInfo: return v1::SEVERITY_INFO;
    case auth_checks::Finding::kWarning: return v1::SEVERITY_WARNING;
    case auth_checks::Finding::kError: return v1::SEVERITY_ERROR;
  }
  return v1::SEVERITY_UNSPECIFIED;
}

template <typename Repeated>
void AddFindings(const std::vector<auth_checks::Finding>& findings,
                 Repeated* out) {
  for (const auth_checks::Finding& f : findings) {
    v1::Finding* p = out->Add();
    p->set_severity(SeverityToProto(f.severity));
    p->set_code(f.code);
    p->set_message(f.message);
    p->set_fix(f.fix);
  }
}

void SpfNodeToProto(const auth_checks::spf::SpfTraceNode& node,
                    v1::SpfNode* out) {
  out->set_domain(node.domain);
  out->set_record(node.record);
  out->set_via(node.via);
  out->set_result(SpfResultToProto(node.result));
  out->set_matched_term(node.matched_term);
  out->set_problem(node.problem);
  absl::StatusOr<auth_checks::spf::SpfRecord> parsed =
      auth_checks::spf::ParseSpfRecord(node.record);
  if (parsed.ok()) {
    int lookups = parsed->redirect.has_value() ? 1 : 0;
    for (const auth_checks::spf::Mechanism& m : parsed->mechanisms) {
      out->add_terms(m.text);
      using auth_checks::spf::MechanismKind;
      if (m.kind == MechanismKind::kInclude || m.kind == MechanismKind::kA ||
          m.kind == MechanismKind::kMx || m.kind == MechanismKind::kPtr ||
          m.kind == MechanismKind::kExists) {
        ++lookups;
      }
    }
    if (parsed->redirect.has_value()) {
      out->add_terms("redirect=" + *parsed->redirect);
    }
    if (parsed->exp.has_value()) out->add_terms("exp=" + *parsed->exp);
    out->set_dns_lookups(lookups);
  }
  for (const auth_checks::spf::SpfTraceNode& child : node.children) {
    SpfNodeToProto(child, out->add_children());
  }
}

}  // namespace

v1::SpfResult SpfResultToProto(auth_checks::spf::SpfResult result) {
  using auth_checks::spf::SpfResult;
  switch (result) {
    case SpfResult::kNone: return v1::SPF_RESULT_NONE;
    case SpfResult::kNeutral: return v1::SPF_RESULT_NEUTRAL;
    case SpfResult::kPass: return v1::SPF_RESULT_PASS;
    case SpfResult::kFail: return v1::SPF_RESULT_FAIL;
    case SpfResult::kSoftFail: return v1::SPF_RESULT_SOFTFAIL;
    case SpfResult::kTempError: return v1::SPF_RESULT_TEMPERROR;
    case SpfResult::kPermError: return v1::SPF_RESULT_PERMERROR;
  }
  return v1::SPF_RESULT_UNSPECIFIED;
}

v1::DomainReport DomainReportToProto(const auth_checks::DomainReport& report,
                                     absl::Time check_time) {
  v1::DomainReport out;
  out.set_domain(report.domain);

  v1::SpfReport* spf = out.mutable_spf();
  spf->set_record(report.spf.record);
  if (report.spf.status == auth_checks::spf::PublishedSpf::kFound) {
    SpfNodeToProto(report.spf_probe.trace, spf->mutable_tree());
    spf->set_dns_lookups(report.spf_probe.dns_lookups);
    spf->set_void_lookups(report.spf_probe.void_lookups);
  }

  for (const auth_checks::DkimSelectorReport& s : report.dkim) {
    v1::DkimKeyReport* k = out.add_dkim();
    k->set_selector(s.selector);
    k->set_record(s.key.record);
    k->set_key_type(s.key.key_type);
    k->set_key_bits(s.key.key_bits);
    k->set_testing(s.key.testing);
    k->set_revoked(s.key.revoked);
    AddFindings(s.key.findings, k->mutable_findings());
  }

  const auth_checks::dmarc::DmarcDiscovery& d = report.dmarc;
  v1::DmarcReport* dmarc = out.mutable_dmarc();
  dmarc->set_found_at(d.found_at);
  dmarc->set_inherited(d.inherited);
  dmarc->set_organizational_domain(d.organizational_domain);
  for (const std::string& q : d.queried) dmarc->add_queried(q);
  if (d.applied_policy.has_value()) {
    dmarc->set_applied_policy(
        std::string(auth_checks::dmarc::PolicyName(*d.applied_policy)));
  }
  if (d.lookup.record.has_value()) {
    const auth_checks::dmarc::DmarcRecord& r = *d.lookup.record;
    dmarc->set_record(d.lookup.record_text);
    if (r.policy_present || r.valid) {
      dmarc->set_policy(std::string(auth_checks::dmarc::PolicyName(r.policy)));
    }
    if (r.subdomain_policy.has_value()) {
      dmarc->set_subdomain_policy(
          std::string(auth_checks::dmarc::PolicyName(*r.subdomain_policy)));
    }
    if (r.nonexistent_subdomain_policy.has_value()) {
      dmarc->set_nonexistent_subdomain_policy(std::string(
          auth_checks::dmarc::PolicyName(*r.nonexistent_subdomain_policy)));
    }
    dmarc->set_pct(r.pct);
    for (const auto& u : r.rua) dmarc->add_rua(u.uri);
    for (const auto& u : r.ruf) dmarc->add_ruf(u.uri);
    dmarc->set_dkim_alignment(
        std::string(auth_checks::dmarc::AlignmentName(r.adkim)));
    dmarc->set_spf_alignment(
        std::string(auth_checks::dmarc::AlignmentName(r.aspf)));
    dmarc->set_testing(r.testing);
  }
  AddFindings(d.findings, dmarc->mutable_findings());

  v1::MxReport* mx = out.mutable_mx();
  mx->set_route(auth_checks::MailRouteName(report.mx.route));
  mx->set_null_mx(report.mx.route == auth_checks::MailRoute::kNullMx);
  mx->set_implicit(report.mx.route == auth_checks::MailRoute::kImplicit);
  for (const auth_checks::MailHosts::Host& h : report.mx.hosts) {
    v1::MxHost* host = mx->add_hosts();
    host->set_preference(h.preference);
    host->set_host(h.name);
  }

  // The sections' own findings (SPF and MX have no list of their own in the
  // library, so they are picked from the report's by code prefix).
  std::vector<auth_checks::Finding> ordered = report.findings;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auth_checks::Finding& a,
                      const auth_checks::Finding& b) {
                     return a.severity > b.severity;
                   });
  for (const auth_checks::Finding& f : report.findings) {
    if (f.code.rfind("spf.", 0) == 0) AddFindings({f}, spf->mutable_findings());
    if (f.code.rfind("mx.", 0) == 0) AddFindings({f}, mx->mutable_findings());
  }
  AddFindings(ordered, out.mutable_findings());
  out.set_worst(ordered.empty() ? v1::SEVERITY_UNSPECIFIED
                                : SeverityToProto(ordered.front().severity));
  out.set_verdict(std::string(auth_checks::DomainVerdictName(report.verdict)));
  *out.mutable_check_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(check_time));
  return out;
}

}  // namespace deliverd::client
