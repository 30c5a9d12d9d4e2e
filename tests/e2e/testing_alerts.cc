#include "testing_alerts.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace deliverd::e2e {
namespace {

// One unary call of `method` with `client`'s key and a deadline.
template <typename Response, typename Request, typename Method>
absl::StatusOr<Response> Call(const Client& client, v1::Alerts::Stub& stub,
                              Method method, const Request& request,
                              Millis timeout = Seconds(10)) {
  Response response;
  std::unique_ptr<grpc::ClientContext> context = client.Context(timeout);
  grpc::Status status = (stub.*method)(context.get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

}  // namespace

std::vector<std::string> RelayFlags(const testing::SmtpServer& relay) {
  return {"--smtp-relay", absl::StrCat("smtp://127.0.0.1:", relay.port()),
          "--smtp-tls", "none", "--smtp-timeout", "5s"};
}

v1::AlertChannel Webhook(const std::string& name, const std::string& url) {
  v1::AlertChannel channel;
  channel.set_name(name);
  channel.set_type(v1::ALERT_CHANNEL_TYPE_WEBHOOK);
  channel.set_url(url);
  channel.set_secret(kAlertWebhookSecret);
  return channel;
}

AlertsClient::AlertsClient(const Client& client)
    : client_(client), stub_(v1::Alerts::NewStub(client.channel())) {}

absl::StatusOr<v1::AlertChannel> AlertsClient::CreateChannel(
    v1::AlertChannel channel) {
  v1::CreateAlertChannelRequest request;
  *request.mutable_channel() = std::move(channel);
  return Call<v1::AlertChannel>(client_, *stub_,
                                &v1::Alerts::Stub::CreateAlertChannel, request);
}

absl::StatusOr<v1::ListAlertChannelsResponse> AlertsClient::ListChannels() {
  return Call<v1::ListAlertChannelsResponse>(
      client_, *stub_, &v1::Alerts::Stub::ListAlertChannels,
      v1::ListAlertChannelsRequest());
}

absl::Status AlertsClient::DeleteChannel(const std::string& name) {
  v1::DeleteAlertChannelRequest request;
  request.set_name(name);
  return Call<v1::DeleteAlertChannelResponse>(
             client_, *stub_, &v1::Alerts::Stub::DeleteAlertChannel, request)
      .status();
}

absl::StatusOr<v1::AlertRule> AlertsClient::CreateRule(v1::AlertRule rule) {
  v1::CreateAlertRuleRequest request;
  *request.mutable_rule() = std::move(rule);
  return Call<v1::AlertRule>(client_, *stub_,
                             &v1::Alerts::Stub::CreateAlertRule, request);
}

absl::StatusOr<v1::ListAlertRulesResponse> AlertsClient::ListRules() {
  return Call<v1::ListAlertRulesResponse>(client_, *stub_,
                                          &v1::Alerts::Stub::ListAlertRules,
                                          v1::ListAlertRulesRequest());
}

absl::StatusOr<v1::AlertRecord> AlertsClient::Test(const std::string& channel) {
  v1::SendTestAlertRequest request;
  request.set_channel(channel);
  return Call<v1::AlertRecord>(client_, *stub_,
                               &v1::Alerts::Stub::SendTestAlert, request,
                               Seconds(30));
}

absl::StatusOr<v1::ListAlertsResponse> AlertsClient::List() {
  return Call<v1::ListAlertsResponse>(client_, *stub_,
                                      &v1::Alerts::Stub::ListAlerts,
                                      v1::ListAlertsRequest());
}

absl::StatusOr<v1::AlertRecord> AlertsClient::WaitForRecord(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<v1::ListAlertsResponse> list = List();
    if (!list.ok()) return list.status();
    if (list->alerts_size() > 0) return list->alerts(0);
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("no alert recorded");
    }
    absl::SleepFor(absl::Milliseconds(50));  // polling interval
  }
}

}  // namespace deliverd::e2e
