// Durability and shutdown: acknowledged messages survive SIGKILL and are
// delivered after a restart; SIGTERM stops the server cleanly.
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// Each test owns its server: they stop and kill it.
class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Deliverd>> started = Deliverd::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }

  std::unique_ptr<Deliverd> server_;
};

TEST_F(DurabilityTest, AcknowledgedMessagesSurviveSigkillAndAreDelivered) {
  Client client = server_->NewClient();
  std::vector<std::string> acknowledged;
  v1::SendBatchRequest batch;
  for (int i = 0; i < 150; ++i) {
    *batch.add_messages() = MakeSend("a@example.com",
                                     absl::StrCat("r", i, "@example.org"),
                                     absl::StrCat("Durable ", i), "Body");
  }
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, client.SendBatch(batch));
  ASSERT_EQ(response.accepted_count(), 150);
  for (const v1::SendBatchResult& r : response.results()) {
    acknowledged.push_back(r.message().id());
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::Message m,
        client.Send(MakeSend("a@example.com", "single@example.org",
                             absl::StrCat("Single ", i), "Body")));
    acknowledged.push_back(m.id());
  }
  // Kill while the dispatcher is (most likely) in the middle of the queue.
  server_->Kill();

  ASSERT_OK(server_->Restart());
  Client after = server_->NewClient();
  // Every acknowledged message is there.
  for (const std::string& id : acknowledged) {
    absl::StatusOr<v1::Message> m = after.GetMessage(id);
    EXPECT_TRUE(m.ok()) << id << ": " << m.status();
  }
  // And every one is delivered, including those claimed by the killed
  // process: poll the queue (bounded) until nothing is left queued.
  v1::ListMessagesRequest queued;
  queued.add_statuses(v1::MESSAGE_STATUS_QUEUED);
  queued.set_page_size(1000);
  auto deadline = std::chrono::steady_clock::now() + Seconds(12);
  v1::ListMessagesResponse left;
  while (true) {
    ASSERT_OK_AND_ASSIGN(left, after.ListMessages(queued));
    if (left.messages().empty() ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(Millis(20));
  }
  std::string stuck;
  for (const v1::Message& m : left.messages()) {
    absl::StrAppend(&stuck, "\n  ", m.id(), " attempts=", m.attempt_count());
  }
  EXPECT_EQ(left.messages_size(), 0)
      << left.messages_size()
      << " acknowledged messages still queued 12 s after the restart (still\n"
      << "leased to the killed process?):" << stuck;
  int sent = 0;
  for (const std::string& id : acknowledged) {
    absl::StatusOr<v1::Message> m = after.GetMessage(id);
    if (!m.ok()) continue;
    if (m->status() == v1::MESSAGE_STATUS_SENT) {
      ++sent;
      EXPECT_TRUE(ReadFile(server_->OutboxFile(id)).has_value()) << id;
    }
  }
  EXPECT_EQ(sent, static_cast<int>(acknowledged.size()));
}

// With --sqlite-sync normal a single Send is answered once it is in the
// store's intake log, before it reaches the database: concurrent Sends,
// then SIGKILL, and every answered message is there after the restart and
// gets delivered.
TEST_F(DurabilityTest, NormalSyncSendsSurviveSigkillAndAreDelivered) {
  server_->Kill();
  absl::StatusOr<std::unique_ptr<Deliverd>> started =
      Deliverd::Start({"--sqlite-sync", "normal"});
  ASSERT_TRUE(started.ok()) << started.status();
  server_ = std::move(*started);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client = server_->NewClient();
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<v1::Message> m = client.Send(
            MakeSend("a@example.com",
                     absl::StrCat("n", t, "-", i, "@example.org"),
                     absl::StrCat("Normal ", t, "-", i), "Body"));
        if (m.ok()) ids[t].push_back(m->id());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  server_->Kill();

  std::vector<std::string> acknowledged;
  for (const auto& some : ids) {
    acknowledged.insert(acknowledged.end(), some.begin(), some.end());
  }
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kThreads * kPerThread));
  ASSERT_OK(server_->Restart());
  Client after = server_->NewClient();
  for (const std::string& id : acknowledged) {
    absl::StatusOr<v1::Message> sent =
        after.WaitForStatus(id, v1::MESSAGE_STATUS_SENT);
    ASSERT_TRUE(sent.ok()) << id << ": " << sent.status();
    EXPECT_TRUE(ReadFile(server_->OutboxFile(id)).has_value()) << id;
  }
}

TEST_F(DurabilityTest, SigtermExitsZeroAndRestartKeepsEverything) {
  const std::string first_key = server_->api_key();
  std::string id;
  {
    // Clients are scoped: see Deliverd::Stop about idle connections.
    Client client = server_->NewClient();
    ASSERT_OK_AND_ASSIGN(
        v1::Message m,
        client.Send(MakeSend("a@example.com", "b@example.org", "Kept", "Body")));
    ASSERT_OK(client.WaitForStatus(m.id(), v1::MESSAGE_STATUS_SENT));
    id = m.id();
  }
  ASSERT_OK_AND_ASSIGN(std::string other_key, server_->CreateKey("other"));

  ASSERT_OK_AND_ASSIGN(int code, server_->Stop());
  EXPECT_EQ(code, 0) << server_->Stderr();
  EXPECT_THAT(server_->Stdout(), HasSubstr("received SIGTERM"));
  EXPECT_THAT(server_->Stdout(), HasSubstr("stopped"));

  ASSERT_OK(server_->Restart());
  EXPECT_EQ(server_->api_key(), first_key);
  EXPECT_THAT(server_->Stdout(), Not(HasSubstr("Created the first API key")));
  {
    Client again = server_->NewClient();
    ASSERT_OK_AND_ASSIGN(v1::Message kept, again.GetMessage(id));
    EXPECT_EQ(kept.status(), v1::MESSAGE_STATUS_SENT);
    EXPECT_EQ(kept.events_size(), 3);
    // Keys issued before the restart still work.
    Client other = server_->NewClient(other_key);
    ASSERT_OK(other.ListMessages(v1::ListMessagesRequest()));
  }
  ASSERT_OK_AND_ASSIGN(code, server_->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(DurabilityTest, SigtermEndsOpenWatchStreamsAndExitsPromptly) {
  {
    Client client = server_->NewClient();
    ASSERT_OK(
        client.Send(MakeSend("a@example.com", "b@example.org", "Watch", "Body")));
  }
  std::promise<void> streaming;
  std::future<grpc::Status> watcher = std::async(std::launch::async, [&] {
    // The client lives only as long as the stream (see Deliverd::Stop).
    Client client = server_->NewClient();
    auto context = client.Context(Seconds(30));
    v1::WatchEventsRequest request;
    request.set_from_beginning(true);
    auto reader = client.messages().WatchEvents(context.get(), request);
    v1::WatchEventsResponse response;
    bool signalled = false;
    while (reader->Read(&response)) {
      if (!signalled) {
        streaming.set_value();
        signalled = true;
      }
    }
    if (!signalled) streaming.set_value();
    return reader->Finish();
  });
  // The stream is open once it has delivered an event.
  ASSERT_EQ(streaming.get_future().wait_for(Seconds(15)),
            std::future_status::ready);

  auto before = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(int code, server_->Stop(Seconds(15)));
  auto took = std::chrono::steady_clock::now() - before;
  EXPECT_EQ(code, 0) << server_->Stderr();
  EXPECT_LT(took, Seconds(10)) << "an open stream held the shutdown back";
  ASSERT_EQ(watcher.wait_for(Seconds(15)), std::future_status::ready);
  grpc::Status ended = watcher.get();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE)
      << ended.error_code() << ": " << ended.error_message();
  EXPECT_THAT(server_->Stdout(), HasSubstr("stopped"));
}

// The embedded store belongs to one serving process (leases are released at
// start on that assumption), so a second server on the same data folder
// must refuse to start, and the first keeps working.
TEST_F(DurabilityTest, SecondServerOnTheSameDataFolderIsRefused) {
  absl::StatusOr<std::unique_ptr<Deliverd>> second =
      Deliverd::Start({"--data-dir", server_->data_dir()});
  ASSERT_FALSE(second.ok()) << "a second deliverd started on the same store";
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("another deliverd is serving"));
  Client client = server_->NewClient();
  v1::SendRequest request;
  request.mutable_content()->mutable_from()->set_address("a@example.com");
  request.mutable_content()->add_to()->set_address("b@example.org");
  request.mutable_content()->set_subject("still here");
  request.mutable_content()->set_text_body("body");
  EXPECT_TRUE(client.Send(request).ok());
}

}  // namespace
}  // namespace deliverd::e2e
