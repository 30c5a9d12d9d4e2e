// Handler of `ingest`: feeds bounces, DSNs and feedback reports (or, with
// --provider, provider webhook events) to the server's IngestFeedback, which
// matches each to the message it is about and updates statuses and the
// suppression list. A FILE holding an mbox export is split into its
// messages (client/mbox). One row per piece of feedback; --json prints one
// {"file", "recipient", "kind", "reason", "class", "outcome", "message"}
// per line, or {"file", "feedback": false} for a message that is not
// feedback. Exit 0 when everything was ingested (whatever the outcomes), 1
// when any input failed.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/mbox.h"
#include "client/output.h"
#include "client/table.h"
#include "deliverd/v1/hygiene.grpc.pb.h"

namespace deliverd::client {

int RunIngest(const Invocation& inv) {
  FileReader read = inv.file_reader();
  std::string provider =
      absl::AsciiStrToLower(inv.args.GetOr("provider", ""));
  Connection connection(inv.settings);
  std::unique_ptr<v1::Hygiene::Stub> stub =
      v1::Hygiene::NewStub(connection.channel());
  Table table({"FILE", "RECIPIENT", "KIND", "REASON", "CLASS", "OUTCOME",
               "MESSAGE"});
  int failures = 0;
  for (const std::string& file : inv.args.positionals) {
    absl::StatusOr<std::string> data = read(file);
    if (!data.ok()) {
      inv.err << "deliverctl: ingest: " << data.status().message() << "\n";
      ++failures;
      continue;
    }
    std::vector<std::string> inputs;
    if (provider.empty()) {
      inputs = SplitMailbox(*data);
    } else {
      inputs.push_back(*std::move(data));
    }
    if (inputs.empty()) {
      inv.err << "deliverctl: ingest: " << file << ": no message in it\n";
      ++failures;
      continue;
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string label =
          inputs.size() == 1 ? file : absl::StrCat(file, "#", i + 1);
      v1::IngestFeedbackRequest request;
      if (provider.empty()) {
        request.set_raw_message(inputs[i]);
      } else {
        request.mutable_provider_event()->set_provider(provider);
        request.mutable_provider_event()->set_body(inputs[i]);
      }
      v1::IngestFeedbackResponse response;
      auto context = connection.NewContext();
      grpc::Status status =
          stub->IngestFeedback(context.get(), request, &response);
      if (!status.ok()) {
        inv.err << RpcErrorLine(absl::StrCat(inv.command(), ": ", label),
                                status, !inv.settings.api_key.empty())
                << "\n";
        ++failures;
        continue;
      }
      if (response.items_size() == 0) {
        if (inv.json()) {
          inv.out << "{\"file\":" << JsonString(label)
                  << ",\"feedback\":false}\n";
        } else {
          table.AddRow({label, "(not feedback)", "-", "-", "-", "-", "-"});
        }
        continue;
      }
      for (const v1::IngestedFeedback& item : response.items()) {
        std::string klass =
            EnumCliName(v1::BounceClass_descriptor(), item.class_());
        if (inv.json()) {
          inv.out << "{\"file\":" << JsonString(label)
                  << ",\"recipient\":" << JsonString(item.recipient())
                  << ",\"kind\":" << JsonString(item.kind())
                  << ",\"reason\":" << JsonString(item.reason())
                  << ",\"class\":" << JsonString(klass)
                  << ",\"outcome\":" << JsonString(item.outcome())
                  << ",\"message\":" << JsonString(item.message()) << "}\n";
        } else {
          table.AddRow({label,
                        item.recipient().empty() ? "-" : item.recipient(),
                        item.kind(), item.reason(), klass, item.outcome(),
                        item.message().empty() ? "-" : item.message()});
        }
      }
    }
  }
  if (!inv.json()) inv.out << table.Render();
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace deliverd::client
