#include "server/api/alerts_service.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/alerts/alert_config.h"
#include "server/api/message_ids.h"

namespace deliverd::api {
namespace {

constexpr absl::string_view kRulePrefix = "alertRules/";
constexpr absl::string_view kAlertPrefix = "alerts/";

absl::StatusOr<std::string> RuleId(absl::string_view field,
                                   absl::string_view name) {
  if (absl::StartsWith(name, kRulePrefix))
    name.remove_prefix(kRulePrefix.size());
  if (!absl::StartsWith(name, "r_") || name.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": an alert rule name, \"alertRules/r_...\""));
  }
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": an alert rule name, \"alertRules/r_...\""));
    }
  }
  return std::string(name);
}

}  // namespace

AlertsService::~AlertsService() {
  absl::MutexLock lock(&mu_);
  const auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return test_alerts_in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

grpc::ServerUnaryReactor* AlertsService::CreateAlertChannel(
    grpc::CallbackServerContext* call,
    const v1::CreateAlertChannelRequest* request, v1::AlertChannel* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (!request->has_channel()) {
    return FinishWith(call, absl::InvalidArgumentError("channel: required"));
  }
  absl::StatusOr<alerts::ChannelConfig> channel =
      alerts::ChannelFromProto(caller->tenant_id, request->channel());
  if (!channel.ok()) return FinishWith(call, channel.status());
  channel->create_time = absl::Now();
  absl::Status created =
      ctx_->store->CreateAlertChannel(alerts::ChannelToRow(*channel));
  if (absl::IsAlreadyExists(created)) {
    return FinishWith(call, absl::AlreadyExistsError(absl::StrCat(
                                "channel.name: alert channel ", channel->name,
                                " already exists")));
  }
  if (!created.ok()) return FinishWith(call, created);
  engine_->ConfigChanged();
  *response = alerts::ChannelToProto(*channel, /*redact=*/true);
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* AlertsService::ListAlertChannels(
    grpc::CallbackServerContext* call, const v1::ListAlertChannelsRequest*,
    v1::ListAlertChannelsResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::vector<store::AlertChannelRow>> rows =
      ctx_->store->ListAlertChannels(caller->tenant_id);
  if (!rows.ok()) return FinishWith(call, rows.status());
  for (const store::AlertChannelRow& row : *rows) {
    absl::StatusOr<alerts::ChannelConfig> channel = alerts::DecodeChannel(row);
    if (!channel.ok()) return FinishWith(call, channel.status());
    *response->add_channels() = alerts::ChannelToProto(*channel, true);
  }
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* AlertsService::DeleteAlertChannel(
    grpc::CallbackServerContext* call,
    const v1::DeleteAlertChannelRequest* request,
    v1::DeleteAlertChannelResponse*) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> name =
      alerts::ParseChannelName("name", request->name());
  if (!name.ok()) return FinishWith(call, name.status());
  absl::Status deleted =
      ctx_->store->DeleteAlertChannel(caller->tenant_id, *name);
  if (!deleted.ok()) return FinishWith(call, deleted);
  engine_->ConfigChanged();
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* AlertsService::CreateAlertRule(
    grpc::CallbackServerContext* call,
    const v1::CreateAlertRuleRequest* request, v1::AlertRule* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (!request->has_rule()) {
    return FinishWith(call, absl::InvalidArgumentError("rule: required"));
  }
  absl::StatusOr<alerts::RuleConfig> rule =
      alerts::RuleFromProto(caller->tenant_id, request->rule());
  if (!rule.ok()) return FinishWith(call, rule.status());
  const absl::Time now = absl::Now();
  rule->create_time = now;
  // Message ids are unguessable and sort by time; rules borrow the form.
  rule->id = absl::StrCat("r_", NewMessageId(now).substr(2));
  absl::Status created = ctx_->store->CreateAlertRule(alerts::RuleToRow(*rule));
  if (absl::IsFailedPrecondition(created)) {
    return FinishWith(call, absl::FailedPreconditionError(absl::StrCat(
                                "rule.channels: ", created.message())));
  }
  if (!created.ok()) return FinishWith(call, created);
  engine_->ConfigChanged();
  *response = alerts::RuleToProto(*rule);
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* AlertsService::ListAlertRules(
    grpc::CallbackServerContext* call, const v1::ListAlertRulesRequest*,
    v1::ListAlertRulesResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::vector<store::AlertRuleRow>> rows =
      ctx_->store->ListAlertRules(caller->tenant_id);
  if (!rows.ok()) return FinishWith(call, rows.status());
  for (const store::AlertRuleRow& row : *rows) {
    absl::StatusOr<alerts::RuleConfig> rule = alerts::DecodeRule(row);
    if (!rule.ok()) return FinishWith(call, rule.status());
    *response->add_rules() = alerts::RuleToProto(*rule);
  }
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* AlertsService::DeleteAlertRule(
    grpc::CallbackServerContext* call,
    const v1::DeleteAlertRuleRequest* request, v1::DeleteAlertRuleResponse*) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> id = RuleId("name", request->name());
  if (!id.ok()) return FinishWith(call, id.status());
  absl::Status deleted = ctx_->store->DeleteAlertRule(caller->tenant_id, *id);
  if (!deleted.ok()) return FinishWith(call, deleted);
  engine_->ConfigChanged();
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* AlertsService::SendTestAlert(
    grpc::CallbackServerContext* call, const v1::SendTestAlertRequest* request,
    v1::AlertRecord* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  absl::StatusOr<std::string> name =
      alerts::ParseChannelName("channel", request->channel());
  if (!name.ok()) return FinishWith(call, name.status());
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  {
    absl::MutexLock lock(&mu_);
    ++test_alerts_in_flight_;
  }
  // The delivery waits for the channel (and its retry): not on gRPC's
  // callback thread.
  std::thread([this, reactor, response, tenant_id = caller->tenant_id,
               name = *std::move(name)] {
    absl::StatusOr<std::string> tenant_name =
        ctx_->store->TenantName(tenant_id);
    absl::StatusOr<v1::AlertRecord> record = engine_->SendTestAlert(
        tenant_id,
        tenant_name.ok() ? *tenant_name : absl::StrCat("tenant ", tenant_id),
        name);
    if (record.ok()) {
      *response = *std::move(record);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(
          grpc::Status(static_cast<grpc::StatusCode>(record.status().code()),
                       std::string(record.status().message())));
    }
    absl::MutexLock lock(&mu_);
    --test_alerts_in_flight_;
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* AlertsService::ListAlerts(
    grpc::CallbackServerContext* call, const v1::ListAlertsRequest* request,
    v1::ListAlertsResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  int page_size = request->page_size();
  if (page_size < 0) {
    return FinishWith(
        call, absl::InvalidArgumentError("page_size: must not be negative"));
  }
  if (page_size == 0) page_size = 50;
  page_size = std::min(page_size, 500);
  int64_t before_id = 0;
  if (!request->page_token().empty()) {
    absl::string_view token = request->page_token();
    if (!absl::StartsWith(token, kAlertPrefix) ||
        !absl::SimpleAtoi(token.substr(kAlertPrefix.size()), &before_id) ||
        before_id <= 0) {
      return FinishWith(call, absl::InvalidArgumentError(
                                  "page_token: not a token from ListAlerts"));
    }
  }
  std::string channel;
  if (!request->channel().empty()) {
    absl::StatusOr<std::string> name =
        alerts::ParseChannelName("channel", request->channel());
    if (!name.ok()) return FinishWith(call, name.status());
    channel = *std::move(name);
  }
  if (request->kind() != v1::ALERT_KIND_UNSPECIFIED &&
      !alerts::AlertKindFromProto(request->kind()).ok()) {
    return FinishWith(call, absl::InvalidArgumentError("kind: unknown value"));
  }
  absl::StatusOr<std::vector<store::AlertRecordRow>> rows =
      ctx_->store->ListAlertRecords(caller->tenant_id, channel, request->kind(),
                                    page_size + 1, before_id);
  if (!rows.ok()) return FinishWith(call, rows.status());
  const bool more = static_cast<int>(rows->size()) > page_size;
  if (more) rows->resize(page_size);
  for (const store::AlertRecordRow& row : *rows) {
    v1::AlertRecord* record = response->add_alerts();
    if (!record->ParseFromString(row.record)) {
      return FinishWith(call, absl::DataLossError(absl::StrCat(
                                  "alert ", row.id, ": unreadable record")));
    }
    record->set_name(absl::StrCat(kAlertPrefix, row.id));
  }
  if (more && !rows->empty()) {
    response->set_next_page_token(absl::StrCat(kAlertPrefix, rows->back().id));
  }
  return FinishWith(call, absl::OkStatus());
}

}  // namespace deliverd::api
