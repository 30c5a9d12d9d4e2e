// Replicas: two deliverd processes on one MariaDB database (--store
// mysql://...) share the queue and the event log. One is killed (SIGKILL)
// in the middle of delivering 5,000 messages; the other takes over its
// claims once their lease runs out, every message reaches the relay, the
// statuses tell the truth, and a WatchEvents stream on the survivor shows
// the events of both.
//
// Which replica delivered a copy: each replica greets the relay with its
// own EHLO name (--smtp-helo-name), and smtp-sink records it in every dump
// file (X-Helo-Args). The API does not say which replica delivered a
// message (events carry source "smtp" either way).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"
#include "testing_mariadb.h"
#include "testing_smtp_sink.h"

namespace deliverd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMessages = 5000;
constexpr int kBatch = 500;
// Messages 0..kThroughA-1 are sent through replica A (the one killed), the
// rest through B once A is dead.
constexpr int kThroughA = kMessages / 2;
// A is killed once the relay has this many of its deliveries: mid-way
// through its share, with claims outstanding.
constexpr size_t kKillAfterDeliveriesByA = 200;
constexpr char kHeloA[] = "replica-a.test";
constexpr char kHeloB[] = "replica-b.test";
// The last line of every body: a dump file holding it is complete
// (smtp-sink may finish writing a file after its 250).
constexpr char kEndOfBody[] = "-- end of test body --";

// What the relay received: for each X-Deliverd-Id, the EHLO name of every
// copy. Files are read once complete; incomplete ones again next time.
class SinkTally {
 public:
  explicit SinkTally(std::string dump_dir) : dump_dir_(std::move(dump_dir)) {}

  void Update() {
    pending_.clear();
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dump_dir_, ec), end;
         !ec && it != end; it.increment(ec)) {
      std::string path = it->path().string();
      if (read_.count(path) > 0) continue;
      std::optional<std::string> text = ReadFile(path);
      if (!text.has_value() || !absl::StrContains(*text, kEndOfBody)) {
        pending_.push_back(path);
        continue;
      }
      read_.insert(path);
      std::string helo = HeaderValue(*text, "X-Helo-Args");
      copies_[HeaderValue(*text, "X-Deliverd-Id")].push_back(helo);
      if (helo == kHeloA) ++by_a_;
    }
  }

  // Message id -> the EHLO names of its copies.
  const std::map<std::string, std::vector<std::string>>& copies() const {
    return copies_;
  }
  size_t files() const { return read_.size(); }
  // Files seen but not yet complete at the last Update().
  const std::vector<std::string>& pending() const { return pending_; }
  size_t copies_by_a() const { return by_a_; }

 private:
  std::string dump_dir_;
  std::set<std::string> read_;
  std::map<std::string, std::vector<std::string>> copies_;
  std::vector<std::string> pending_;
  size_t by_a_ = 0;
};

// A WatchEvents stream read on a thread of its own until Stop().
class EventWatcher {
 public:
  EventWatcher(Client& client, const v1::WatchEventsRequest& request,
               Millis timeout)
      : context_(client.Context(timeout)) {
    reader_ = client.messages().WatchEvents(context_.get(), request);
    thread_ = std::thread([this] {
      v1::WatchEventsResponse response;
      while (reader_->Read(&response)) {
        std::lock_guard<std::mutex> lock(mu_);
        absl::string_view id = response.event().message();
        absl::ConsumePrefix(&id, "messages/");
        if (response.event().type() == v1::EVENT_TYPE_SENT) {
          ++sent_events_;
          sent_.insert(std::string(id));
        }
      }
      grpc::Status s = reader_->Finish();
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
      status_ = s;
    });
  }
  ~EventWatcher() { Stop(); }

  // Ids of messages with a SENT event so far.
  std::set<std::string> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  int sent_events() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_events_;
  }
  // Empty while the stream is open; else how it ended.
  std::string ended() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!finished_) return "";
    return absl::StrCat("stream ended: ", status_.error_code(), " ",
                        status_.error_message());
  }
  void Stop() {
    if (!thread_.joinable()) return;
    context_->TryCancel();
    thread_.join();
  }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::set<std::string> sent_;
  int sent_events_ = 0;
  bool finished_ = false;
  grpc::Status status_;
};

std::string Recipient(int i) { return absl::StrCat("r", i, "@rcpt.example"); }

// Sends messages [first, last) through `client` in batches; appends their
// ids to `ids` (ids[i] is message i's).
absl::Status SendRange(Client& client, int first, int last,
                       std::vector<std::string>* ids) {
  for (int start = first; start < last; start += kBatch) {
    v1::SendBatchRequest batch;
    int end = std::min(last, start + kBatch);
    for (int i = start; i < end; ++i) {
      *batch.add_messages() =
          MakeSend("sender@send.example", Recipient(i),
                   absl::StrCat("Replica message ", i),
                   absl::StrCat("Message ", i, ".\n", kEndOfBody, "\n"));
    }
    absl::StatusOr<v1::SendBatchResponse> response = client.SendBatch(batch);
    if (!response.ok()) return response.status();
    if (response->accepted_count() != end - start ||
        response->results_size() != end - start) {
      return absl::InternalError(
          absl::StrCat("batch from ", start, ": accepted ",
                       response->accepted_count(), " of ", end - start));
    }
    for (const v1::SendBatchResult& r : response->results()) {
      ids->push_back(r.message().id());
    }
  }
  return absl::OkStatus();
}

TEST(ReplicaTest, KilledReplicasClaimsAreTakenOverAndWatchSeesBothReplicas) {
  const Clock::time_point test_start = Clock::now();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestMariadb> db, TestMariadb::Start());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  auto flags = [&](const std::string& helo) {
    return std::vector<std::string>{
        "--store", db->uri(), "--smtp-relay", sink->url(), "--smtp-tls", "none",
        "--smtp-helo-name", helo,
        // The dead replica's claims return to the queue 4 s after it took
        // them.
        "--delivery-lease", "4s",
        // Every recipient is in one domain: let all workers use it.
        "--domain-concurrency", "64"};
  };
  // A first: on the empty database it creates the first key; B is given it.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Deliverd> a,
                       Deliverd::Start(flags(kHeloA)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Deliverd> b,
                       Deliverd::StartWithKey(a->api_key(), flags(kHeloB)));
  Client client_a = a->NewClient();
  Client client_b = b->NewClient();
  // To count A's claims right after it dies, without connecting then.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::MysqlConnection> sql,
                       db->Connect());

  // The stream on the survivor, opened before anything is sent. (From the
  // beginning of the log, which is empty now: no race with the first
  // events, and every event it shows arrives while it is open.)
  v1::WatchEventsRequest watch;
  watch.set_from_beginning(true);
  watch.add_types(v1::EVENT_TYPE_SENT);
  EventWatcher watcher(client_b, watch, Seconds(240));

  std::vector<std::string> ids;
  ASSERT_OK(SendRange(client_a, 0, kThroughA, &ids));

  // Kill A while it is delivering and holds claims. Once the relay has
  // kKillAfterDeliveriesByA of its copies, A is frozen (SIGSTOP, so the
  // database shows what it held) and killed only if it holds claims then;
  // otherwise it runs on and is checked again (polled with short waits,
  // bounded). A worker delivers a claimed batch within milliseconds, so a
  // kill timed by the relay's count alone could fall between two batches.
  // What A holds: messages whose lease it has and that are not final. These
  // are the only messages the relay may get twice: A may have handed one to
  // the relay without recording it; B delivers it again once the lease runs
  // out. (A claim A had not yet committed is rolled back with its
  // connection and is not counted: nobody knows of it.) The owner is
  // "deliverd-<host>-<pid>-<random>" (server.cc LeaseOwnerName).
  const pid_t a_pid = a->pid();
  const std::string held_by_a = absl::StrCat(
      "SELECT COUNT(*) FROM messages WHERE lease_owner LIKE 'deliverd-%-",
      a_pid, "-%' AND status IN (1, 3)");
  SinkTally tally(sink->dump_dir());
  Clock::time_point deadline = Clock::now() + Seconds(60);
  while (true) {
    tally.Update();
    if (tally.copies_by_a() >= kKillAfterDeliveriesByA) {
      ASSERT_EQ(kill(a_pid, SIGSTOP), 0);
      ASSERT_OK_AND_ASSIGN(const int64_t held, sql->QueryInt(held_by_a));
      if (held > 0) break;
      ASSERT_EQ(kill(a_pid, SIGCONT), 0);
    }
    ASSERT_LT(Clock::now(), deadline)
        << "replica A delivered " << tally.copies_by_a()
        << " messages in 60 s and was never caught holding claims (relay has "
        << tally.files() << "); A's stderr:\n"
        << a->Stderr();
    std::this_thread::sleep_for(Millis(5));
  }
  a->Kill();
  const size_t files_at_kill = sink->MessageCount();
  ASSERT_OK_AND_ASSIGN(const int64_t in_flight_at_kill,
                       sql->QueryInt(held_by_a));
  // The scenario did happen: A died holding claims.
  EXPECT_GT(in_flight_at_kill, 0)
      << "A held no claims when killed: the test proved little";
  EXPECT_LT(files_at_kill, static_cast<size_t>(kMessages));

  // The rest through B.
  ASSERT_OK(SendRange(client_b, kThroughA, kMessages, &ids));
  ASSERT_EQ(ids.size(), static_cast<size_t>(kMessages));
  std::map<std::string, int> index_of;
  for (int i = 0; i < kMessages; ++i) index_of[ids[i]] = i;
  ASSERT_EQ(index_of.size(), static_cast<size_t>(kMessages)) << "ids repeat";

  // Every message reaches the relay at least once (bounded).
  deadline = Clock::now() + Seconds(120);
  while (true) {
    tally.Update();
    size_t present = 0;
    for (const std::string& id : ids) present += tally.copies().count(id);
    if (present == ids.size()) break;
    ASSERT_LT(Clock::now(), deadline)
        << "the relay has " << present << " of " << kMessages
        << " messages after 120 s; B's stderr:\n"
        << b->Stderr();
    std::this_thread::sleep_for(Millis(20));
  }

  // Every status on the survivor is SENT (polled: the relay may have a copy
  // a moment before its outcome is committed).
  int not_sent = 0;
  std::string not_sent_examples;
  for (int i = 0; i < kMessages; ++i) {
    absl::StatusOr<v1::Message> m =
        client_b.WaitUntilStatus(ids[i], v1::MESSAGE_STATUS_SENT, Seconds(30));
    if (!m.ok()) {
      if (++not_sent <= 5)
        absl::StrAppend(&not_sent_examples, "\n  ", m.status().ToString());
    }
  }
  EXPECT_EQ(not_sent, 0) << "messages not SENT on B:" << not_sent_examples;

  // Every message's SENT event reached the stream on B.
  deadline = Clock::now() + Seconds(30);
  std::set<std::string> watched;
  while (true) {
    watched = watcher.sent();
    if (watched.size() >= ids.size() || !watcher.ended().empty() ||
        Clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(Millis(20));
  }
  const int sent_events = watcher.sent_events();
  watcher.Stop();

  // Every copy the relay will get has arrived (every message is SENT, so
  // nobody is delivering); let incomplete files finish (bounded).
  deadline = Clock::now() + Seconds(10);
  while (true) {
    tally.Update();
    if (tally.pending().empty() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(Millis(20));
  }
  // A file that stays incomplete is a transaction the kill cut short (the
  // relay never accepted it): allowed from A only, and no delivery.
  int cut_short_by_kill = 0;
  for (const std::string& path : tally.pending()) {
    std::string text = ReadFile(path).value_or("");
    if (HeaderValue(text, "X-Helo-Args") == kHeloA) {
      ++cut_short_by_kill;
    } else {
      ADD_FAILURE() << "incomplete dump file not from A: " << path << "\n"
                    << text;
    }
  }

  int duplicates = 0;
  int duplicates_without_a = 0;
  int only_a = 0;
  int by_b = 0;
  int watched_only_a = 0;
  int watched_by_b = 0;
  int unknown = 0;
  for (const auto& [id, helos] : tally.copies()) {
    if (index_of.count(id) == 0) {
      ++unknown;
      continue;
    }
    const int from_a = static_cast<int>(
        std::count(helos.begin(), helos.end(), std::string(kHeloA)));
    const int from_b = static_cast<int>(helos.size()) - from_a;
    if (helos.size() >= 2) {
      ++duplicates;
      if (from_a == 0) ++duplicates_without_a;
    }
    // A copy only from A: A delivered it and recorded SENT itself (B never
    // touched it). A copy from B: B recorded SENT.
    if (from_b == 0) {
      ++only_a;
      // Before its death A could only see what was sent through it.
      EXPECT_LT(index_of[id], kThroughA) << id;
      watched_only_a += watched.count(id);
    } else {
      ++by_b;
      watched_by_b += watched.count(id);
    }
  }
  int missing_events = 0;
  for (const std::string& id : ids) missing_events += watched.count(id) == 0;

  std::cout
      << "[replicas] in flight at kill (A's claims, not final): "
      << in_flight_at_kill << "; relay files at kill: " << files_at_kill
      << "; delivered only by A: " << only_a << "; by B: " << by_b
      << "; received twice or more: " << duplicates
      << "; relay files: " << tally.files()
      << " (+ cut short by the kill: " << cut_short_by_kill << ")"
      << "; SENT events on B: " << sent_events << " (" << watched.size()
      << " messages); run time "
      << std::chrono::duration_cast<Millis>(Clock::now() - test_start).count()
      << " ms\n";

  EXPECT_EQ(unknown, 0) << "the relay got messages nobody sent";
  EXPECT_EQ(tally.files(), static_cast<size_t>(kMessages + duplicates));
  EXPECT_LE(duplicates, in_flight_at_kill)
      << "more messages delivered twice than A had in flight when killed";
  EXPECT_EQ(duplicates_without_a, 0)
      << "a message delivered twice without a copy from the killed replica";
  EXPECT_EQ(missing_events, 0)
      << "SENT events missing from the stream on B; " << watcher.ended();
  // The stream on B shows the deliveries of both replicas: those A made and
  // recorded before it died (committed by A, seen through the database) and
  // those B made.
  EXPECT_GT(only_a, 0);
  EXPECT_GT(by_b, 0);
  EXPECT_EQ(watched_only_a, only_a);
  EXPECT_EQ(watched_by_b, by_b);
  // One SENT event per message: a copy delivered twice is recorded once.
  EXPECT_EQ(sent_events, kMessages);
}

}  // namespace
}  // namespace deliverd::e2e
