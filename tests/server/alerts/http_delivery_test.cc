// CurlHttpClient and AlertSender against a local HTTP receiver: the exact
// requests each channel posts, and the failure paths (receiver down, slow,
// 500, 429 with Retry-After, 400).
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/alerts/alert_sender.h"
#include "server/alerts/discord_payload.h"
#include "server/alerts/http_client.h"
#include "server/alerts/slack_payload.h"
#include "server/alerts/teams_payload.h"
#include "server/alerts/twilio_payload.h"
#include "server/alerts/webhook_payload.h"
#include "server/alerts/webhook_signature.h"
#include "testing/http_receiver.h"
#include "testing_sample_alert.h"

namespace deliverd::alerts {
namespace {

using ::deliverd::testing::HttpReceiver;
using ::deliverd::testing::HttpReply;
using ::testing::HasSubstr;
using Received = ::deliverd::testing::HttpRequest;

class HttpDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver =
        HttpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = std::move(*receiver);
    policy_.max_attempts = 3;
    policy_.initial_delay = absl::Milliseconds(20);
    policy_.max_delay = absl::Milliseconds(100);
    policy_.jitter = 0;
  }

  // Delivers one request with a fresh curl client and the real clock.
  DeliveryRecord Deliver(const std::string& channel, const HttpRequest& request,
                         HttpClientOptions options = Options()) {
    CurlHttpClient client(options);
    AlertSender sender(&client, RealClock(), policy_);
    return sender.Deliver(channel, request);
  }

  static HttpClientOptions Options() {
    HttpClientOptions options;
    options.connect_timeout = absl::Seconds(1);
    options.timeout = absl::Seconds(2);
    return options;
  }

  Received OnlyRequest() {
    absl::StatusOr<std::vector<Received>> requests =
        receiver_->WaitForRequests(1, absl::Seconds(2));
    EXPECT_TRUE(requests.ok()) << requests.status();
    if (!requests.ok() || requests->empty()) return Received();
    EXPECT_EQ(requests->size(), 1u);
    return requests->front();
  }

  std::unique_ptr<HttpReceiver> receiver_;
  RetryPolicy policy_;
};

TEST_F(HttpDeliveryTest, SlackRequestArrivesExactly) {
  const HttpRequest request =
      BuildSlackRequest(receiver_->url("/services/T0/B0/xyz"), SampleAlert());
  const DeliveryRecord record = Deliver("slack", request);
  EXPECT_TRUE(record.accepted) << record.error;
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 200);
  EXPECT_EQ(record.destination, receiver_->url(""));
  const Received got = OnlyRequest();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/services/T0/B0/xyz");
  EXPECT_EQ(got.Header("Content-Type"), "application/json");
  EXPECT_EQ(got.Header("Content-Length"), std::to_string(request.body.size()));
  EXPECT_EQ(got.Header("Expect"), "");
  EXPECT_EQ(got.body, request.body);
}

TEST_F(HttpDeliveryTest, DiscordAndTeamsRequestsArriveExactly) {
  const HttpRequest discord =
      BuildDiscordRequest(receiver_->url("/api/webhooks/1/tok"), SampleAlert());
  const HttpRequest teams =
      BuildTeamsRequest(receiver_->url("/webhookb2/abc"), SampleAlert());
  EXPECT_TRUE(Deliver("discord", discord).accepted);
  EXPECT_TRUE(Deliver("teams", teams).accepted);
  absl::StatusOr<std::vector<Received>> got =
      receiver_->WaitForRequests(2, absl::Seconds(2));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].target, "/api/webhooks/1/tok");
  EXPECT_EQ((*got)[0].Header("Content-Type"), "application/json");
  EXPECT_EQ((*got)[0].body, discord.body);
  EXPECT_EQ((*got)[1].target, "/webhookb2/abc");
  EXPECT_EQ((*got)[1].Header("Content-Type"), "application/json");
  EXPECT_EQ((*got)[1].body, teams.body);
}

TEST_F(HttpDeliveryTest, WebhookIsSignedAndVerifiableByTheReceiver) {
  const WebhookChannel channel{receiver_->url("/hooks/deliverd"), "s3cret"};
  CurlHttpClient client(Options());
  AlertSender sender(&client, RealClock(), policy_);
  const DeliveryRecord record = sender.Deliver("webhook", [&](absl::Time now) {
    return BuildWebhookRequest(channel, "d-1", SampleAlert(), now);
  });
  EXPECT_TRUE(record.accepted) << record.error;
  const Received got = OnlyRequest();
  EXPECT_EQ(got.target, "/hooks/deliverd");
  EXPECT_EQ(got.Header("Content-Type"), "application/json");
  EXPECT_EQ(got.body, WebhookBody("d-1", SampleAlert()));
  const std::string timestamp = got.Header("X-Deliverd-Timestamp");
  EXPECT_EQ(got.Header("X-Deliverd-Signature"),
            SignWebhook("s3cret", timestamp, got.body));
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", timestamp,
                                     got.Header("X-Deliverd-Signature"),
                                     got.body, absl::Now(), absl::Minutes(5))
                  .ok());
  EXPECT_FALSE(VerifyWebhookSignature(
                   "s3cret", timestamp, got.Header("X-Deliverd-Signature"),
                   got.body + " ", absl::Now(), absl::Minutes(5))
                   .ok());
}

TEST_F(HttpDeliveryTest, TwilioRequestArrivesExactly) {
  TwilioChannel channel;
  channel.base_url = receiver_->url("/twilio/");
  channel.account_sid = "AC123";
  channel.auth_token = "tok";
  channel.from = "+15557654321";
  absl::StatusOr<HttpRequest> request =
      BuildTwilioRequest(channel, "+15551234567", SampleAlert());
  ASSERT_TRUE(request.ok()) << request.status();
  HttpReply created;
  created.status = 201;
  created.body = R"({"sid":"SM1","status":"queued"})";
  receiver_->Script({created});
  const DeliveryRecord record = Deliver("sms", *request);
  EXPECT_TRUE(record.accepted) << record.error;
  EXPECT_EQ(record.status_code, 201);
  const Received got = OnlyRequest();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/twilio/2010-04-01/Accounts/AC123/Messages.json");
  EXPECT_EQ(got.Header("Authorization"), "Basic QUMxMjM6dG9r");
  EXPECT_EQ(got.Header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(got.body, request->body);
}

TEST_F(HttpDeliveryTest, ReceiverDownIsUnavailableRetriedNotAccepted) {
  const std::string url = receiver_->url("/hook");
  receiver_->Stop();
  const DeliveryRecord record =
      Deliver("slack", BuildSlackRequest(url, SampleAlert()));
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 3);
  EXPECT_EQ(record.status_code, 0);
  EXPECT_THAT(record.error, HasSubstr("UNAVAILABLE"));
  // The error names the host, not the (secret) path.
  EXPECT_THAT(record.error, ::testing::Not(HasSubstr("/hook")));

  CurlHttpClient client(Options());
  absl::StatusOr<HttpResponse> response =
      client.Send(BuildSlackRequest(url, SampleAlert()));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(HttpDeliveryTest, SlowReceiverTimesOut) {
  HttpReply slow;
  slow.delay = absl::Seconds(5);
  receiver_->Script({slow, slow});
  HttpClientOptions options = Options();
  options.timeout = absl::Milliseconds(300);
  policy_.max_attempts = 2;
  const absl::Time start = absl::Now();
  const DeliveryRecord record = Deliver(
      "slack", BuildSlackRequest(receiver_->url("/x"), SampleAlert()), options);
  const absl::Duration took = absl::Now() - start;
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 2);
  EXPECT_THAT(record.error, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(record.error, HasSubstr("imeout"));
  EXPECT_GE(took, absl::Milliseconds(600));
  // Without the timeout the first answer alone takes 5 s; the margin is for
  // a loaded machine (tests run beside each other).
  EXPECT_LT(took, absl::Milliseconds(4500));
}

TEST_F(HttpDeliveryTest, ServerErrorThenSuccessIsAcceptedOnSecondAttempt) {
  HttpReply error;
  error.status = 500;
  error.body = "internal error";
  receiver_->Script({error});
  const DeliveryRecord record = Deliver(
      "discord", BuildDiscordRequest(receiver_->url("/d"), SampleAlert()));
  EXPECT_TRUE(record.accepted) << record.error;
  EXPECT_EQ(record.attempts, 2);
  EXPECT_EQ(record.status_code, 200);
  absl::StatusOr<std::vector<Received>> got =
      receiver_->WaitForRequests(2, absl::Seconds(2));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[0].body, (*got)[1].body);
}

TEST_F(HttpDeliveryTest, TooManyRequestsWaitsForRetryAfter) {
  HttpReply throttled;
  throttled.status = 429;
  throttled.headers = {{"Retry-After", "1"}};
  receiver_->Script({throttled});
  const absl::Time start = absl::Now();
  const DeliveryRecord record =
      Deliver("slack", BuildSlackRequest(receiver_->url("/s"), SampleAlert()));
  EXPECT_TRUE(record.accepted) << record.error;
  EXPECT_EQ(record.attempts, 2);
  EXPECT_GE(record.last_attempt - record.first_attempt, absl::Seconds(1));
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
  // Well under max_retry_after (5 min): the header's 1 s was used, with room
  // for a loaded machine.
  EXPECT_LT(absl::Now() - start, absl::Seconds(6));
}

TEST_F(HttpDeliveryTest, BadRequestIsNotRetried) {
  HttpReply bad;
  bad.status = 400;
  bad.body = "invalid_payload";
  receiver_->Script({bad});
  const DeliveryRecord record =
      Deliver("slack", BuildSlackRequest(receiver_->url("/s"), SampleAlert()));
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 400);
  EXPECT_THAT(record.error, HasSubstr("invalid_payload"));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(receiver_->Requests().size(), 1u);
}

TEST_F(HttpDeliveryTest, RedirectsAreNotFollowed) {
  HttpReply redirect;
  redirect.status = 302;
  redirect.headers = {{"Location", receiver_->url("/elsewhere")}};
  receiver_->Script({redirect});
  const DeliveryRecord record =
      Deliver("slack", BuildSlackRequest(receiver_->url("/s"), SampleAlert()));
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.status_code, 302);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(receiver_->Requests().size(), 1u);
}

TEST_F(HttpDeliveryTest, ResponseHeadersAndBodyAreCaptured) {
  HttpReply reply;
  reply.status = 503;
  reply.headers = {{"Retry-After", "120"}, {"X-Other", "v"}};
  reply.body = std::string(100000, 'b');
  receiver_->Script({reply});
  HttpClientOptions options = Options();
  options.max_response_body = 10;
  CurlHttpClient client(options);
  HttpRequest request;
  request.url = receiver_->url("/h");
  request.body = "x";
  absl::StatusOr<HttpResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 503);
  EXPECT_EQ(response->Header("Retry-After"), "120");
  EXPECT_EQ(response->Header("x-other"), "v");
  EXPECT_EQ(response->body, std::string(10, 'b'));
}

TEST_F(HttpDeliveryTest, HeaderInjectionIsRefused) {
  CurlHttpClient client(Options());
  HttpRequest request;
  request.url = receiver_->url("/h");
  request.headers = {{"X-Evil", "a\r\nX-Injected: 1"}};
  EXPECT_EQ(client.Send(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(receiver_->Requests().empty());
}

TEST(RedactUrlTest, KeepsSchemeAndHostOnly) {
  EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T/B/X"),
            "https://hooks.slack.com");
  EXPECT_EQ(RedactUrl("https://user:pw@host:8443/p?q#f"), "https://host:8443");
  EXPECT_EQ(RedactUrl("http://h?x"), "http://h");
  EXPECT_EQ(RedactUrl("no-scheme"), "no-scheme");
}

}  // namespace
}  // namespace deliverd::alerts
