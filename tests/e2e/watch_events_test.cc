// WatchEvents: the full history, resuming from a cursor, and the filters.
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::SizeIs;

class WatchEventsTest : public SharedDeliverdTest<WatchEventsTest> {};

// Stops once `message` has a SENT event among `events`.
std::function<bool(const std::vector<v1::Event>&)> UntilSent(
    const std::string& message) {
  return [message](const std::vector<v1::Event>& events) {
    return events.back().message() == message &&
           events.back().type() == v1::EVENT_TYPE_SENT;
  };
}

std::vector<v1::Event> Only(const std::vector<v1::Event>& events,
                            const std::string& message) {
  std::vector<v1::Event> out;
  for (const v1::Event& e : events) {
    if (e.message() == message) out.push_back(e);
  }
  return out;
}

TEST_F(WatchEventsTest, FromBeginningThenResumeWithoutRepeats) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message first,
      client.Send(MakeSend("a@example.com", "b@example.org", "First", "1")));

  v1::WatchEventsRequest from_beginning;
  from_beginning.set_from_beginning(true);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> history,
                       client.Watch(from_beginning, UntilSent(first.name())));
  EXPECT_THAT(TypesOf(history), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                            v1::EVENT_TYPE_ATTEMPT,
                                            v1::EVENT_TYPE_SENT));
  std::set<std::string> cursors;
  for (const v1::Event& e : history) {
    EXPECT_EQ(e.message(), first.name());
    EXPECT_TRUE(cursors.insert(e.cursor()).second) << "repeated " << e.cursor();
  }
  // The stream and GetMessage agree on the history and its cursors.
  ASSERT_OK_AND_ASSIGN(v1::Message stored, client.GetMessage(first.id()));
  ASSERT_EQ(stored.events_size(), static_cast<int>(history.size()));
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(stored.events(i).cursor(), history[i].cursor());
  }

  // Resume after the last cursor while the stream is open; the new message
  // is sent only then, so its events arrive live.
  v1::WatchEventsRequest resume;
  resume.set_after_cursor(history.back().cursor());
  std::promise<std::string> second_name;
  std::shared_future<std::string> name_future = second_name.get_future().share();
  std::future<absl::StatusOr<std::vector<v1::Event>>> live =
      std::async(std::launch::async, [&] {
        return client.Watch(resume, [&](const std::vector<v1::Event>& events) {
          return events.back().type() == v1::EVENT_TYPE_SENT &&
                 events.back().message() == name_future.get();
        });
      });
  absl::StatusOr<v1::Message> second =
      client.Send(MakeSend("a@example.com", "c@example.org", "Second", "2"));
  second_name.set_value(second.ok() ? second->name() : "");
  ASSERT_OK(second);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> newer, live.get());
  EXPECT_THAT(TypesOf(newer), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                          v1::EVENT_TYPE_ATTEMPT,
                                          v1::EVENT_TYPE_SENT));
  for (const v1::Event& e : newer) {
    EXPECT_EQ(e.message(), second->name());
    EXPECT_EQ(cursors.count(e.cursor()), 0u) << "repeated " << e.cursor();
  }

  // Resuming from the middle continues exactly after that event.
  v1::WatchEventsRequest middle;
  middle.set_after_cursor(history[0].cursor());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> rest,
                       client.Watch(middle, UntilSent(second->name())));
  ASSERT_THAT(rest, SizeIs(history.size() - 1 + newer.size()));
  EXPECT_EQ(rest[0].cursor(), history[1].cursor());
  EXPECT_EQ(rest[1].cursor(), history[2].cursor());
  EXPECT_EQ(rest[2].cursor(), newer[0].cursor());

  // Without a cursor and without from_beginning, only events after the call
  // come. When the server registers the stream is not observable, so markers
  // are sent until the stream reports one; none of the earlier messages'
  // events may appear.
  v1::WatchEventsRequest from_now;
  std::future<absl::StatusOr<std::vector<v1::Event>>> tail =
      std::async(std::launch::async, [&] {
        return client.Watch(from_now, [](const std::vector<v1::Event>& events) {
          return !events.empty();
        });
      });
  std::set<std::string> markers;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::Message marker,
        client.Send(MakeSend("a@example.com", "m@example.org", "Marker", "m")));
    markers.insert(marker.name());
    if (tail.wait_for(Millis(200)) == std::future_status::ready) break;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> tail_events, tail.get());
  for (const v1::Event& e : tail_events) {
    EXPECT_EQ(markers.count(e.message()), 1u)
        << "an event from before the call: " << e.DebugString();
  }
}

TEST_F(WatchEventsTest, FiltersByMessageTagAndType) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SendRequest alpha_request =
      MakeSend("a@example.com", "alpha@example.org", "Alpha", "a");
  alpha_request.add_tags("alpha");
  v1::SendRequest beta_request =
      MakeSend("a@example.com", "beta@example.org", "Beta", "b");
  beta_request.add_tags("beta");
  beta_request.add_tags("common");
  alpha_request.add_tags("common");
  ASSERT_OK_AND_ASSIGN(v1::Message alpha, client.Send(alpha_request));
  ASSERT_OK_AND_ASSIGN(v1::Message beta, client.Send(beta_request));
  ASSERT_OK(client.WaitForStatus(alpha.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK(client.WaitForStatus(beta.id(), v1::MESSAGE_STATUS_SENT));

  // By message.
  v1::WatchEventsRequest by_message;
  by_message.set_from_beginning(true);
  by_message.set_message(alpha.name());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> alpha_events,
                       client.Watch(by_message, UntilSent(alpha.name())));
  EXPECT_THAT(TypesOf(alpha_events), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                                 v1::EVENT_TYPE_ATTEMPT,
                                                 v1::EVENT_TYPE_SENT));
  for (const v1::Event& e : alpha_events) EXPECT_EQ(e.message(), alpha.name());

  // By tag: beta was sent after alpha, so seeing beta's SENT means every
  // alpha event has been passed over.
  v1::WatchEventsRequest by_tag;
  by_tag.set_from_beginning(true);
  by_tag.set_tag("beta");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> beta_events,
                       client.Watch(by_tag, UntilSent(beta.name())));
  EXPECT_THAT(TypesOf(beta_events), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                                v1::EVENT_TYPE_ATTEMPT,
                                                v1::EVENT_TYPE_SENT));
  for (const v1::Event& e : beta_events) {
    EXPECT_EQ(e.message(), beta.name());
    EXPECT_THAT(e.tags(), Contains("beta"));
  }

  // By type: only SENT events, one per message.
  v1::WatchEventsRequest by_type;
  by_type.set_from_beginning(true);
  by_type.add_types(v1::EVENT_TYPE_SENT);
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Event> sent_events,
      client.Watch(by_type, [&](const std::vector<v1::Event>& events) {
        return !Only(events, alpha.name()).empty() &&
               !Only(events, beta.name()).empty();
      }));
  ASSERT_THAT(sent_events, SizeIs(2));
  for (const v1::Event& e : sent_events) {
    EXPECT_EQ(e.type(), v1::EVENT_TYPE_SENT);
  }

  // Tag and types combined: alpha's attempt only, through the shared tag.
  v1::WatchEventsRequest combined;
  combined.set_from_beginning(true);
  combined.set_tag("common");
  combined.add_types(v1::EVENT_TYPE_ATTEMPT);
  combined.add_types(v1::EVENT_TYPE_QUEUED);
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Event> combined_events,
      client.Watch(combined, [&](const std::vector<v1::Event>& events) {
        return events.size() >= 4;
      }));
  EXPECT_THAT(TypesOf(Only(combined_events, alpha.name())),
              ElementsAre(v1::EVENT_TYPE_QUEUED, v1::EVENT_TYPE_ATTEMPT));
  EXPECT_THAT(TypesOf(Only(combined_events, beta.name())),
              ElementsAre(v1::EVENT_TYPE_QUEUED, v1::EVENT_TYPE_ATTEMPT));
}

// A filtered stream over a long history must catch up promptly. 4,000
// non-matching events (2,000 suppressed messages: queued + suppressed) lie
// before the events asked for; reading them is a matter of milliseconds.
TEST_F(WatchEventsTest, FilteredWatchCatchesUpPromptlyOverALongHistory) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::AddSuppressionRequest add;
  add.set_address("gone@example.org");
  add.set_reason(v1::SUPPRESSION_REASON_HARD_BOUNCE);
  ASSERT_OK(client.AddSuppression(add));
  v1::SendBatchRequest batch;
  for (int i = 0; i < 1000; ++i) {
    *batch.add_messages() =
        MakeSend("a@example.com", "gone@example.org", "Suppressed", "s");
  }
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse stored, client.SendBatch(batch));
    ASSERT_EQ(stored.accepted_count(), 1000);
  }
  v1::SendRequest wanted_request =
      MakeSend("a@example.com", "here@example.org", "Wanted", "w");
  wanted_request.add_tags("wanted");
  ASSERT_OK_AND_ASSIGN(v1::Message wanted, client.Send(wanted_request));
  ASSERT_OK(client.WaitForStatus(wanted.id(), v1::MESSAGE_STATUS_SENT));

  v1::WatchEventsRequest by_type;
  by_type.set_from_beginning(true);
  by_type.add_types(v1::EVENT_TYPE_SENT);
  auto before = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<v1::Event>> sent =
      client.Watch(by_type, UntilSent(wanted.name()), Seconds(3));
  auto took = std::chrono::duration_cast<Millis>(
      std::chrono::steady_clock::now() - before);
  EXPECT_TRUE(sent.ok()) << "types filter: " << sent.status() << " after "
                         << took.count() << " ms";
  if (sent.ok()) {
    EXPECT_THAT(*sent, SizeIs(1));
  }

  v1::WatchEventsRequest by_tag;
  by_tag.set_from_beginning(true);
  by_tag.set_tag("wanted");
  before = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<v1::Event>> tagged =
      client.Watch(by_tag, UntilSent(wanted.name()), Seconds(3));
  took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() -
                                            before);
  ASSERT_TRUE(tagged.ok()) << "tag filter: " << tagged.status() << " after "
                           << took.count() << " ms";
  EXPECT_THAT(TypesOf(*tagged), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                            v1::EVENT_TYPE_ATTEMPT,
                                            v1::EVENT_TYPE_SENT));
}

TEST_F(WatchEventsTest, BadRequestsAreInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  auto never = [](const std::vector<v1::Event>&) { return true; };
  v1::WatchEventsRequest bad_cursor;
  bad_cursor.set_after_cursor("not-a-cursor");
  EXPECT_EQ(client.Watch(bad_cursor, never).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::WatchEventsRequest bad_message;
  bad_message.set_message("messages/nope");
  EXPECT_EQ(client.Watch(bad_message, never).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::WatchEventsRequest bad_type;
  bad_type.add_types(static_cast<v1::EventType>(99));
  EXPECT_EQ(client.Watch(bad_type, never).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deliverd::e2e
