// Handlers of the Messages-service commands: send, send-batch, status, log
// and resend (watch has its own file: it deals with signals).

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/message_requests.h"
#include "client/output.h"
#include "client/table.h"
#include "client/text.h"
#include "client/times.h"

namespace deliverd::client {
namespace {

// Columns the log table gives the subject before cutting it, so a row fits
// a 160-column terminal with typical addresses.
constexpr size_t kSubjectWidth = 40;

std::string FirstRecipientText(const v1::Message& message) {
  if (message.recipients().empty()) return "-";
  std::string text = message.recipients(0).address();
  if (message.recipients_size() > 1) {
    absl::StrAppend(&text, " (+", message.recipients_size() - 1, ")");
  }
  return text;
}

void PrintMessageView(const v1::Message& message, std::ostream& out) {
  Table fields;
  fields.AddRow({"id:", MessageIdOf(message)});
  fields.AddRow({"status:", MessageStatusName(message.status())});
  fields.AddRow({"from:", OrDash(MailboxText(message.from()))});
  fields.AddRow({"subject:", OrDash(message.subject())});
  fields.AddRow({"tags:", OrDash(absl::StrJoin(message.tags(), ", "))});
  if (!message.stream().empty()) fields.AddRow({"stream:", message.stream()});
  if (!message.metadata().empty()) {
    // Sorted: proto maps have no order, and a stable view is easier to read.
    const std::map<std::string, std::string> sorted(message.metadata().begin(),
                                                    message.metadata().end());
    fields.AddRow(
        {"metadata:", absl::StrJoin(sorted, ", ", absl::PairFormatter("="))});
  }
  fields.AddRow({"created:", FormatTimestamp(message.create_time())});
  fields.AddRow({"updated:", FormatTimestamp(message.update_time())});
  fields.AddRow(
      {"next attempt:", FormatTimestamp(message.next_attempt_time())});
  fields.AddRow({"attempts:", absl::StrCat(message.attempt_count())});
  fields.AddRow({"resend of:", OrDash(BareMessageId(message.resend_of()))});
  fields.AddRow({"message-id:", OrDash(message.rfc822_message_id())});
  fields.AddRow({"size:", absl::StrCat(message.size_bytes(), " bytes")});
  if (!message.request_id().empty()) {
    fields.AddRow({"request id:", message.request_id()});
  }
  out << fields.Render();

  out << "\nRecipients:\n";
  if (message.recipients().empty()) {
    out << "  (none)\n";
  } else {
    Table recipients({"ADDRESS", "KIND", "STATUS", "DETAIL"});
    for (const v1::Recipient& r : message.recipients()) {
      recipients.AddRow({r.address(), RecipientKindName(r.kind()),
                         MessageStatusName(r.status()),
                         OrDash(RecipientDetailText(r))});
    }
    out << recipients.Render();
  }

  out << "\nEvents:\n";
  if (message.events().empty()) {
    out << "  (none)\n";
  } else {
    Table events({"TIME", "TYPE", "RECIPIENT", "SOURCE", "DETAIL"});
    for (const v1::Event& e : message.events()) {
      events.AddRow({FormatTimestamp(e.time()), EventTypeName(e.type()),
                     OrDash(e.recipient()), OrDash(e.source()),
                     OrDash(EventDetailText(e))});
    }
    out << events.Render();
  }
}

}  // namespace

int RunSend(const Invocation& inv) {
  absl::StatusOr<v1::SendRequest> request =
      BuildSendRequest(inv.args, inv.file_reader());
  if (!request.ok()) return inv.UsageError(request.status().message());

  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::SendResponse response;
  const grpc::Status status =
      connection.messages().Send(context.get(), *request, &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
  } else {
    inv.out << MessageIdOf(response.message()) << "\n";
  }
  return kExitOk;
}

int RunSendBatch(const Invocation& inv) {
  const std::string& path = inv.args.positionals.at(0);
  absl::StatusOr<std::string> contents = inv.file_reader()(path);
  if (!contents.ok()) {
    return inv.UsageError(
        absl::StrCat("cannot read ", contents.status().message()));
  }
  // Everything is parsed before the first call, so a malformed line never
  // leaves a file half sent.
  absl::StatusOr<std::vector<v1::SendRequest>> requests =
      ParseSendBatch(*contents);
  if (!requests.ok()) return inv.UsageError(requests.status().message());

  Connection connection(inv.settings);
  bool any_failed = false;
  for (size_t start = 0; start < requests->size(); start += kMaxBatchItems) {
    const size_t end = std::min(requests->size(), start + kMaxBatchItems);
    v1::SendBatchRequest batch;
    for (size_t i = start; i < end; ++i) {
      *batch.add_messages() = std::move((*requests)[i]);
    }
    auto context = connection.NewContext();
    v1::SendBatchResponse response;
    const grpc::Status status =
        connection.messages().SendBatch(context.get(), batch, &response);
    if (!status.ok()) {
      if (start > 0) {
        inv.err << "deliverctl: send-batch: items 1-" << start
                << " were sent; items from " << start + 1 << " on were not\n";
      }
      return inv.RpcError(status);
    }
    if (response.results_size() != batch.messages_size()) {
      inv.err << "deliverctl: send-batch: the server returned "
              << response.results_size() << " results for "
              << batch.messages_size() << " items\n";
      return kExitFailure;
    }
    for (const v1::SendBatchResult& result : response.results()) {
      if (inv.json()) {
        PrintJsonLine(inv.out, result);
      } else if (result.has_error()) {
        inv.out << "ERROR "
                << SanitizeForTerminal(ItemErrorText(result.error())) << "\n";
      } else {
        inv.out << "OK " << MessageIdOf(result.message()) << "\n";
      }
      if (!result.has_message()) any_failed = true;
    }
    inv.out.flush();
  }
  return any_failed ? kExitFailure : kExitOk;
}

int RunStatus(const Invocation& inv) {
  v1::GetMessageRequest request;
  request.set_name(MessageResourceName(inv.args.positionals.at(0)));
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::Message message;
  const grpc::Status status =
      connection.messages().GetMessage(context.get(), request, &message);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, message);
  } else {
    PrintMessageView(message, inv.out);
  }
  return kExitOk;
}

int RunLog(const Invocation& inv) {
  absl::StatusOr<v1::ListMessagesRequest> request =
      BuildListMessagesRequest(inv.args, inv.now);
  if (!request.ok()) return inv.UsageError(request.status().message());
  const bool all = inv.args.GetBool("all");

  Connection connection(inv.settings);
  Table table({"CREATED", "ID", "STATUS", "FROM", "TO", "SUBJECT"});
  std::string next_token;
  while (true) {
    auto context = connection.NewContext();
    v1::ListMessagesResponse response;
    const grpc::Status status =
        connection.messages().ListMessages(context.get(), *request, &response);
    if (!status.ok()) return inv.RpcError(status);
    if (inv.json()) {
      PrintJsonLine(inv.out, response);
    } else {
      for (const v1::Message& m : response.messages()) {
        table.AddRow(
            {FormatTimestamp(m.create_time()), MessageIdOf(m),
             MessageStatusName(m.status()), OrDash(m.from().address()),
             FirstRecipientText(m),
             TruncateToWidth(SanitizeForTerminal(m.subject()), kSubjectWidth)});
      }
    }
    next_token = response.next_page_token();
    if (!all || next_token.empty()) break;
    // A server that hands back the token it was given would loop forever.
    if (next_token == request->page_token()) {
      inv.err << "deliverctl: log: the server repeated page token "
              << next_token << "; stopping\n";
      return kExitFailure;
    }
    request->set_page_token(next_token);
  }
  if (!inv.json()) {
    if (table.row_count() == 0) {
      inv.err << "no messages\n";
    } else {
      inv.out << table.Render();
    }
  }
  // The hint goes to stderr so that stdout stays the data alone.
  if (!next_token.empty()) {
    inv.err << "more: add --page-token " << next_token
            << " for the next page, or --all\n";
  }
  return kExitOk;
}

int RunResend(const Invocation& inv) {
  absl::StatusOr<v1::ResendRequest> request = BuildResendRequest(inv.args);
  if (!request.ok()) return inv.UsageError(request.status().message());

  Connection connection(inv.settings);
  bool any_failed = false;
  const int total = request->names_size();
  for (int start = 0; start < total; start += kMaxBatchItems) {
    v1::ResendRequest chunk = *request;
    chunk.clear_names();
    for (int i = start; i < std::min(total, start + kMaxBatchItems); ++i) {
      chunk.add_names(request->names(i));
    }
    auto context = connection.NewContext();
    v1::ResendResponse response;
    const grpc::Status status =
        connection.messages().Resend(context.get(), chunk, &response);
    if (!status.ok()) return inv.RpcError(status);
    for (const v1::ResendResult& result : response.results()) {
      if (!result.has_message()) any_failed = true;
      if (inv.json()) {
        PrintJsonLine(inv.out, result);
        continue;
      }
      inv.out << BareMessageId(result.original()) << " -> ";
      if (result.has_message()) {
        inv.out << MessageIdOf(result.message()) << "\n";
      } else {
        inv.out << "ERROR "
                << SanitizeForTerminal(ItemErrorText(result.error())) << "\n";
      }
    }
  }
  return any_failed ? kExitFailure : kExitOk;
}

}  // namespace deliverd::client
