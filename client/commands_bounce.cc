// Handler of `classify-bounce`: one line per recipient of each bounce file,
// through the server's ClassifyBounce or, with --local, in-process with the
// same hygiene library.
//
// --json prints {"file", "recipient", "status", "reason", "class", "action",
// "diagnostic"} per recipient, and {"file", "bounce": false} for a message
// that is not a bounce. Exit 0 when every file was read and classified
// (whatever the verdicts), 1 when any could not be.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/output.h"
#include "client/table.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "hygiene/bounce/bounce_message.h"

namespace deliverd::client {
namespace {

// One recipient of one file, whichever way it was classified.
struct Row {
  std::string file;
  bool bounce = true;
  std::string recipient, status, reason, bounce_class, action, diagnostic;
};

void AddLocal(const std::string& file,
              const hygiene::bounce::BounceReport& report,
              std::vector<Row>* rows) {
  if (!report.is_bounce) {
    rows->push_back(Row{file, false});
    return;
  }
  for (const hygiene::bounce::BounceRecipient& r : report.recipients) {
    rows->push_back(Row{file, true, r.address, r.status,
                        std::string(hygiene::bounce::ReasonName(r.reason)),
                        std::string(hygiene::bounce::BounceClassName(
                            r.bounce_class)),
                        r.action, r.diagnostic});
  }
}

void AddRemote(const std::string& file, const v1::ClassifyBounceResponse& r,
               std::vector<Row>* rows) {
  if (!r.bounce()) {
    rows->push_back(Row{file, false});
    return;
  }
  for (const v1::BounceRecipient& b : r.recipients()) {
    rows->push_back(Row{file, true, b.recipient(), b.status(), b.reason(),
                        EnumCliName(v1::BounceClass_descriptor(), b.class_()),
                        b.action(), b.diagnostic()});
  }
}

}  // namespace

int RunClassifyBounce(const Invocation& inv) {
  FileReader read = inv.file_reader();
  std::vector<Row> rows;
  int failures = 0;
  std::unique_ptr<Connection> connection;
  std::unique_ptr<v1::Hygiene::Stub> stub;
  for (const std::string& file : inv.args.positionals) {
    absl::StatusOr<std::string> raw = read(file);
    if (!raw.ok()) {
      inv.err << "deliverctl: classify-bounce: " << raw.status().message()
              << "\n";
      ++failures;
      continue;
    }
    if (inv.args.global.local) {
      absl::StatusOr<hygiene::bounce::BounceReport> report =
          hygiene::bounce::ParseBounce(*raw);
      if (!report.ok()) {
        inv.err << "deliverctl: classify-bounce: " << file << ": "
                << report.status().message() << "\n";
        ++failures;
        continue;
      }
      AddLocal(file, *report, &rows);
      continue;
    }
    if (stub == nullptr) {
      connection = std::make_unique<Connection>(inv.settings);
      stub = v1::Hygiene::NewStub(connection->channel());
    }
    v1::ClassifyBounceRequest request;
    request.set_raw_message(*raw);
    v1::ClassifyBounceResponse response;
    auto context = connection->NewContext();
    grpc::Status status = stub->ClassifyBounce(context.get(), request, &response);
    if (!status.ok()) {
      inv.err << RpcErrorLine(absl::StrCat(inv.command(), ": ", file), status,
                              !inv.settings.api_key.empty())
              << "\n";
      ++failures;
      continue;
    }
    AddRemote(file, response, &rows);
  }

  if (inv.json()) {
    for (const Row& r : rows) {
      if (!r.bounce) {
        inv.out << "{\"file\":" << JsonString(r.file) << ",\"bounce\":false}\n";
        continue;
      }
      inv.out << "{\"file\":" << JsonString(r.file)
              << ",\"recipient\":" << JsonString(r.recipient)
              << ",\"status\":" << JsonString(r.status)
              << ",\"reason\":" << JsonString(r.reason)
              << ",\"class\":" << JsonString(r.bounce_class)
              << ",\"action\":" << JsonString(r.action)
              << ",\"diagnostic\":" << JsonString(r.diagnostic) << "}\n";
    }
  } else {
    Table table({"FILE", "RECIPIENT", "STATUS", "REASON", "CLASS", "ACTION"});
    for (const Row& r : rows) {
      if (!r.bounce) {
        table.AddRow({r.file, "(not a bounce)", "-", "-", "-", "-"});
      } else {
        table.AddRow({r.file, r.recipient.empty() ? "-" : r.recipient,
                      r.status.empty() ? "-" : r.status, r.reason,
                      r.bounce_class, r.action.empty() ? "-" : r.action});
      }
    }
    inv.out << table.Render();
  }
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace deliverd::client
