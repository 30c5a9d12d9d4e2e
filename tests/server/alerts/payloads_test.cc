// Exact request shapes of the channel payload builders.
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/alerts/discord_payload.h"
#include "server/alerts/json.h"
#include "server/alerts/slack_payload.h"
#include "server/alerts/teams_payload.h"
#include "server/alerts/truncate.h"
#include "server/alerts/twilio_payload.h"
#include "server/alerts/webhook_payload.h"
#include "server/alerts/webhook_signature.h"
#include "testing_sample_alert.h"

namespace deliverd::alerts {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(SlackPayloadTest, ExactShape) {
  const HttpRequest request = BuildSlackRequest(
      "https://hooks.slack.com/services/T/B/X", SampleAlert());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://hooks.slack.com/services/T/B/X");
  EXPECT_EQ(request.headers, (Headers{{"Content-Type", "application/json"}}));
  EXPECT_EQ(
      request.body,
      R"j({"text":"[CRITICAL] Hard bounce to bob@example.com\nTenant: acme\nWhat happened: The receiving server rejected the message permanently.\nMessages (1): m-1\nEvidence: 550 5.1.1 &lt;bob@example.com&gt;: user \"unknown\"\nWhat to do: Remove the address from the list; it is suppressed.\nTime: 2023-11-14T22:13:20Z",)j"
      R"j("blocks":[{"type":"header","text":{"type":"plain_text","text":"Hard bounce to bob@example.com"}},)j"
      R"j({"type":"section","text":{"type":"mrkdwn","text":"*Severity:* critical  *Kind:* hard_bounce  *Tenant:* acme\n*What happened:* The receiving server rejected the message permanently.\n*Messages (1):* m-1\n*Evidence:*\n```550 5.1.1 &lt;bob@example.com&gt;: user \"unknown\"```\n*What to do:* Remove the address from the list; it is suppressed.\n*Time:* 2023-11-14T22:13:20Z"}}]})j");
}

TEST(SlackPayloadTest, CallerTextCannotMentionOrBreakOut) {
  Alert alert = SampleAlert();
  alert.what_happened = "<!channel> \"}]} & ```x```";
  const HttpRequest request = BuildSlackRequest("https://h/x", alert);
  EXPECT_EQ(request.body.find("<!channel>"), std::string::npos);
  EXPECT_NE(request.body.find(R"j(&lt;!channel&gt; \"}]} &amp; ```x```)j"),
            std::string::npos);
}

TEST(SlackPayloadTest, HeaderAndSectionAreBounded) {
  Alert alert = SampleAlert();
  alert.title = std::string(400, 'T');
  alert.evidence = std::string(100000, 'e');
  alert.what_happened = std::string(100000, 'w');
  const HttpRequest request = BuildSlackRequest("https://h/x", alert);
  EXPECT_LT(request.body.size(), 8000u);
  EXPECT_NE(request.body.find(std::string(kTruncationMarker)),
            std::string::npos);
}

TEST(DiscordPayloadTest, ExactShape) {
  const HttpRequest request = BuildDiscordRequest(
      "https://discord.com/api/webhooks/1/abc", SampleAlert());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://discord.com/api/webhooks/1/abc");
  EXPECT_EQ(request.headers, (Headers{{"Content-Type", "application/json"}}));
  EXPECT_EQ(
      request.body,
      R"j({"content":"[CRITICAL] Hard bounce to bob@example.com","allowed_mentions":{"parse":[]},)j"
      R"j("embeds":[{"title":"Hard bounce to bob@example.com","description":"The receiving server rejected the message permanently.",)j"
      R"j("color":13840175,"fields":[{"name":"Tenant","value":"acme"},{"name":"Messages (1)","value":"m-1"},)j"
      R"j({"name":"Evidence","value":"550 5.1.1 <bob@example.com>: user \"unknown\""},)j"
      R"j({"name":"What to do","value":"Remove the address from the list; it is suppressed."}],)j"
      R"j("timestamp":"2023-11-14T22:13:20Z"}]})j");
}

TEST(DiscordPayloadTest, WarningColorAndBoundedContent) {
  Alert alert = SampleAlert();
  alert.severity = AlertSeverity::kWarning;
  alert.title = std::string(5000, 't');
  const HttpRequest request = BuildDiscordRequest("https://d/x", alert);
  EXPECT_NE(request.body.find(R"j("color":16361509)j"), std::string::npos);
  const size_t start = request.body.find(R"j("content":")j") + 11;
  const size_t end = request.body.find('"', start);
  EXPECT_LE(end - start, kDiscordMaxContentBytes);
}

TEST(TeamsPayloadTest, ExactAdaptiveCardEnvelope) {
  const HttpRequest request =
      BuildTeamsRequest("https://example.webhook.office.com/x", SampleAlert());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.headers, (Headers{{"Content-Type", "application/json"}}));
  EXPECT_EQ(
      request.body,
      R"j({"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",)j"
      R"j("content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4",)j"
      R"j("body":[{"type":"TextBlock","text":"Hard bounce to bob@example.com","size":"Large","weight":"Bolder","color":"Attention","wrap":true},)j"
      R"j({"type":"FactSet","facts":[{"title":"Severity","value":"critical"},{"title":"Kind","value":"hard_bounce"},)j"
      R"j({"title":"Tenant","value":"acme"},{"title":"Time","value":"2023-11-14T22:13:20Z"}]},)j"
      R"j({"type":"TextBlock","text":"The receiving server rejected the message permanently.","wrap":true},)j"
      R"j({"type":"TextBlock","text":"Messages (1): m-1","wrap":true},)j"
      R"j({"type":"TextBlock","text":"550 5.1.1 <bob@example.com>: user \"unknown\"","wrap":true,"fontType":"Monospace"},)j"
      R"j({"type":"TextBlock","text":"What to do: Remove the address from the list; it is suppressed.","wrap":true}]}}]})j");
}

TEST(WebhookPayloadTest, ExactBodyAndSignedHeaders) {
  const WebhookChannel channel{"https://ops.example/hook", "s3cret"};
  const absl::Time now = absl::FromUnixSeconds(1700000005);
  const HttpRequest request =
      BuildWebhookRequest(channel, "d-1", SampleAlert(), now);
  const std::string expected_body =
      std::string(
          R"j({"version":1,"id":"d-1","kind":"hard_bounce","severity":"critical","tenant":"acme",)j"
          R"j("title":"Hard bounce to bob@example.com","what_happened":"The receiving server rejected the message permanently.",)j"
          R"j("message_ids":["m-1"],"count":1,"evidence":"550 5.1.1 <bob@example.com>: user \"unknown\"",)j"
          R"j("what_to_do":"Remove the address from the list; it is suppressed.","time":"2023-11-14T22:13:20Z",)j"
          R"j("text":)j") +
      JsonQuote(kSampleText) + "}";
  EXPECT_EQ(request.body, expected_body);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://ops.example/hook");
  ASSERT_EQ(request.headers.size(), 3u);
  EXPECT_EQ(request.headers[0], (std::pair<std::string, std::string>{
                                    "Content-Type", "application/json"}));
  EXPECT_EQ(request.Header("X-Deliverd-Timestamp"), "1700000005");
  EXPECT_EQ(request.Header("X-Deliverd-Signature"),
            SignWebhook("s3cret", "1700000005", expected_body));
  EXPECT_TRUE(VerifyWebhookSignature("s3cret", "1700000005",
                                     *request.Header("X-Deliverd-Signature"),
                                     request.body, now, absl::Minutes(5))
                  .ok());
}

TEST(WebhookPayloadTest, EmptyPartsKeepTheShape) {
  Alert alert;
  alert.time = absl::FromUnixSeconds(0);
  EXPECT_EQ(
      WebhookBody("d", alert),
      R"j({"version":1,"id":"d","kind":"test","severity":"warning","tenant":"","title":"","what_happened":"",)j"
      R"j("message_ids":[],"count":0,"evidence":"","what_to_do":"","time":"1970-01-01T00:00:00Z",)j"
      R"j("text":"[WARNING] \nTime: 1970-01-01T00:00:00Z"})j");
}

TEST(TwilioPayloadTest, ExactFormRequest) {
  TwilioChannel channel;
  channel.base_url = "http://127.0.0.1:1234/";
  channel.account_sid = "AC123";
  channel.auth_token = "tok";
  channel.from = "+15557654321";
  const absl::StatusOr<HttpRequest> request =
      BuildTwilioRequest(channel, "+15551234567", SampleAlert());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url,
            "http://127.0.0.1:1234/2010-04-01/Accounts/AC123/Messages.json");
  EXPECT_EQ(request->headers,
            (Headers{{"Authorization", "Basic QUMxMjM6dG9r"},
                     {"Content-Type", "application/x-www-form-urlencoded"}}));
  EXPECT_EQ(
      request->body,
      "To=%2B15551234567&From=%2B15557654321&Body=%5BCRITICAL%5D%20Hard%20"
      "bounce%20to%20bob%40example.com%20%28acme%29%0AThe%20receiving%20server"
      "%20rejected%20the%20message%20permanently.%0AMessages%20%281%29%3A%20m-1"
      "%0AWhat%20to%20do%3A%20Remove%20the%20address%20from%20the%20list%3B%20"
      "it%20is%20suppressed.");
}

TEST(TwilioPayloadTest, DefaultBaseUrlBoundedBodyAndValidation) {
  TwilioChannel channel;
  channel.account_sid = "AC1";
  Alert alert = SampleAlert();
  alert.what_happened = std::string(5000, 'w');
  alert.what_to_do = std::string(5000, 'd');
  const absl::StatusOr<HttpRequest> request =
      BuildTwilioRequest(channel, "+1555", alert);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url,
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json");
  EXPECT_LE(TwilioSmsText(alert).size(), kTwilioMaxBodyBytes);
  EXPECT_NE(TwilioSmsText(alert).find(std::string(kTruncationMarker)),
            std::string::npos);

  channel.account_sid = "AC1/../x";
  EXPECT_EQ(BuildTwilioRequest(channel, "+1555", alert).status().code(),
            absl::StatusCode::kInvalidArgument);
  channel.account_sid = "AC1";
  EXPECT_EQ(BuildTwilioRequest(channel, "", alert).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TwilioPayloadTest, FormEncode) {
  EXPECT_EQ(FormEncode("a b&c=d+e~._-\xC3\xA9"), "a%20b%26c%3Dd%2Be~._-%C3%A9");
}

}  // namespace
}  // namespace deliverd::alerts
