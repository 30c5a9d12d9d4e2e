// Handlers of the `alerts` commands over the deliverd.v1.Alerts service:
// channels, add-channel, rm-channel, rules, add-rule, rm-rule, test, list.
//
// Each builds its request from the flags first (alert_requests.h; usage
// errors never reach the server), then makes one RPC. Tables show bare
// names ("ops", "r_..."); --json prints the response proto as one line.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/alert_requests.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/output.h"
#include "client/table.h"
#include "client/text.h"
#include "client/times.h"
#include "deliverd/v1/alerts.grpc.pb.h"

namespace deliverd::client {
namespace {

// Titles are one line; --json has the whole alert, its text included.
constexpr size_t kTitleWidth = 60;

std::unique_ptr<v1::Alerts::Stub> AlertsStub(const Connection& connection) {
  return v1::Alerts::NewStub(connection.channel());
}

std::string ChannelsText(const v1::AlertRule& rule) {
  std::vector<std::string> names;
  for (const std::string& channel : rule.channels()) {
    names.push_back(BareAlertChannelName(channel));
  }
  return OrDash(absl::StrJoin(names, ","));
}

std::string StatusCodeText(int32_t code) {
  return code == 0 ? "-" : absl::StrCat(code);
}

// The answer of `alerts test`, one "label: value" per line.
void PrintRecord(std::ostream& out, const v1::AlertRecord& record) {
  Table fields;
  fields.AddRow({"alert:", OrDash(BareAlertName(record.name()))});
  fields.AddRow(
      {"channel:",
       absl::StrCat(BareAlertChannelName(record.channel()), " (",
                    AlertChannelTypeCliName(record.channel_type()), ")")});
  fields.AddRow({"destination:", OrDash(record.destination())});
  fields.AddRow({"accepted:", record.accepted() ? "yes" : "no"});
  fields.AddRow({"status:", StatusCodeText(record.status_code())});
  fields.AddRow({"attempts:", absl::StrCat(record.attempts())});
  fields.AddRow({"sent:", FormatTimestamp(record.last_attempt_time())});
  fields.AddRow({"error:", OrDash(record.error())});
  out << fields.Render();
}

}  // namespace

int RunAlertsChannels(const Invocation& inv) {
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::ListAlertChannelsResponse response;
  const grpc::Status status =
      AlertsStub(connection)
          ->ListAlertChannels(context.get(), v1::ListAlertChannelsRequest(),
                              &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
    return kExitOk;
  }
  if (response.channels_size() == 0) {
    inv.err << "no alert channels\n";
    return kExitOk;
  }
  Table table({"NAME", "TYPE", "DESTINATION", "CREATED"});
  for (const v1::AlertChannel& channel : response.channels()) {
    table.AddRow({BareAlertChannelName(channel.name()),
                  AlertChannelTypeCliName(channel.type()),
                  AlertChannelDestinationText(channel),
                  FormatTimestamp(channel.create_time())});
  }
  inv.out << table.Render();
  return kExitOk;
}

int RunAlertsAddChannel(const Invocation& inv) {
  absl::StatusOr<v1::CreateAlertChannelRequest> request =
      BuildCreateAlertChannelRequest(inv.args, inv.file_reader(),
                                     inv.env.get_env);
  if (!request.ok()) return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::AlertChannel channel;
  const grpc::Status status =
      AlertsStub(connection)
          ->CreateAlertChannel(context.get(), *request, &channel);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, channel);
  } else {
    inv.out << "created alert channel "
            << SanitizeForTerminal(
                   absl::StrCat(BareAlertChannelName(channel.name()), " (",
                                AlertChannelTypeCliName(channel.type()), " ",
                                AlertChannelDestinationText(channel), ")"))
            << "\n";
  }
  return kExitOk;
}

int RunAlertsRmChannel(const Invocation& inv) {
  v1::DeleteAlertChannelRequest request;
  request.set_name(AlertChannelName(inv.args.positionals.at(0)));
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::DeleteAlertChannelResponse response;
  const grpc::Status status =
      AlertsStub(connection)
          ->DeleteAlertChannel(context.get(), request, &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
  } else {
    inv.out << "deleted alert channel "
            << SanitizeForTerminal(BareAlertChannelName(request.name()))
            << "\n";
  }
  return kExitOk;
}

int RunAlertsRules(const Invocation& inv) {
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::ListAlertRulesResponse response;
  const grpc::Status status =
      AlertsStub(connection)
          ->ListAlertRules(context.get(), v1::ListAlertRulesRequest(),
                           &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
    return kExitOk;
  }
  if (response.rules_size() == 0) {
    inv.err << "no alert rules\n";
    return kExitOk;
  }
  Table table(
      {"RULE", "KIND", "SEVERITY", "CHANNELS", "PARAMETERS", "COOLDOWN"});
  for (const v1::AlertRule& rule : response.rules()) {
    table.AddRow({BareAlertName(rule.name()), AlertKindCliName(rule.kind()),
                  AlertSeverityCliName(rule.severity()), ChannelsText(rule),
                  AlertRuleParametersText(rule),
                  FormatSeconds(rule.cooldown_seconds())});
  }
  inv.out << table.Render();
  return kExitOk;
}

int RunAlertsAddRule(const Invocation& inv) {
  absl::StatusOr<v1::CreateAlertRuleRequest> request =
      BuildCreateAlertRuleRequest(inv.args);
  if (!request.ok()) return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::AlertRule rule;
  const grpc::Status status =
      AlertsStub(connection)->CreateAlertRule(context.get(), *request, &rule);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, rule);
  } else {
    // Just the id, like `send`, so scripts can keep it.
    inv.out << SanitizeForTerminal(BareAlertName(rule.name())) << "\n";
  }
  return kExitOk;
}

int RunAlertsRmRule(const Invocation& inv) {
  v1::DeleteAlertRuleRequest request;
  request.set_name(AlertRuleName(inv.args.positionals.at(0)));
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::DeleteAlertRuleResponse response;
  const grpc::Status status =
      AlertsStub(connection)
          ->DeleteAlertRule(context.get(), request, &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
  } else {
    inv.out << "deleted alert rule "
            << SanitizeForTerminal(BareAlertName(request.name())) << "\n";
  }
  return kExitOk;
}

int RunAlertsTest(const Invocation& inv) {
  v1::SendTestAlertRequest request;
  request.set_channel(AlertChannelName(inv.args.positionals.at(0)));
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::AlertRecord record;
  const grpc::Status status =
      AlertsStub(connection)->SendTestAlert(context.get(), request, &record);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, record);
  } else {
    PrintRecord(inv.out, record);
  }
  if (record.accepted()) return kExitOk;
  inv.err << "deliverctl: " << inv.command() << ": "
          << SanitizeForTerminal(absl::StrCat(
                 BareAlertChannelName(request.channel()),
                 " did not accept the test alert",
                 record.error().empty() ? "" : ": ", record.error()))
          << "\n";
  return kExitFailure;
}

int RunAlertsList(const Invocation& inv) {
  absl::StatusOr<v1::ListAlertsRequest> request =
      BuildListAlertsRequest(inv.args);
  if (!request.ok()) return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::ListAlertsResponse response;
  const grpc::Status status =
      AlertsStub(connection)->ListAlerts(context.get(), *request, &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
  } else if (response.alerts_size() == 0) {
    inv.err << "no alerts\n";
  } else {
    Table table({"TIME", "KIND", "CHANNEL", "ACCEPTED", "STATUS", "TITLE"});
    for (const v1::AlertRecord& record : response.alerts()) {
      table.AddRow({FormatTimestamp(record.create_time()),
                    AlertKindCliName(record.kind()),
                    BareAlertChannelName(record.channel()),
                    record.accepted() ? "yes" : "no",
                    StatusCodeText(record.status_code()),
                    OrDash(TruncateToWidth(SanitizeForTerminal(record.title()),
                                           kTitleWidth))});
    }
    inv.out << table.Render();
  }
  if (!response.next_page_token().empty()) {
    inv.err << "more: add --page-token " << response.next_page_token()
            << " for the next page\n";
  }
  return kExitOk;
}

}  // namespace deliverd::client
