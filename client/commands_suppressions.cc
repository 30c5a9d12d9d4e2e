// Handlers of the `suppressions` commands: list, add, remove, check.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/connection.h"
#include "hygiene/csv.h"
#include "client/enum_names.h"
#include "client/output.h"
#include "client/suppression_requests.h"
#include "client/table.h"
#include "client/text.h"
#include "client/times.h"

namespace deliverd::client {
namespace {

using hygiene::CsvRow;

// Evidence can be a whole DSN; the table shows its start, `--json` or
// `--csv` the rest.
constexpr size_t kEvidenceWidth = 50;

// How an empty scope (the whole tenant) is shown; parentheses keep it
// apart from any stream name.
constexpr char kTenantScope[] = "(tenant)";

std::string ScopeText(const std::string& scope) {
  return scope.empty() ? kTenantScope : scope;
}

std::string CsvTime(const google::protobuf::Timestamp& timestamp) {
  const std::string text = FormatTimestamp(timestamp);
  return text == "-" ? "" : text;
}

std::string SuppressionSummary(const v1::Suppression& s) {
  std::string expires = FormatTimestamp(s.expire_time());
  if (expires == "-") expires = "never";
  return absl::StrCat(s.address(), " (reason ",
                      SuppressionReasonName(s.reason()), ", scope ",
                      ScopeText(s.scope()), ", expires ", expires, ")");
}

}  // namespace

int RunSuppressionsList(const Invocation& inv) {
  absl::StatusOr<v1::ListSuppressionsRequest> request =
      BuildListSuppressionsRequest(inv.args);
  if (!request.ok()) return inv.UsageError(request.status().message());
  const bool csv = inv.args.GetBool("csv");
  if (csv && inv.json())
    return inv.UsageError("give --csv or --json, not both");
  const bool all = inv.args.GetBool("all");

  Connection connection(inv.settings);
  Table table({"ADDRESS", "REASON", "SCOPE", "CREATED", "EXPIRES", "SOURCE",
               "EVIDENCE"});
  if (csv) {
    inv.out << CsvRow({"address", "reason", "scope", "create_time",
                       "expire_time", "source_message", "evidence"});
  }
  std::string next_token;
  while (true) {
    auto context = connection.NewContext();
    v1::ListSuppressionsResponse response;
    const grpc::Status status = connection.subscriptions().ListSuppressions(
        context.get(), *request, &response);
    if (!status.ok()) return inv.RpcError(status);
    if (inv.json()) PrintJsonLine(inv.out, response);
    for (const v1::Suppression& s : response.suppressions()) {
      if (csv) {
        inv.out << CsvRow({s.address(), SuppressionReasonName(s.reason()),
                           s.scope(), CsvTime(s.create_time()),
                           CsvTime(s.expire_time()),
                           BareMessageId(s.source_message()), s.evidence()});
      } else if (!inv.json()) {
        table.AddRow({s.address(), SuppressionReasonName(s.reason()),
                      ScopeText(s.scope()), FormatTimestamp(s.create_time()),
                      FormatTimestamp(s.expire_time()),
                      OrDash(BareMessageId(s.source_message())),
                      OrDash(TruncateToWidth(SanitizeForTerminal(s.evidence()),
                                             kEvidenceWidth))});
      }
    }
    next_token = response.next_page_token();
    if (!all || next_token.empty()) break;
    if (next_token == request->page_token()) {
      inv.err << "deliverctl: suppressions list: the server repeated page "
                 "token "
              << next_token << "; stopping\n";
      return kExitFailure;
    }
    request->set_page_token(next_token);
  }
  if (!csv && !inv.json()) {
    if (table.row_count() == 0) {
      inv.err << "no suppressions\n";
    } else {
      inv.out << table.Render();
    }
  }
  if (!next_token.empty()) {
    inv.err << "more: add --page-token " << next_token
            << " for the next page, or --all\n";
  }
  return kExitOk;
}

int RunSuppressionsAdd(const Invocation& inv) {
  absl::StatusOr<v1::AddSuppressionRequest> request =
      BuildAddSuppressionRequest(inv.args, inv.now);
  if (!request.ok()) return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::Suppression suppression;
  const grpc::Status status = connection.subscriptions().AddSuppression(
      context.get(), *request, &suppression);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, suppression);
  } else {
    inv.out << "suppressed "
            << SanitizeForTerminal(SuppressionSummary(suppression)) << "\n";
  }
  return kExitOk;
}

int RunSuppressionsRemove(const Invocation& inv) {
  absl::StatusOr<v1::RemoveSuppressionRequest> request =
      BuildRemoveSuppressionRequest(inv.args);
  if (!request.ok()) return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::Suppression suppression;
  const grpc::Status status = connection.subscriptions().RemoveSuppression(
      context.get(), *request, &suppression);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, suppression);
  } else {
    inv.out << "removed "
            << SanitizeForTerminal(SuppressionSummary(suppression)) << "\n";
  }
  return kExitOk;
}

int RunSuppressionsCheck(const Invocation& inv) {
  const v1::CheckSuppressionRequest request =
      BuildCheckSuppressionRequest(inv.args);
  Connection connection(inv.settings);
  Table table({"ADDRESS", "SUPPRESSED", "REASON", "SCOPE", "EXPIRES"});
  const int total = request.addresses_size();
  for (int start = 0; start < total; start += 1000) {
    v1::CheckSuppressionRequest chunk;
    chunk.set_stream(request.stream());
    for (int i = start; i < std::min(total, start + 1000); ++i) {
      chunk.add_addresses(request.addresses(i));
    }
    auto context = connection.NewContext();
    v1::CheckSuppressionResponse response;
    const grpc::Status status = connection.subscriptions().CheckSuppression(
        context.get(), chunk, &response);
    if (!status.ok()) return inv.RpcError(status);
    for (const v1::SuppressionCheck& check : response.results()) {
      if (inv.json()) {
        PrintJsonLine(inv.out, check);
        continue;
      }
      if (check.suppressed()) {
        const v1::Suppression& s = check.suppression();
        table.AddRow({check.address(), "yes", SuppressionReasonName(s.reason()),
                      ScopeText(s.scope()), FormatTimestamp(s.expire_time())});
      } else {
        table.AddRow({check.address(), "no", "-", "-", "-"});
      }
    }
  }
  if (!inv.json()) inv.out << table.Render();
  return kExitOk;
}

}  // namespace deliverd::client
