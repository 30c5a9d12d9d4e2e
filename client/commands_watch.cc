// Handler of `watch`: prints the WatchEvents stream line by line until
// --count events, the end of the stream, or SIGINT/SIGTERM.

#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/message_requests.h"
#include "client/output.h"
#include "client/signals.h"
#include "client/text.h"
#include "client/times.h"

namespace deliverd::client {
namespace {

std::string EventLine(const v1::Event& event) {
  const std::string fields[] = {
      FormatTimestamp(event.time()),
      OrDash(event.cursor()),
      OrDash(BareMessageId(event.message())),
      EventTypeName(event.type()),
      OrDash(event.recipient()),
      OrDash(EventDetailText(event)),
  };
  return SanitizeForTerminal(absl::StrJoin(fields, "  "));
}

}  // namespace

int RunWatch(const Invocation& inv) {
  absl::StatusOr<v1::WatchEventsRequest> request = BuildWatchRequest(inv.args);
  if (!request.ok()) return inv.UsageError(request.status().message());
  int64_t count = 0;  // 0: no limit. BuildWatchRequest validated it.
  if (std::optional<std::string> text = inv.args.Get("count")) {
    (void)absl::SimpleAtoi(*text, &count);
  }

  // Before the channel exists, so that gRPC's threads inherit the mask.
  BlockTerminationSignals();
  Connection connection(inv.settings);
  auto context = connection.NewStreamContext();
  // Declared after `context` so it is destroyed first: its thread may call
  // TryCancel on the context until then.
  TerminationSignalWatcher watcher([ctx = context.get()] { ctx->TryCancel(); });

  auto reader = connection.messages().WatchEvents(context.get(), *request);
  v1::WatchEventsResponse response;
  int64_t seen = 0;
  bool count_reached = false;
  while (reader->Read(&response)) {
    if (inv.json()) {
      PrintJsonLine(inv.out, response.event());
    } else {
      inv.out << EventLine(response.event()) << "\n";
    }
    // Flush per event: watch output is read live, often through a pipe.
    inv.out.flush();
    if (count > 0 && ++seen >= count) {
      count_reached = true;
      context->TryCancel();
      while (reader->Read(&response)) {
      }
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (count_reached || watcher.signalled()) return kExitOk;
  if (!status.ok()) return inv.RpcError(status);
  if (count > 0) {
    inv.err << "deliverctl: watch: the stream ended after " << seen << " of "
            << count << " events\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace deliverd::client
