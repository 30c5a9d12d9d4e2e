// Handler of `verify`: one verdict per address, through the server's
// VerifyAddresses or, with --local, in-process with the same hygiene
// library (DNS through --dns, or none with --offline).

#include <memory>
#include <string>
#include <vector>

#include "auth_checks/dns/cares_resolver.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/output.h"
#include "client/table.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "hygiene/offline_verdict.h"
#include "hygiene/verifier.h"

namespace deliverd::client {
namespace {

// One row of output, whichever way it was computed.
struct Row {
  hygiene::AddressVerdict verdict;
  std::string verdict_name;
  bool has_suppressed = false;  // only the server knows the tenant's list
  bool suppressed = false;
};


const char* Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

int RunVerify(const Invocation& inv) {
  const bool offline = inv.args.GetBool("offline");
  std::vector<Row> rows;
  if (inv.args.global.local) {
    std::vector<hygiene::AddressVerdict> verdicts;
    if (offline) {
      for (const std::string& a : inv.args.positionals) {
        verdicts.push_back(hygiene::VerifyOffline(a));
      }
    } else {
      auth_checks::dns::CaresOptions options;
      options.server = inv.args.global.dns.value_or("");
      absl::StatusOr<std::unique_ptr<auth_checks::dns::CaresResolver>>
          resolver = auth_checks::dns::CaresResolver::Create(options);
      if (!resolver.ok()) {
        inv.err << "deliverctl: verify: cannot use DNS: "
                << resolver.status().message() << " (or use --offline)\n";
        return kExitFailure;
      }
      verdicts = hygiene::VerifyWithDns(**resolver, inv.args.positionals);
    }
    for (hygiene::AddressVerdict& v : verdicts) {
      Row row;
      row.verdict_name = std::string(hygiene::VerdictName(v.verdict));
      row.verdict = std::move(v);
      rows.push_back(std::move(row));
    }
  } else {
    v1::VerifyAddressesRequest request;
    for (const std::string& a : inv.args.positionals) request.add_addresses(a);
    request.set_offline(offline);
    Connection connection(inv.settings);
    auto context = connection.NewContext();
    v1::VerifyAddressesResponse response;
    grpc::Status status = v1::Hygiene::NewStub(connection.channel())
                              ->VerifyAddresses(context.get(), request,
                                                &response);
    if (!status.ok()) return inv.RpcError(status);
    for (const v1::AddressVerdict& v : response.verdicts()) {
      Row row;
      row.verdict.address = v.address();
      row.verdict.normalized = v.normalized();
      row.verdict.valid = v.valid();
      row.verdict.reason = v.reason();
      row.verdict.suggestion = v.suggestion();
      row.verdict.role = v.role();
      row.verdict.disposable = v.disposable();
      row.verdict.smtputf8 = v.smtputf8();
      row.verdict_name = EnumCliName(v1::Verdict_descriptor(), v.verdict());
      row.has_suppressed = true;
      row.suppressed = v.suppressed();
      rows.push_back(std::move(row));
    }
  }

  if (inv.json()) {
    for (const Row& row : rows) {
      const hygiene::AddressVerdict& v = row.verdict;
      inv.out << "{\"address\":" << JsonString(v.address)
              << ",\"normalized\":" << JsonString(v.normalized)
              << ",\"valid\":" << Bool(v.valid)
              << ",\"verdict\":" << JsonString(row.verdict_name)
              << ",\"reason\":" << JsonString(v.reason)
              << ",\"suggestion\":" << JsonString(v.suggestion)
              << ",\"role\":" << Bool(v.role)
              << ",\"disposable\":" << Bool(v.disposable)
              << ",\"smtputf8\":" << Bool(v.smtputf8);
      if (row.has_suppressed) inv.out << ",\"suppressed\":" << Bool(row.suppressed);
      inv.out << "}\n";
    }
    return kExitOk;
  }
  Table table({"ADDRESS", "VERDICT", "REASON", "SUGGESTION", "FLAGS"});
  for (const Row& row : rows) {
    const hygiene::AddressVerdict& v = row.verdict;
    std::string flags;
    auto add = [&flags](bool on, const char* name) {
      if (!on) return;
      if (!flags.empty()) flags += ",";
      flags += name;
    };
    add(v.role, "role");
    add(v.disposable, "disposable");
    add(v.smtputf8, "smtputf8");
    add(row.suppressed, "suppressed");
    table.AddRow({v.address, row.verdict_name, v.reason,
                  v.suggestion.empty() ? "-" : v.suggestion,
                  flags.empty() ? "-" : flags});
  }
  inv.out << table.Render();
  return kExitOk;
}

}  // namespace deliverd::client
