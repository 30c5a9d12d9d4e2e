// The subcommands of deliverctl: their specs (flags and help) and the
// dispatch from a command line to a handler.
//
// Contract: RunDeliverctl is all of main() but the process plumbing, so
// tests can run whole command lines. It returns the exit status
// (kExitOk / kExitFailure / kExitUsage from flags.h) and writes only to the
// given streams: results to `out`, errors and hints to `err`, one line per
// error. Handlers (one per subcommand, in commands_*.cc) receive an
// Invocation; each builds its request(s) locally first, so usage errors
// never reach the server, then opens its own Connection.
#ifndef DELIVERD_CLIENT_COMMANDS_H_
#define DELIVERD_CLIENT_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/files.h"
#include "client/flags.h"
#include "client/settings.h"

namespace deliverd::client {

// Everything a handler needs about the run.
struct Invocation {
  const ParsedCommandLine& args;
  const ConnectionSettings& settings;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  absl::Time now;
  // The environment (for secrets some commands take from it).
  const Environment& env;

  const std::string& command() const { return args.command->name; }
  bool json() const { return args.global.json; }

  // Prints "deliverctl: <command>: <message>" to err; returns kExitUsage.
  int UsageError(absl::string_view message) const;
  // Prints the RPC error line (output.h) to err; returns kExitFailure.
  int RpcError(const grpc::Status& status) const;
  // Reads a file named on the command line; "-" is `in`.
  FileReader file_reader() const;
};

using CommandHandler = int (*)(const Invocation&);

// Every command, in help order.
const std::vector<CommandSpec>& CommandSpecs();

int RunDeliverctl(const std::vector<std::string>& args, const Environment& env,
                  std::istream& in, std::ostream& out, std::ostream& err);

// Help texts (also used by tests).
std::string GeneralHelp();
std::string CommandHelp(const CommandSpec& command);
std::string GroupHelp(absl::string_view group);

// Handlers.
int RunSend(const Invocation& invocation);
int RunSendBatch(const Invocation& invocation);
int RunStatus(const Invocation& invocation);
int RunLog(const Invocation& invocation);
int RunResend(const Invocation& invocation);
int RunWatch(const Invocation& invocation);
int RunSuppressionsList(const Invocation& invocation);
int RunSuppressionsAdd(const Invocation& invocation);
int RunSuppressionsRemove(const Invocation& invocation);
int RunSuppressionsCheck(const Invocation& invocation);
int RunSubscriptionsSubscribe(const Invocation& invocation);
int RunSubscriptionsUnsubscribe(const Invocation& invocation);
int RunSubscriptionsGet(const Invocation& invocation);
int RunHealth(const Invocation& invocation);
int RunSpf(const Invocation& invocation);
int RunCheckDomain(const Invocation& invocation);
int RunClassifyBounce(const Invocation& invocation);
int RunIngest(const Invocation& invocation);
int RunVerify(const Invocation& invocation);
int RunClean(const Invocation& invocation);
int RunJobsCreate(const Invocation& invocation);
int RunJobsList(const Invocation& invocation);
int RunJobsGet(const Invocation& invocation);
int RunJobsRun(const Invocation& invocation);
int RunJobsDelete(const Invocation& invocation);
int RunJobsRuns(const Invocation& invocation);
int RunAlertsChannels(const Invocation& invocation);
int RunAlertsAddChannel(const Invocation& invocation);
int RunAlertsRmChannel(const Invocation& invocation);
int RunAlertsRules(const Invocation& invocation);
int RunAlertsAddRule(const Invocation& invocation);
int RunAlertsRmRule(const Invocation& invocation);
int RunAlertsTest(const Invocation& invocation);
int RunAlertsList(const Invocation& invocation);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_COMMANDS_H_
