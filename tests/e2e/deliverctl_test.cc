// deliverctl against a real deliverd: output, exit statuses, flags and the
// key from the environment.
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class DeliverctlTest : public SharedDeliverdTest<DeliverctlTest> {};

// Parses one line of --json output as a JSON object.
absl::StatusOr<google::protobuf::Struct> ParseObject(const std::string& line) {
  google::protobuf::Struct object;
  auto status = google::protobuf::util::JsonStringToMessage(line, &object);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        std::string("not a JSON object: ") + std::string(status.message()) +
        ": " + line);
  }
  return object;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::string StringField(const google::protobuf::Struct& object,
                        const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? "<missing>" : it->second.string_value();
}

std::vector<std::string> SendArgs(const std::string& subject) {
  return {"send",      "--from", "ctl@example.com", "--to",  "rcpt@example.org",
          "--subject", subject,  "--text",          "Body from deliverctl"};
}

TEST_F(DeliverctlTest, SendStatusLogAndJson) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  CtlOptions ctl;
  ctl.api_key_env = client.api_key();

  ProcessResult sent = server().Deliverctl(SendArgs("From the CLI"), ctl);
  ASSERT_EQ(sent.exit_code, 0) << sent;
  EXPECT_THAT(sent.out, MatchesRegex("m_[0-9a-z]{26}\n")) << sent;
  EXPECT_THAT(sent.err, IsEmpty());
  std::string id(absl::StripTrailingAsciiWhitespace(sent.out));
  // The message belongs to the tenant whose key was in DELIVERD_API_KEY.
  ASSERT_OK_AND_ASSIGN(v1::Message m,
                       client.WaitForStatus(id, v1::MESSAGE_STATUS_SENT));
  EXPECT_EQ(m.subject(), "From the CLI");
  EXPECT_EQ(server().NewClient().GetMessage(id).status().code(),
            absl::StatusCode::kNotFound);

  ProcessResult status = server().Deliverctl({"status", id}, ctl);
  ASSERT_EQ(status.exit_code, 0) << status;
  EXPECT_THAT(status.out, ContainsRegex("status: +sent")) << status;
  EXPECT_THAT(status.out, HasSubstr(id));

  ProcessResult log = server().Deliverctl({"log"}, ctl);
  ASSERT_EQ(log.exit_code, 0) << log;
  EXPECT_THAT(log.out, HasSubstr(id));
  EXPECT_THAT(log.out, HasSubstr("From the CLI"));

  ProcessResult status_json = server().Deliverctl({"--json", "status", id}, ctl);
  ASSERT_EQ(status_json.exit_code, 0) << status_json;
  ASSERT_THAT(Lines(status_json.out), SizeIs(1)) << status_json;
  ASSERT_OK_AND_ASSIGN(google::protobuf::Struct object,
                       ParseObject(Lines(status_json.out)[0]));
  EXPECT_EQ(StringField(object, "id"), id);
  EXPECT_EQ(StringField(object, "status"), "MESSAGE_STATUS_SENT");

  ProcessResult send_json =
      server().Deliverctl({"--json", "send", "--from", "ctl@example.com", "--to",
                           "j@example.org", "--subject", "Json", "--text", "j"},
                          ctl);
  ASSERT_EQ(send_json.exit_code, 0) << send_json;
  ASSERT_THAT(Lines(send_json.out), SizeIs(1)) << send_json;
  ASSERT_OK_AND_ASSIGN(object, ParseObject(Lines(send_json.out)[0]));
  ASSERT_TRUE(object.fields().count("message")) << send_json;
  EXPECT_THAT(object.fields().at("message").struct_value().fields().at("id")
                  .string_value(),
              StartsWith("m_"));

  ProcessResult log_json = server().Deliverctl({"log", "--json"}, ctl);
  ASSERT_EQ(log_json.exit_code, 0) << log_json;
  ASSERT_THAT(Lines(log_json.out), Not(IsEmpty())) << log_json;
  for (const std::string& line : Lines(log_json.out)) {
    ASSERT_OK_AND_ASSIGN(object, ParseObject(line));
    EXPECT_TRUE(object.fields().count("messages")) << line;
  }
  EXPECT_THAT(log_json.out, HasSubstr(id));
}

TEST_F(DeliverctlTest, GlobalFlagsWorkAfterTheSubcommand) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message m,
      client.Send(MakeSend("a@example.com", "b@example.org", "Flags", "f")));
  ASSERT_OK(client.WaitForStatus(m.id(), v1::MESSAGE_STATUS_SENT));
  CtlOptions bare;
  bare.api_key_env = "";
  bare.server_env = false;

  ProcessResult r = server().Deliverctl(
      {"status", m.id(), "--json", "--server", server().address(), "--api-key",
       client.api_key()},
      bare);
  ASSERT_EQ(r.exit_code, 0) << r;
  ASSERT_THAT(Lines(r.out), SizeIs(1)) << r;
  ASSERT_OK_AND_ASSIGN(google::protobuf::Struct object,
                       ParseObject(Lines(r.out)[0]));
  EXPECT_EQ(StringField(object, "id"), m.id());

  r = server().Deliverctl({"log", "--server=" + server().address(),
                           "--api-key=" + client.api_key(), "--limit", "5"},
                          bare);
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(m.id()));
}

TEST_F(DeliverctlTest, FailingCallsExitOneWithAOneLineError) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  CtlOptions ctl;
  ctl.api_key_env = client.api_key();

  ProcessResult missing =
      server().Deliverctl({"status", "m_00000000000000000000000000"}, ctl);
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_THAT(missing.out, IsEmpty());
  EXPECT_THAT(missing.err, MatchesRegex("deliverctl: [^\n]*NOT_FOUND[^\n]*\n"))
      << missing;

  std::vector<std::string> bad_address = SendArgs("Bad");
  bad_address[4] = "not an address";
  ProcessResult invalid = server().Deliverctl(bad_address, ctl);
  EXPECT_EQ(invalid.exit_code, 1) << invalid;
  EXPECT_THAT(invalid.out, IsEmpty());
  EXPECT_THAT(invalid.err,
              MatchesRegex("deliverctl: [^\n]*content\\.to\\[0\\]\\.address[^\n]*\n"))
      << invalid;
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse list,
                       client.ListMessages(v1::ListMessagesRequest()));
  EXPECT_THAT(list.messages(), IsEmpty());

  // Nobody listening: also a failed call.
  CtlOptions nowhere = ctl;
  nowhere.env["DELIVERD_SERVER"] = "127.0.0.1:1";
  ProcessResult down =
      server().Deliverctl({"--timeout", "5", "log"}, nowhere);
  EXPECT_EQ(down.exit_code, 1) << down;
  EXPECT_THAT(down.err, MatchesRegex("deliverctl: [^\n]*\n")) << down;
}

TEST_F(DeliverctlTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> usage_errors = {
      {"bogus"},
      {"send", "--no-such-flag", "x"},
      {"status"},
      {"status", "a", "b"},
      {"log", "--limit", "many"},
      {"--no-such-global", "log"},
  };
  for (const std::vector<std::string>& args : usage_errors) {
    SCOPED_TRACE(testing::PrintToString(args));
    ProcessResult r = server().Deliverctl(args);
    EXPECT_EQ(r.exit_code, 2) << r;
    EXPECT_THAT(r.err, StartsWith("deliverctl: ")) << r;
    EXPECT_THAT(r.out, IsEmpty()) << r;
  }
  ProcessResult help = server().Deliverctl({"help"});
  EXPECT_EQ(help.exit_code, 0) << help;
  EXPECT_THAT(help.out, HasSubstr("send"));
}

TEST_F(DeliverctlTest, TheKeyComesFromTheEnvironment) {
  ASSERT_OK_AND_ASSIGN(Client a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Client b, NewTenant());
  CtlOptions as_b;
  as_b.api_key_env = b.api_key();
  ProcessResult sent = server().Deliverctl(SendArgs("Tenant B via env"), as_b);
  ASSERT_EQ(sent.exit_code, 0) << sent;
  std::string id(absl::StripTrailingAsciiWhitespace(sent.out));
  EXPECT_OK(b.GetMessage(id));
  EXPECT_EQ(a.GetMessage(id).status().code(), absl::StatusCode::kNotFound);

  // A's key in the environment: B's message is not found.
  CtlOptions as_a;
  as_a.api_key_env = a.api_key();
  ProcessResult other = server().Deliverctl({"status", id}, as_a);
  EXPECT_EQ(other.exit_code, 1) << other;

  // No key anywhere (the working folder has no ./data/api-key).
  CtlOptions no_key;
  no_key.api_key_env = "";
  ProcessResult none = server().Deliverctl({"log"}, no_key);
  EXPECT_EQ(none.exit_code, 1) << none;
  EXPECT_THAT(none.err, MatchesRegex("deliverctl: [^\n]*\n")) << none;
  EXPECT_THAT(none.err, HasSubstr("UNAUTHENTICATED")) << none;

  // An unknown key.
  CtlOptions unknown;
  unknown.api_key_env = "dk_" + std::string(52, 'z');
  ProcessResult refused = server().Deliverctl({"log"}, unknown);
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_THAT(refused.err, HasSubstr("UNAUTHENTICATED")) << refused;
}

TEST_F(DeliverctlTest, WatchPrintsTheHistory) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message m,
      client.Send(MakeSend("a@example.com", "b@example.org", "Watched", "w")));
  ASSERT_OK(client.WaitForStatus(m.id(), v1::MESSAGE_STATUS_SENT));
  CtlOptions ctl;
  ctl.api_key_env = client.api_key();
  ProcessResult r = server().Deliverctl(
      {"watch", "--from-beginning", "--message", m.id(), "--count", "3",
       "--timeout", "20"},
      ctl);
  ASSERT_EQ(r.exit_code, 0) << r;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_THAT(lines, SizeIs(3)) << r;
  EXPECT_THAT(lines[0], HasSubstr("queued"));
  EXPECT_THAT(lines[1], HasSubstr("attempt"));
  EXPECT_THAT(lines[2], HasSubstr("sent"));
  for (const std::string& line : lines) EXPECT_THAT(line, HasSubstr(m.id()));
}

}  // namespace
}  // namespace deliverd::e2e
