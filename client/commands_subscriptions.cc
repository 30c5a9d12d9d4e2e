// Handlers of the `subscriptions` commands: subscribe, unsubscribe, get.
//
// Each builds its request from the flags first (usage errors never reach
// the server), then makes one RPC. Output: a table LIST STATE SOURCE
// CREATED UPDATED (the address is the one asked about), or with --json the
// response proto as one JSON line.

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/enum_names.h"
#include "client/flag_values.h"
#include "client/output.h"
#include "client/table.h"
#include "client/text.h"
#include "client/times.h"
#include "deliverd/v1/subscriptions.pb.h"

namespace deliverd::client {
namespace {

std::string StateName(int state) {
  return EnumCliName(v1::SubscriptionState_descriptor(), state);
}

Table SubscriptionTable() {
  return Table({"LIST", "STATE", "SOURCE", "CREATED", "UPDATED"});
}

void AddRow(Table &table, const v1::Subscription &s) {
  table.AddRow({SanitizeForTerminal(s.list()), StateName(s.state()),
                OrDash(SanitizeForTerminal(s.source())),
                FormatTimestamp(s.create_time()),
                FormatTimestamp(s.update_time())});
}

// The answer of subscribe / unsubscribe / get with a list.
void PrintSubscription(const Invocation &inv, const v1::Subscription &s) {
  if (inv.json()) {
    PrintJsonLine(inv.out, s);
    return;
  }
  Table table = SubscriptionTable();
  AddRow(table, s);
  inv.out << table.Render();
}

absl::StatusOr<v1::SubscribeRequest>
BuildSubscribeRequest(const ParsedCommandLine &args) {
  v1::SubscribeRequest request;
  request.set_address(args.GetOr("address", ""));
  request.set_list(args.GetOr("list", ""));
  for (const std::string &text : args.GetAll("meta")) {
    absl::StatusOr<std::pair<std::string, std::string>> kv =
        ParseKeyValue("meta", text);
    if (!kv.ok())
      return kv.status();
    if (!request.mutable_metadata()->insert({kv->first, kv->second}).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--meta key \"", kv->first, "\" given more than once"));
    }
  }
  request.set_double_opt_in(args.GetBool("double-opt-in"));
  request.set_confirm(args.GetBool("confirm"));
  if (request.double_opt_in() && request.confirm()) {
    return absl::InvalidArgumentError(
        "give --double-opt-in or --confirm, not both");
  }
  request.set_request_id(args.GetOr("request-id", ""));
  return request;
}

absl::StatusOr<v1::UnsubscribeRequest>
BuildUnsubscribeRequest(const ParsedCommandLine &args) {
  v1::UnsubscribeRequest request;
  request.set_address(args.GetOr("address", ""));
  request.set_list(args.GetOr("list", ""));
  const std::string reason = args.GetOr("reason", "");
  if (absl::StripAsciiWhitespace(reason).empty()) {
    return absl::InvalidArgumentError(
        "--reason must say why the address unsubscribed");
  }
  request.set_reason(reason);
  request.set_request_id(args.GetOr("request-id", ""));
  return request;
}

} // namespace

int RunSubscriptionsSubscribe(const Invocation &inv) {
  absl::StatusOr<v1::SubscribeRequest> request =
      BuildSubscribeRequest(inv.args);
  if (!request.ok())
    return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::Subscription subscription;
  const grpc::Status status = connection.subscriptions().Subscribe(
      context.get(), *request, &subscription);
  if (!status.ok())
    return inv.RpcError(status);
  PrintSubscription(inv, subscription);
  return kExitOk;
}

int RunSubscriptionsUnsubscribe(const Invocation &inv) {
  absl::StatusOr<v1::UnsubscribeRequest> request =
      BuildUnsubscribeRequest(inv.args);
  if (!request.ok())
    return inv.UsageError(request.status().message());
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::Subscription subscription;
  const grpc::Status status = connection.subscriptions().Unsubscribe(
      context.get(), *request, &subscription);
  if (!status.ok())
    return inv.RpcError(status);
  if (!request->list().empty() || inv.json()) {
    PrintSubscription(inv, subscription);
    return kExitOk;
  }
  // Every list: show them all as they are now.
  v1::ListSubscriptionsRequest list;
  list.set_address(request->address());
  v1::ListSubscriptionsResponse response;
  auto list_context = connection.NewContext();
  const grpc::Status listed = connection.subscriptions().ListSubscriptions(
      list_context.get(), list, &response);
  if (!listed.ok()) {
    PrintSubscription(inv, subscription);
    return kExitOk;
  }
  Table table = SubscriptionTable();
  for (const v1::Subscription &s : response.subscriptions())
    AddRow(table, s);
  inv.out << table.Render();
  return kExitOk;
}

int RunSubscriptionsGet(const Invocation &inv) {
  const std::string address = inv.args.GetOr("address", "");
  const std::string list = inv.args.GetOr("list", "");
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  if (!list.empty()) {
    v1::GetSubscriptionRequest request;
    request.set_address(address);
    request.set_list(list);
    v1::Subscription subscription;
    const grpc::Status status = connection.subscriptions().GetSubscription(
        context.get(), request, &subscription);
    if (!status.ok())
      return inv.RpcError(status);
    PrintSubscription(inv, subscription);
    return kExitOk;
  }
  v1::ListSubscriptionsRequest request;
  request.set_address(address);
  v1::ListSubscriptionsResponse response;
  const grpc::Status status = connection.subscriptions().ListSubscriptions(
      context.get(), request, &response);
  if (!status.ok())
    return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
    return kExitOk;
  }
  if (response.subscriptions_size() == 0) {
    inv.err << "no subscriptions\n";
    return kExitOk;
  }
  Table table = SubscriptionTable();
  for (const v1::Subscription &s : response.subscriptions())
    AddRow(table, s);
  inv.out << table.Render();
  return kExitOk;
}

} // namespace deliverd::client
