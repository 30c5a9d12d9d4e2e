// Handler of `check-domain`: the sending-domain report (SPF with its
// evaluation tree and lookup counts, DKIM selectors, DMARC, MX) through the
// server's CheckDomain or, with --local, in-process with the same library.
//
// Exit status gates CI: 0 pass, 3 warnings, 4 errors (1 and 2 keep their
// meanings: the check could not run / usage).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "auth_checks/dns/cares_resolver.h"
#include "auth_checks/domain_check.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/domain_report_local.h"
#include "client/enum_names.h"
#include "client/output.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "hygiene/domain_name.h"

namespace deliverd::client {
namespace {

constexpr int kExitDomainWarnings = 3;
constexpr int kExitDomainErrors = 4;

void PrintSpfNode(const v1::SpfNode& node, int depth, std::ostream& out) {
  std::string indent(2 * depth + 6, ' ');
  out << indent << (node.via().empty() ? "" : node.via() + " -> ")
      << node.domain() << ": "
      << (node.record().empty() ? "(no SPF record)" : node.record());
  if (node.dns_lookups() > 0) out << "  [" << node.dns_lookups() << " lookups]";
  if (!node.problem().empty()) out << "  !! " << node.problem();
  out << "\n";
  for (const v1::SpfNode& child : node.children()) {
    PrintSpfNode(child, depth + 1, out);
  }
}

std::string Severity(v1::Severity s) {
  switch (s) {
    case v1::SEVERITY_ERROR: return "ERROR";
    case v1::SEVERITY_WARNING: return "WARNING";
    case v1::SEVERITY_INFO: return "info";
    default: return "?";
  }
}

void PrintReport(const v1::DomainReport& r, std::ostream& out) {
  int errors = 0, warnings = 0;
  for (const v1::Finding& f : r.findings()) {
    if (f.severity() == v1::SEVERITY_ERROR) ++errors;
    if (f.severity() == v1::SEVERITY_WARNING) ++warnings;
  }
  out << r.domain() << ": " << r.verdict() << " (" << errors << " errors, "
      << warnings << " warnings)\n\n";

  const v1::SpfReport& spf = r.spf();
  out << "SPF   " << (spf.record().empty() ? "(none)" : spf.record()) << "\n";
  if (!spf.record().empty()) {
    out << "      DNS lookups " << spf.dns_lookups() << " of 10, void lookups "
        << spf.void_lookups() << " of 2 (evaluated for "
        << auth_checks::kSpfProbeAddress << ", which matches nothing)\n";
    PrintSpfNode(spf.tree(), 0, out);
  }

  if (r.dkim().empty()) out << "DKIM  (no selector given)\n";
  for (const v1::DkimKeyReport& k : r.dkim()) {
    out << "DKIM  " << k.selector() << ": ";
    if (k.record().empty()) {
      out << "(no key)";
    } else if (k.revoked()) {
      out << "revoked";
    } else {
      out << k.key_type() << (k.key_bits() > 0
                                  ? absl::StrCat(" ", k.key_bits(), " bits")
                                  : std::string(" (key unreadable)"));
      if (k.testing()) out << ", testing";
    }
    out << "\n";
  }

  const v1::DmarcReport& d = r.dmarc();
  out << "DMARC ";
  if (d.found_at().empty()) {
    out << "(none found; asked " << absl::StrJoin(d.queried(), ", ") << ")\n";
  } else {
    out << "at " << d.found_at() << (d.inherited() ? " (inherited)" : "")
        << ": " << d.record() << "\n"
        << "      applied policy " << (d.applied_policy().empty()
                                           ? std::string("(none: record not applied)")
                                           : d.applied_policy())
        << ", pct " << d.pct() << ", alignment dkim=" << d.dkim_alignment()
        << " spf=" << d.spf_alignment() << ", rua "
        << (d.rua().empty() ? std::string("-") : absl::StrJoin(d.rua(), " "))
        << "\n";
  }
  if (!d.organizational_domain().empty() &&
      d.organizational_domain() != d.found_at()) {
    out << "      organisational domain (public suffix list): "
        << d.organizational_domain() << "\n";
  }

  const v1::MxReport& mx = r.mx();
  out << "MX    ";
  if (mx.hosts().empty()) {
    out << mx.route() << "\n";
  } else {
    std::vector<std::string> hosts;
    for (const v1::MxHost& h : mx.hosts()) {
      hosts.push_back(absl::StrCat(h.preference(), " ", h.host()));
    }
    out << absl::StrJoin(hosts, ", ") << "\n";
  }

  if (!r.findings().empty()) out << "\nFindings:\n";
  for (const v1::Finding& f : r.findings()) {
    out << "  " << Severity(f.severity()) << "  " << f.code() << "  "
        << f.message() << "\n";
    if (!f.fix().empty()) out << "      fix: " << f.fix() << "\n";
  }
}

}  // namespace

int RunCheckDomain(const Invocation& inv) {
  absl::StatusOr<std::string> domain =
      hygiene::NormalizeDomain(inv.args.positionals[0]);
  if (!domain.ok()) {
    return inv.UsageError(absl::StrCat("domain: ", domain.status().message()));
  }
  const std::vector<std::string>& selectors = inv.args.GetAll("dkim-selector");

  v1::DomainReport report;
  if (inv.args.global.local) {
    auth_checks::dns::CaresOptions options;
    options.server = inv.args.global.dns.value_or("");
    absl::StatusOr<std::unique_ptr<auth_checks::dns::CaresResolver>> resolver =
        auth_checks::dns::CaresResolver::Create(options);
    if (!resolver.ok()) {
      inv.err << "deliverctl: check-domain: cannot use DNS: "
              << resolver.status().message() << "\n";
      return kExitFailure;
    }
    auth_checks::DomainCheckOptions check;
    check.dkim_selectors = selectors;
    report = DomainReportToProto(
        auth_checks::CheckDomain(**resolver, *domain, check), inv.now);
  } else {
    v1::CheckDomainRequest request;
    request.set_domain(*domain);
    for (const std::string& s : selectors) request.add_dkim_selectors(s);
    Connection connection(inv.settings);
    auto context = connection.NewContext();
    grpc::Status status = v1::Hygiene::NewStub(connection.channel())
                              ->CheckDomain(context.get(), request, &report);
    if (!status.ok()) return inv.RpcError(status);
  }

  if (inv.json()) {
    PrintJsonLine(inv.out, report);
  } else {
    PrintReport(report, inv.out);
  }
  if (report.verdict() == "errors") return kExitDomainErrors;
  if (report.verdict() == "warnings") return kExitDomainWarnings;
  return kExitOk;
}

}  // namespace deliverd::client
