// deliverctl's handlers against an in-process fake of the deliverd API:
// what goes over the wire (requests, the authorization metadata, chunking,
// paging, cancellation) and what the user sees. The real server's
// end-to-end tests live in tests/e2e.

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/commands.h"
#include "client/signals.h"
#include "deliverd/v1/messages.grpc.pb.h"
#include "deliverd/v1/subscriptions.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string Authorization(grpc::ServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

v1::Message MakeMessage(const std::string& id) {
  v1::Message m;
  m.set_name("messages/" + id);
  m.set_id(id);
  m.set_status(v1::MESSAGE_STATUS_QUEUED);
  m.mutable_from()->set_address("a@example.com");
  m.set_subject("Subject of " + id);
  m.mutable_create_time()->set_seconds(1714564800);
  v1::Recipient* r = m.add_recipients();
  r->set_address("b@example.com");
  r->set_kind(v1::RECIPIENT_KIND_TO);
  r->set_status(v1::MESSAGE_STATUS_QUEUED);
  return m;
}

class FakeMessages final : public v1::Messages::Service {
 public:
  grpc::Status Send(grpc::ServerContext* context,
                    const v1::SendRequest* request,
                    v1::SendResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    last_authorization = Authorization(context);
    last_send = *request;
    if (request->content().to_size() > 0 &&
        request->content().to(0).address() == "bad") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "content.to[0].address: not an address");
    }
    if (send_delay > std::chrono::milliseconds(0)) {
      std::this_thread::sleep_for(send_delay);
    }
    *response->mutable_message() = MakeMessage("m_01SEND");
    return grpc::Status::OK;
  }

  grpc::Status SendBatch(grpc::ServerContext* context,
                         const v1::SendBatchRequest* request,
                         v1::SendBatchResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    batch_sizes.push_back(request->messages_size());
    for (const v1::SendRequest& item : request->messages()) {
      v1::SendBatchResult* result = response->add_results();
      if (item.content().subject() == "bad") {
        result->mutable_error()->set_code(3);
        result->mutable_error()->set_field("content.subject");
        result->mutable_error()->set_message("refused");
      } else {
        *result->mutable_message() = MakeMessage(absl::StrCat("m_", ++next_id));
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status GetMessage(grpc::ServerContext* context,
                          const v1::GetMessageRequest* request,
                          v1::Message* response) override {
    if (request->name() != "messages/m_1") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat(request->name(), " not found"));
    }
    *response = MakeMessage("m_1");
    response->set_status(v1::MESSAGE_STATUS_BOUNCED);
    response->add_tags("welcome");
    v1::Recipient* r = response->mutable_recipients(0);
    r->set_status(v1::MESSAGE_STATUS_BOUNCED);
    r->mutable_last_reply()->set_code(550);
    r->mutable_last_reply()->set_enhanced_code("5.1.1");
    r->mutable_last_reply()->set_text("User unknown\nfor real");
    v1::Event* e = response->add_events();
    e->set_type(v1::EVENT_TYPE_BOUNCED);
    e->mutable_time()->set_seconds(1714564900);
    e->set_recipient("b@example.com");
    e->set_source("smtp");
    e->set_detail("hard bounce");
    return grpc::Status::OK;
  }

  grpc::Status ListMessages(grpc::ServerContext* context,
                            const v1::ListMessagesRequest* request,
                            v1::ListMessagesResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    list_requests.push_back(*request);
    // Two pages: "" -> m_3, m_2 (token "p2"); "p2" -> m_1.
    if (request->page_token().empty()) {
      *response->add_messages() = MakeMessage("m_3");
      *response->add_messages() = MakeMessage("m_2");
      response->mutable_messages(1)->add_recipients()->set_address("c@x");
      response->set_next_page_token("p2");
    } else {
      *response->add_messages() = MakeMessage("m_1");
    }
    return grpc::Status::OK;
  }

  grpc::Status Resend(grpc::ServerContext* context,
                      const v1::ResendRequest* request,
                      v1::ResendResponse* response) override {
    for (const std::string& name : request->names()) {
      v1::ResendResult* result = response->add_results();
      result->set_original(name);
      if (name == "messages/m_gone") {
        result->mutable_error()->set_code(5);
        result->mutable_error()->set_message("not found");
      } else {
        *result->mutable_message() = MakeMessage("m_new");
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status WatchEvents(
      grpc::ServerContext* context, const v1::WatchEventsRequest* request,
      grpc::ServerWriter<v1::WatchEventsResponse>* writer) override {
    for (int i = 1; i <= 3; ++i) {
      v1::WatchEventsResponse response;
      v1::Event* event = response.mutable_event();
      event->set_cursor(absl::StrCat("c", i));
      event->set_message("messages/m_1");
      event->set_type(v1::EVENT_TYPE_SENT);
      event->mutable_time()->set_seconds(1714564800 + i);
      // A failed write means the client already closed the stream: under
      // load its cancel can land while the third event is being written.
      if (!writer->Write(response)) {
        watch_cancelled = true;
        return grpc::Status::CANCELLED;
      }
    }
    // Like the real stream: open until the client goes away.
    while (!context->IsCancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    watch_cancelled = true;
    return grpc::Status::CANCELLED;
  }

  std::mutex mu;
  std::string last_authorization;
  v1::SendRequest last_send;
  std::vector<int> batch_sizes;
  std::vector<v1::ListMessagesRequest> list_requests;
  std::chrono::milliseconds send_delay{0};
  std::atomic<bool> watch_cancelled{false};
  int next_id = 0;
};

class FakeSubscriptions final : public v1::Subscriptions::Service {
 public:
  grpc::Status ListSuppressions(
      grpc::ServerContext* context, const v1::ListSuppressionsRequest* request,
      v1::ListSuppressionsResponse* response) override {
    last_list = *request;
    v1::Suppression* s = response->add_suppressions();
    s->set_address("b@example.com");
    s->set_reason(v1::SUPPRESSION_REASON_HARD_BOUNCE);
    s->mutable_create_time()->set_seconds(1714564800);
    s->set_source_message("messages/m_1");
    s->set_evidence("550 5.1.1 \"b\" unknown,\nsorry");
    v1::Suppression* t = response->add_suppressions();
    t->set_address("c@example.com");
    t->set_reason(v1::SUPPRESSION_REASON_MANUAL);
    t->set_scope("news");
    return grpc::Status::OK;
  }

  grpc::Status CheckSuppression(
      grpc::ServerContext* context, const v1::CheckSuppressionRequest* request,
      v1::CheckSuppressionResponse* response) override {
    for (const std::string& address : request->addresses()) {
      v1::SuppressionCheck* check = response->add_results();
      check->set_address(address);
      if (address == "b@example.com") {
        check->set_suppressed(true);
        check->mutable_suppression()->set_reason(
            v1::SUPPRESSION_REASON_COMPLAINT);
      }
    }
    return grpc::Status::OK;
  }

  v1::ListSuppressionsRequest last_list;
};

class FakeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&messages_);
    builder.RegisterService(&subscriptions_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
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

  Result RunCli(std::vector<std::string> args, const std::string& input = "",
                const std::string& key = "k1") {
    args.push_back(absl::StrCat("--server=127.0.0.1:", port_));
    if (!key.empty()) args.push_back("--api-key=" + key);
    Environment env;
    env.get_env = [](absl::string_view) { return std::nullopt; };
    env.read_file = [](const std::string& path) -> absl::StatusOr<std::string> {
      return absl::NotFoundError(path);
    };
    std::istringstream in(input);
    std::ostringstream out, err;
    const int code = RunDeliverctl(args, env, in, out, err);
    return {code, out.str(), err.str()};
  }

  FakeMessages messages_;
  FakeSubscriptions subscriptions_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

std::vector<std::string> SendArgs(const std::string& to) {
  return {"send",      "--from", "a@example.com", "--to", to,
          "--subject", "Hi",     "--text",        "Hello"};
}

TEST_F(FakeServerTest, SendPrintsTheIdAndSendsTheKey) {
  const Result r = RunCli(SendArgs("b@example.com"));
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "m_01SEND\n");
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_EQ(messages_.last_authorization, "Bearer k1");
  EXPECT_EQ(messages_.last_send.content().text_body(), "Hello");
}

TEST_F(FakeServerTest, SendWithoutKeySendsNoAuthorization) {
  const Result r = RunCli(SendArgs("b@example.com"), "", /*key=*/"");
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(messages_.last_authorization, "");
}

TEST_F(FakeServerTest, SendJson) {
  const Result r = RunCli({"--json", "send", "--from", "a@example.com", "--to",
                           "b@example.com", "--subject", "Hi", "--text", "x"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out,
              StartsWith("{\"message\":{\"name\":\"messages/m_01SEND\""));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
}

TEST_F(FakeServerTest, ServerValidationErrorIsOneLineAndExitOne) {
  const Result r = RunCli(SendArgs("bad"));
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_EQ(r.err,
            "deliverctl: send: INVALID_ARGUMENT: content.to[0].address: not "
            "an address\n");
}

TEST_F(FakeServerTest, DeadlineFromTimeout) {
  messages_.send_delay = std::chrono::milliseconds(500);
  std::vector<std::string> args = SendArgs("b@example.com");
  args.push_back("--timeout=0.1");
  const Result r = RunCli(args);
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.err, StartsWith("deliverctl: send: DEADLINE_EXCEEDED: "));
}

TEST_F(FakeServerTest, SendBatchChunksAndReportsItems) {
  std::string input;
  for (int i = 0; i < 1001; ++i) {
    const std::string subject = i == 1 ? "bad" : "ok";
    absl::StrAppend(&input, "{\"content\":{\"subject\":\"", subject, "\"}}\n");
  }
  const Result r = RunCli({"send-batch", "-"}, input);
  EXPECT_EQ(r.exit_code, kExitFailure);  // One item failed.
  EXPECT_THAT(messages_.batch_sizes, ElementsAre(1000, 1));
  const std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1001u);
  EXPECT_EQ(lines[0], "OK m_1");
  EXPECT_EQ(lines[1], "ERROR content.subject: refused");
  EXPECT_EQ(lines[1000], "OK m_1000");
}

TEST_F(FakeServerTest, SendBatchWithABadLineSendsNothing) {
  const Result r = RunCli({"send-batch", "-"}, "{}\nnot json\n");
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("line 2"));
  EXPECT_THAT(messages_.batch_sizes, IsEmpty());
}

TEST_F(FakeServerTest, StatusView) {
  const Result r = RunCli({"status", "messages/m_1"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("status:        bounced\n"));
  EXPECT_THAT(r.out, HasSubstr("tags:          welcome\n"));
  EXPECT_THAT(r.out, HasSubstr("next attempt:  -\n"));
  EXPECT_THAT(r.out, HasSubstr("ADDRESS        KIND  STATUS   DETAIL\n"
                               "b@example.com  to    bounced  550 5.1.1 User "
                               "unknown for real\n"));
  EXPECT_THAT(r.out, HasSubstr("2024-05-01T12:01:40Z  bounced  b@example.com"
                               "  smtp    hard bounce\n"));
}

TEST_F(FakeServerTest, StatusNotFound) {
  const Result r = RunCli({"status", "m_404"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.err, "deliverctl: status: NOT_FOUND: messages/m_404 not found\n");
}

TEST_F(FakeServerTest, LogOnePageWithHint) {
  const Result r = RunCli({"log", "--status", "queued"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("CREATED               ID   STATUS  FROM"));
  EXPECT_THAT(r.out, HasSubstr("b@example.com (+1)"));
  EXPECT_THAT(r.out, Not(HasSubstr("m_1 ")));
  EXPECT_THAT(r.err, HasSubstr("--page-token p2"));
  ASSERT_EQ(messages_.list_requests.size(), 1u);
  EXPECT_THAT(messages_.list_requests[0].statuses(),
              ElementsAre(v1::MESSAGE_STATUS_QUEUED));
}

TEST_F(FakeServerTest, LogAllFollowsPages) {
  const Result r = RunCli({"log", "--all"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("m_3"));
  EXPECT_THAT(r.out, HasSubstr("m_1 "));
  EXPECT_THAT(r.err, IsEmpty());
  ASSERT_EQ(messages_.list_requests.size(), 2u);
  EXPECT_EQ(messages_.list_requests[1].page_token(), "p2");
}

TEST_F(FakeServerTest, LogJsonPrintsOnePagePerLine) {
  const Result r = RunCli({"log", "--all", "--json"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  const std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("\"nextPageToken\":\"p2\""));
}

TEST_F(FakeServerTest, ResendReportsEachOriginal) {
  const Result r = RunCli({"resend", "m_1", "m_gone"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.out, "m_1 -> m_new\nm_gone -> ERROR not found\n");
}

TEST_F(FakeServerTest, WatchStopsAfterCountAndCancelsTheStream) {
  const Result r = RunCli({"watch", "--count", "2"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "2024-05-01T12:00:01Z  c1  m_1  sent  -  -\n"
            "2024-05-01T12:00:02Z  c2  m_1  sent  -  -\n");
  for (int i = 0; i < 200 && !messages_.watch_cancelled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(messages_.watch_cancelled);
}

TEST_F(FakeServerTest, WatchJson) {
  const Result r = RunCli({"watch", "--count=1", "--json"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"cursor\":\"c1\""));
}

TEST_F(FakeServerTest, WatchTimeoutIsAnError) {
  const Result r = RunCli({"watch", "--count", "10", "--timeout", "0.3"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.err, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
}

TEST_F(FakeServerTest, SuppressionsListCsv) {
  const Result r = RunCli({"suppressions", "list", "--csv"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "address,reason,scope,create_time,expire_time,source_message,"
            "evidence\n"
            "b@example.com,hard_bounce,,2024-05-01T12:00:00Z,,m_1,"
            "\"550 5.1.1 \"\"b\"\" unknown,\nsorry\"\n"
            "c@example.com,manual,news,,,,\n");
  EXPECT_EQ(subscriptions_.last_list.scope(), "*");
}

TEST_F(FakeServerTest, SuppressionsListTable) {
  const Result r = RunCli({"suppressions", "list"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("b@example.com  hard_bounce  (tenant)"));
  EXPECT_THAT(r.out, HasSubstr("550 5.1.1 \"b\" unknown, sorry"));
}

TEST_F(FakeServerTest, SuppressionsCheck) {
  const Result r =
      RunCli({"suppressions", "check", "a@example.com", "b@example.com"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("a@example.com  no          -"));
  EXPECT_THAT(r.out,
              HasSubstr("b@example.com  yes         complaint  (tenant)"));
}

TEST_F(FakeServerTest, HealthServing) {
  const Result r = RunCli({"health"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  const Result json = RunCli({"health", "--json"});
  EXPECT_EQ(json.out, "{\"status\":\"SERVING\"}\n");
}

TEST_F(FakeServerTest, HealthOfAnUnknownServiceIsAnError) {
  const Result r = RunCli({"health", "--service", "no.such.Service"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.err, StartsWith("deliverctl: health: NOT_FOUND"));
}

// SIGTERM must end `watch` with exit 0 after cancelling the call. Runs in a
// fresh child process (threadsafe death-test style re-executes the binary),
// so that every thread, gRPC's included, starts with the signals blocked as
// in deliverctl's own process; in this process earlier tests' threads would
// take the signal and die.
// Runs `watch` against a fake server, sends the process SIGTERM, and exits
// 0 only if watch returned 0 after printing every event and the server saw
// the call cancelled. For the death test below.
[[noreturn]] void WatchUntilSigterm() {
  BlockTerminationSignals();
  FakeMessages messages;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&messages);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(getpid(), SIGTERM);
  });
  Environment env;
  env.get_env = [](absl::string_view) { return std::nullopt; };
  env.read_file = [](const std::string& path) -> absl::StatusOr<std::string> {
    return absl::NotFoundError(path);
  };
  std::istringstream in;
  std::ostringstream out, err;
  const int code = RunDeliverctl(
      {"watch", absl::StrCat("--server=127.0.0.1:", port)}, env, in, out, err);
  killer.join();
  for (int i = 0; i < 200 && !messages.watch_cancelled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server->Shutdown(std::chrono::system_clock::now());
  const std::string printed = out.str();
  const auto lines = std::count(printed.begin(), printed.end(), '\n');
  std::cerr << "code=" << code << " lines=" << lines
            << " cancelled=" << messages.watch_cancelled
            << " err=" << err.str();
  std::_Exit(code == 0 && lines == 3 && messages.watch_cancelled ? 0 : 1);
}

// SIGTERM must end `watch` with exit 0 after cancelling the call. Runs in a
// fresh child process (the threadsafe death-test style re-executes the
// binary) so that every thread, gRPC's included, starts with the signals
// blocked, as in deliverctl's own process; in this process, threads left by
// earlier tests would take the signal and die.
TEST(WatchSignalDeathTest, SigtermEndsWatchCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(WatchUntilSigterm(), ::testing::ExitedWithCode(0),
              "code=0 lines=3 cancelled=1");
}

}  // namespace
}  // namespace deliverd::client
