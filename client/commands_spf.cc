// Handler of `spf`: SPF check_host() for one connection, through the
// server's CheckSpf or, with --local, in-process with the same library and
// the resolver named by --dns (default: the system's).

#include <memory>
#include <string>

#include "auth_checks/dns/cares_resolver.h"
#include "auth_checks/spf/spf_evaluator.h"
#include "auth_checks/spf/spf_inputs.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/output.h"
#include "deliverd/v1/hygiene.grpc.pb.h"

namespace deliverd::client {
namespace {

struct SpfOutcome {
  std::string result;  // "pass", "fail", ...
  std::string explanation;
  std::string matched_term;
  int dns_lookups = 0;
  int void_lookups = 0;
};


}  // namespace

int RunSpf(const Invocation& inv) {
  const std::string ip = inv.args.GetOr("ip", "");
  const std::string mail_from = inv.args.GetOr("mail-from", "");
  const std::string helo = inv.args.GetOr("helo", "");
  absl::Status valid = auth_checks::spf::ValidateSpfInputs(ip, mail_from, helo);
  if (!valid.ok()) return inv.UsageError(valid.message());

  SpfOutcome outcome;
  if (inv.args.global.local) {
    auth_checks::dns::CaresOptions options;
    options.server = inv.args.global.dns.value_or("");
    absl::StatusOr<std::unique_ptr<auth_checks::dns::CaresResolver>> resolver =
        auth_checks::dns::CaresResolver::Create(options);
    if (!resolver.ok()) {
      inv.err << "deliverctl: spf: cannot use DNS: "
              << resolver.status().message() << "\n";
      return kExitFailure;
    }
    auth_checks::spf::SpfEvaluator evaluator(**resolver);
    auth_checks::spf::SpfCheckResult result =
        evaluator.CheckMailFrom(ip, mail_from, helo);
    outcome.result = std::string(auth_checks::spf::SpfResultName(result.result));
    outcome.explanation =
        result.explanation.empty() ? result.problem : result.explanation;
    outcome.matched_term = result.matched_term;
    outcome.dns_lookups = result.dns_lookups;
    outcome.void_lookups = result.void_lookups;
  } else {
    v1::CheckSpfRequest request;
    request.set_ip(ip);
    request.set_mail_from(mail_from);
    request.set_helo(helo);
    Connection connection(inv.settings);
    auto context = connection.NewContext();
    v1::CheckSpfResponse response;
    grpc::Status status = v1::Hygiene::NewStub(connection.channel())
                              ->CheckSpf(context.get(), request, &response);
    if (!status.ok()) return inv.RpcError(status);
    outcome.result =
        EnumCliName(v1::SpfResult_descriptor(), response.result());
    outcome.explanation = response.explanation();
    outcome.matched_term = response.matched_term();
    outcome.dns_lookups = response.dns_lookups();
    outcome.void_lookups = response.void_lookups();
  }

  if (inv.json()) {
    inv.out << "{\"result\":" << JsonString(outcome.result)
            << ",\"explanation\":" << JsonString(outcome.explanation)
            << ",\"matched_term\":" << JsonString(outcome.matched_term)
            << ",\"dns_lookups\":" << outcome.dns_lookups
            << ",\"void_lookups\":" << outcome.void_lookups << "}\n";
  } else {
    inv.out << outcome.result << "\n";
    if (!outcome.explanation.empty()) {
      inv.out << "explanation:  " << outcome.explanation << "\n";
    }
    if (!outcome.matched_term.empty()) {
      inv.out << "matched:      " << outcome.matched_term << "\n";
    }
    inv.out << "DNS lookups:  " << outcome.dns_lookups << " of 10, void "
            << outcome.void_lookups << " of 2\n";
  }
  return kExitOk;
}

}  // namespace deliverd::client
