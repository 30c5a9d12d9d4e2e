// ClassifyBounce and `deliverctl classify-bounce` through a running deliverd
// and in-process, on bounces written here.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;

class ClassifyBounceTest : public SharedDeliverdTest<ClassifyBounceTest> {};

constexpr char kId[] = "m_01m8bkqck3vg0061h4vf49y71a";

std::string Dsn() {
  return absl::StrCat(
      "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\r\n"
      "To: bounce+", kId, "@sender.example\r\n"
      "Subject: Undelivered Mail Returned to Sender\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
      "  boundary=\"BOUNDARY\"\r\n"
      "\r\n"
      "--BOUNDARY\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "Your message could not be delivered.\r\n"
      "--BOUNDARY\r\n"
      "Content-Type: message/delivery-status\r\n"
      "\r\n"
      "Reporting-MTA: dns; mx.sender.example\r\n"
      "\r\n"
      "Final-Recipient: rfc822; gone@example.org\r\n"
      "Action: failed\r\n"
      "Status: 5.1.1\r\n"
      "Remote-MTA: dns; mx.example.org\r\n"
      "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address\r\n"
      "  rejected: User unknown in virtual mailbox table\r\n"
      "\r\n"
      "Final-Recipient: rfc822; listed@example.net\r\n"
      "Action: failed\r\n"
      "Status: 5.7.1\r\n"
      "Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host\r\n"
      "  [192.0.2.9] blocked using zen.spamhaus.org\r\n"
      "\r\n"
      "--BOUNDARY\r\n"
      "Content-Type: text/rfc822-headers\r\n"
      "\r\n"
      "From: news@sender.example\r\n"
      "Message-ID: <", kId, "@sender.example>\r\n"
      "X-Deliverd-Id: ", kId, "\r\n"
      "Subject: Hello\r\n"
      "--BOUNDARY--\r\n");
}

TEST_F(ClassifyBounceTest, DsnOverGrpc) {
  Client client = server().NewClient();
  v1::ClassifyBounceRequest request;
  request.set_raw_message(Dsn());
  ASSERT_OK_AND_ASSIGN(
      v1::ClassifyBounceResponse r,
      [&]() -> absl::StatusOr<v1::ClassifyBounceResponse> {
        v1::ClassifyBounceResponse response;
        grpc::Status s = client.hygiene().ClassifyBounce(
            client.Context().get(), request, &response);
        if (!s.ok()) return FromGrpc(s);
        return response;
      }());
  EXPECT_TRUE(r.bounce());
  EXPECT_EQ(r.original_message_id(), kId);
  EXPECT_EQ(r.original_rfc822_message_id(),
            absl::StrCat(kId, "@sender.example"));
  ASSERT_EQ(r.recipients_size(), 2);
  EXPECT_EQ(r.recipients(0).recipient(), "gone@example.org");
  EXPECT_EQ(r.recipients(0).reason(), "user_unknown");
  EXPECT_EQ(r.recipients(0).class_(), v1::BOUNCE_CLASS_HARD);
  EXPECT_EQ(r.recipients(0).reply_code(), 550);
  EXPECT_EQ(r.recipients(0).status(), "5.1.1");
  // A blocklist refusal is about the sender, never a hard bounce.
  EXPECT_EQ(r.recipients(1).recipient(), "listed@example.net");
  EXPECT_EQ(r.recipients(1).class_(), v1::BOUNCE_CLASS_SOFT);
  EXPECT_EQ(r.recipients(1).reason(), "blocked");
}

TEST_F(ClassifyBounceTest, EmptyMessageIsInvalidArgument) {
  Client client = server().NewClient();
  v1::ClassifyBounceRequest request;
  v1::ClassifyBounceResponse response;
  grpc::Status s = client.hygiene().ClassifyBounce(client.Context().get(),
                                                   request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("raw_message"));
}

TEST_F(ClassifyBounceTest, DeliverctlJsonLinesThroughTheServerAndLocal) {
  std::string dir = server().dir();
  std::string dsn = dir + "/dsn.eml";
  std::string plain = dir + "/plain.eml";
  std::ofstream(dsn) << Dsn();
  std::ofstream(plain) << "From: a@example.com\r\nTo: b@example.org\r\n"
                          "Subject: lunch\r\n\r\nNoon?\r\n";
  for (bool local : {false, true}) {
    SCOPED_TRACE(local);
    std::vector<std::string> args = {"classify-bounce", dsn, plain, "--json"};
    if (local) args.insert(args.begin(), "--local");
    ProcessResult r = server().Deliverctl(args);
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                           "{\"file\":\"", dsn,
                           "\",\"recipient\":\"gone@example.org\",\"status\":"
                           "\"5.1.1\",\"reason\":\"user_unknown\",\"class\":"
                           "\"hard\",\"action\":\"failed\"")));
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("{\"file\":\"", plain,
                                              "\",\"bounce\":false}")));
  }
  ProcessResult missing =
      server().Deliverctl({"--local", "classify-bounce", dir + "/none.eml"});
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_THAT(missing.err, HasSubstr("none.eml"));
}

}  // namespace
}  // namespace deliverd::e2e
