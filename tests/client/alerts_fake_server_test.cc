// The `alerts` commands against an in-process fake of deliverd.v1.Alerts:
// what goes over the wire and what the user sees, exit statuses included.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "deliverd/v1/alerts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class FakeAlerts final : public v1::Alerts::Service {
 public:
  grpc::Status CreateAlertChannel(grpc::ServerContext*,
                                  const v1::CreateAlertChannelRequest* request,
                                  v1::AlertChannel* response) override {
    std::lock_guard<std::mutex> lock(mu);
    last_create_channel = *request;
    *response = request->channel();
    response->clear_secret();
    response->clear_sms_auth_token();
    if (!response->url().empty()) response->set_url("https://example.com/…");
    return grpc::Status::OK;
  }

  grpc::Status ListAlertChannels(
      grpc::ServerContext*, const v1::ListAlertChannelsRequest*,
      v1::ListAlertChannelsResponse* response) override {
    v1::AlertChannel* slack = response->add_channels();
    slack->set_name("alertChannels/ops");
    slack->set_type(v1::ALERT_CHANNEL_TYPE_SLACK);
    slack->set_url("https://hooks.slack.com/…");
    slack->mutable_create_time()->set_seconds(1714564800);
    v1::AlertChannel* email = response->add_channels();
    email->set_name("alertChannels/oncall");
    email->set_type(v1::ALERT_CHANNEL_TYPE_EMAIL);
    email->add_email_to("a@example.com");
    email->add_email_to("b@example.com");
    return grpc::Status::OK;
  }

  grpc::Status DeleteAlertChannel(grpc::ServerContext*,
                                  const v1::DeleteAlertChannelRequest* request,
                                  v1::DeleteAlertChannelResponse*) override {
    std::lock_guard<std::mutex> lock(mu);
    last_delete_channel = request->name();
    if (request->name() == "alertChannels/used") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "alert channel used is used by rule r_1");
    }
    return grpc::Status::OK;
  }

  grpc::Status CreateAlertRule(grpc::ServerContext*,
                               const v1::CreateAlertRuleRequest* request,
                               v1::AlertRule* response) override {
    std::lock_guard<std::mutex> lock(mu);
    last_create_rule = *request;
    *response = request->rule();
    response->set_name("alertRules/r_01RULE");
    return grpc::Status::OK;
  }

  grpc::Status ListAlertRules(grpc::ServerContext*,
                              const v1::ListAlertRulesRequest*,
                              v1::ListAlertRulesResponse* response) override {
    v1::AlertRule* rate = response->add_rules();
    rate->set_name("alertRules/r_1");
    rate->set_kind(v1::ALERT_KIND_COMPLAINT_RATE);
    rate->add_channels("alertChannels/ops");
    rate->add_channels("alertChannels/oncall");
    rate->set_severity(v1::ALERT_SEVERITY_WARNING);
    rate->set_threshold(0.003);
    rate->set_window_seconds(3600);
    rate->set_min_volume(100);
    rate->set_cooldown_seconds(900);
    v1::AlertRule* failed = response->add_rules();
    failed->set_name("alertRules/r_2");
    failed->set_kind(v1::ALERT_KIND_MESSAGE_FAILED);
    failed->add_channels("alertChannels/ops");
    failed->set_severity(v1::ALERT_SEVERITY_CRITICAL);
    failed->set_cooldown_seconds(90);
    return grpc::Status::OK;
  }

  grpc::Status DeleteAlertRule(grpc::ServerContext*,
                               const v1::DeleteAlertRuleRequest* request,
                               v1::DeleteAlertRuleResponse*) override {
    std::lock_guard<std::mutex> lock(mu);
    last_delete_rule = request->name();
    return grpc::Status::OK;
  }

  grpc::Status SendTestAlert(grpc::ServerContext*,
                             const v1::SendTestAlertRequest* request,
                             v1::AlertRecord* response) override {
    std::lock_guard<std::mutex> lock(mu);
    last_test_channel = request->channel();
    response->set_name("alerts/7");
    response->set_kind(v1::ALERT_KIND_TEST);
    response->set_channel(request->channel());
    response->set_channel_type(v1::ALERT_CHANNEL_TYPE_SLACK);
    response->set_destination("https://hooks.slack.com/…");
    response->set_attempts(request->channel() == "alertChannels/ok" ? 1 : 2);
    if (request->channel() == "alertChannels/ok") {
      response->set_status_code(200);
      response->set_accepted(true);
    } else {
      response->set_status_code(404);
      response->set_error("HTTP 404: no_service");
    }
    return grpc::Status::OK;
  }

  grpc::Status ListAlerts(grpc::ServerContext*,
                          const v1::ListAlertsRequest* request,
                          v1::ListAlertsResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    last_list = *request;
    v1::AlertRecord* a = response->add_alerts();
    a->set_name("alerts/9");
    a->set_kind(v1::ALERT_KIND_HARD_BOUNCE);
    a->set_channel("alertChannels/ops");
    a->set_title("Hard bounce: b@example.com\nsecond line");
    a->set_status_code(200);
    a->set_accepted(true);
    a->mutable_create_time()->set_seconds(1714564800);
    v1::AlertRecord* b = response->add_alerts();
    b->set_name("alerts/8");
    b->set_kind(v1::ALERT_KIND_TEST);
    b->set_channel("alertChannels/hook");
    b->set_title("Test alert");
    response->set_next_page_token("alerts/8");
    return grpc::Status::OK;
  }

  std::mutex mu;
  v1::CreateAlertChannelRequest last_create_channel;
  v1::CreateAlertRuleRequest last_create_rule;
  v1::ListAlertsRequest last_list;
  std::string last_delete_channel;
  std::string last_delete_rule;
  std::string last_test_channel;
};

class AlertsCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&alerts_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(1));
  }

  struct Result {
    int exit_code;
    std::string out;
    std::string err;
  };

  Result RunCli(std::vector<std::string> args, const std::string& input = "") {
    args.push_back(absl::StrCat("--server=127.0.0.1:", port_));
    args.push_back("--api-key=k1");
    Environment env;
    env.get_env = [this](absl::string_view name) -> std::optional<std::string> {
      auto it = env_.find(std::string(name));
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    env.read_file = [](const std::string& path) -> absl::StatusOr<std::string> {
      return absl::NotFoundError(path);
    };
    std::istringstream in(input);
    std::ostringstream out, err;
    const int code = RunDeliverctl(args, env, in, out, err);
    return {code, out.str(), err.str()};
  }

  FakeAlerts alerts_;
  std::map<std::string, std::string> env_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(AlertsCommandsTest, Channels) {
  const Result r = RunCli({"alerts", "channels"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "NAME    TYPE   DESTINATION                   CREATED\n"
            "ops     slack  https://hooks.slack.com/…     "
            "2024-05-01T12:00:00Z\n"
            "oncall  email  a@example.com, b@example.com  -\n");
  const Result json = RunCli({"--json", "alerts", "channels"});
  EXPECT_THAT(json.out, StartsWith("{\"channels\":[{\"name\":"
                                   "\"alertChannels/ops\",\"type\":"
                                   "\"ALERT_CHANNEL_TYPE_SLACK\""));
}

TEST_F(AlertsCommandsTest, AddWebhookChannelWithTheSecretOnStdin) {
  const Result r =
      RunCli({"alerts", "add-channel", "hook", "--type", "webhook", "--url",
              "https://example.com/hook/abc", "--secret-file", "-"},
             "0123456789abcdef0123\n");
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "created alert channel hook (webhook https://example.com/…)\n");
  const v1::AlertChannel& sent = alerts_.last_create_channel.channel();
  EXPECT_EQ(sent.name(), "alertChannels/hook");
  EXPECT_EQ(sent.type(), v1::ALERT_CHANNEL_TYPE_WEBHOOK);
  EXPECT_EQ(sent.url(), "https://example.com/hook/abc");
  EXPECT_EQ(sent.secret(), "0123456789abcdef0123");
}

TEST_F(AlertsCommandsTest, AddSmsChannelWithTheTokenFromTheEnvironment) {
  env_["DELIVERCTL_SMS_AUTH_TOKEN"] = "tok";
  const Result r = RunCli({"alerts", "add-channel", "pager", "--type", "sms",
                           "--sms-account-sid", "AC1", "--sms-from",
                           "+15550000000", "--sms-to", "+15551111111"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(alerts_.last_create_channel.channel().sms_auth_token(), "tok");
}

TEST_F(AlertsCommandsTest, AddChannelUsageErrorSendsNothing) {
  const Result r = RunCli({"alerts", "add-channel", "hook", "--type", "webhook",
                           "--url", "https://example.com/hook"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(
      r.err,
      "deliverctl: alerts add-channel: --type webhook needs --secret-file "
      "FILE (or $DELIVERCTL_ALERT_SECRET)\n");
  EXPECT_FALSE(alerts_.last_create_channel.has_channel());
}

TEST_F(AlertsCommandsTest, RmChannel) {
  const Result r = RunCli({"alerts", "rm-channel", "ops"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "deleted alert channel ops\n");
  EXPECT_EQ(alerts_.last_delete_channel, "alertChannels/ops");
  const Result used = RunCli({"alerts", "rm-channel", "used"});
  EXPECT_EQ(used.exit_code, kExitFailure);
  EXPECT_EQ(used.err,
            "deliverctl: alerts rm-channel: FAILED_PRECONDITION: alert channel "
            "used is used by rule r_1\n");
}

TEST_F(AlertsCommandsTest, Rules) {
  const Result r = RunCli({"alerts", "rules"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("RULE  KIND            SEVERITY  CHANNELS    "
                                "PARAMETERS  "));
  EXPECT_THAT(r.out,
              HasSubstr("\nr_1   complaint-rate  warning   ops,oncall  "
                        "threshold=0.3% window=1h min-volume=100  15m\n"));
  EXPECT_THAT(r.out, HasSubstr("\nr_2   message-failed  critical  ops         "
                               "-  "));
  EXPECT_THAT(r.out, HasSubstr("  1m30s\n"));
}

TEST_F(AlertsCommandsTest, AddRulePrintsItsId) {
  const Result r =
      RunCli({"alerts", "add-rule", "bounce-rate", "--channel", "ops",
              "--threshold", "2%", "--window", "2h", "--cooldown", "1d"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "r_01RULE\n");
  const v1::AlertRule& sent = alerts_.last_create_rule.rule();
  EXPECT_EQ(sent.kind(), v1::ALERT_KIND_BOUNCE_RATE);
  EXPECT_THAT(sent.channels(), ElementsAre("alertChannels/ops"));
  EXPECT_DOUBLE_EQ(sent.threshold(), 0.02);
  EXPECT_EQ(sent.window_seconds(), 7200);
  EXPECT_EQ(sent.cooldown_seconds(), 86400);
  const Result json =
      RunCli({"alerts", "add-rule", "complaint", "--channel", "ops", "--json"});
  EXPECT_THAT(json.out, StartsWith("{\"name\":\"alertRules/r_01RULE\""));
}

TEST_F(AlertsCommandsTest, RmRule) {
  const Result r = RunCli({"alerts", "rm-rule", "r_1"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "deleted alert rule r_1\n");
  EXPECT_EQ(alerts_.last_delete_rule, "alertRules/r_1");
}

TEST_F(AlertsCommandsTest, TestAccepted) {
  const Result r = RunCli({"alerts", "test", "ok"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(alerts_.last_test_channel, "alertChannels/ok");
  EXPECT_THAT(r.out, HasSubstr("accepted:     yes\n"));
  EXPECT_THAT(r.out, HasSubstr("status:       200\n"));
  EXPECT_THAT(r.out, HasSubstr("channel:      ok (slack)\n"));
  EXPECT_THAT(r.out, HasSubstr("destination:  https://hooks.slack.com/…\n"));
  EXPECT_THAT(r.out, HasSubstr("error:        -\n"));
  EXPECT_THAT(r.err, IsEmpty());
}

TEST_F(AlertsCommandsTest, TestNotAcceptedExitsOne) {
  const Result r = RunCli({"alerts", "test", "broken"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.out, HasSubstr("accepted:     no\n"));
  EXPECT_THAT(r.out, HasSubstr("attempts:     2\n"));
  EXPECT_EQ(r.err,
            "deliverctl: alerts test: broken did not accept the test alert: "
            "HTTP 404: no_service\n");
  const Result json = RunCli({"alerts", "test", "broken", "--json"});
  EXPECT_EQ(json.exit_code, kExitFailure);
  EXPECT_THAT(json.out, StartsWith("{\"name\":\"alerts/7\""));
}

TEST_F(AlertsCommandsTest, List) {
  const Result r = RunCli({"alerts", "list", "--channel", "ops", "--kind",
                           "hard-bounce", "--limit", "2"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(alerts_.last_list.channel(), "alertChannels/ops");
  EXPECT_EQ(alerts_.last_list.kind(), v1::ALERT_KIND_HARD_BOUNCE);
  EXPECT_EQ(alerts_.last_list.page_size(), 2);
  EXPECT_EQ(r.out,
            "TIME                  KIND         CHANNEL  ACCEPTED  STATUS  "
            "TITLE\n"
            "2024-05-01T12:00:00Z  hard-bounce  ops      yes       200     "
            "Hard bounce: b@example.com second line\n"
            "-                     test         hook     no        -       "
            "Test alert\n");
  EXPECT_EQ(r.err, "more: add --page-token alerts/8 for the next page\n");
  const Result json = RunCli({"alerts", "list", "--json"});
  EXPECT_THAT(json.out, StartsWith("{\"alerts\":[{\"name\":\"alerts/9\""));
  EXPECT_THAT(json.out, HasSubstr("\"nextPageToken\":\"alerts/8\""));
}

}  // namespace
}  // namespace deliverd::client
