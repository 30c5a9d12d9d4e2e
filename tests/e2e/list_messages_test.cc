// ListMessages: order, filters and pagination.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class ListMessagesTest : public SharedDeliverdTest<ListMessagesTest> {};

std::vector<std::string> Ids(const std::vector<v1::Message>& messages) {
  std::vector<std::string> ids;
  for (const v1::Message& m : messages) ids.push_back(m.id());
  return ids;
}

std::vector<std::string> ListIds(Client& client,
                                 const v1::ListMessagesRequest& request) {
  absl::StatusOr<std::vector<v1::Message>> all = client.ListAllMessages(request);
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? Ids(*all) : std::vector<std::string>{"<error>"};
}

TEST_F(ListMessagesTest, NewestFirstAndFilters) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::AddSuppressionRequest add;
  add.set_address("carol@example.org");
  add.set_reason(v1::SUPPRESSION_REASON_MANUAL);
  ASSERT_OK(client.AddSuppression(add));

  v1::SendRequest r1 = MakeSend("s1@example.com", "Alice@example.org", "1", "b");
  r1.add_tags("red");
  v1::SendRequest r2 = MakeSend("s2@example.com", "bob@example.org", "2", "b");
  r2.add_tags("blue");
  v1::SendRequest r3 = MakeSend("s1@example.com", "bob@example.org", "3", "b");
  r3.add_tags("red");
  r3.add_tags("blue");
  v1::SendRequest r4 = MakeSend("s2@example.com", "carol@example.org", "4", "b");
  ASSERT_OK_AND_ASSIGN(v1::Message m1, client.Send(r1));
  ASSERT_OK_AND_ASSIGN(v1::Message m2, client.Send(r2));
  ASSERT_OK_AND_ASSIGN(v1::Message m3, client.Send(r3));
  ASSERT_OK_AND_ASSIGN(v1::Message m4, client.Send(r4));
  ASSERT_OK(client.WaitForStatus(m1.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK(client.WaitForStatus(m2.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK(client.WaitForStatus(m3.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK(client.WaitForStatus(m4.id(), v1::MESSAGE_STATUS_SUPPRESSED));

  v1::ListMessagesRequest all;
  EXPECT_THAT(ListIds(client, all),
              ElementsAre(m4.id(), m3.id(), m2.id(), m1.id()));
  // Events are not included in the log.
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse page, client.ListMessages(all));
  ASSERT_THAT(page.messages(), SizeIs(4));
  EXPECT_THAT(page.messages(0).events(), IsEmpty());
  EXPECT_TRUE(page.next_page_token().empty());

  v1::ListMessagesRequest by_status;
  by_status.add_statuses(v1::MESSAGE_STATUS_SUPPRESSED);
  EXPECT_THAT(ListIds(client, by_status), ElementsAre(m4.id()));
  by_status.clear_statuses();
  by_status.add_statuses(v1::MESSAGE_STATUS_SENT);
  EXPECT_THAT(ListIds(client, by_status),
              ElementsAre(m3.id(), m2.id(), m1.id()));
  by_status.add_statuses(v1::MESSAGE_STATUS_SUPPRESSED);
  EXPECT_THAT(ListIds(client, by_status),
              ElementsAre(m4.id(), m3.id(), m2.id(), m1.id()));
  by_status.clear_statuses();
  by_status.add_statuses(v1::MESSAGE_STATUS_QUEUED);
  EXPECT_THAT(ListIds(client, by_status), IsEmpty());
  by_status.clear_statuses();
  by_status.add_statuses(static_cast<v1::MessageStatus>(42));
  EXPECT_EQ(client.ListMessages(by_status).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::ListMessagesRequest by_recipient;
  by_recipient.set_recipient("BOB@EXAMPLE.ORG");
  EXPECT_THAT(ListIds(client, by_recipient), ElementsAre(m3.id(), m2.id()));
  by_recipient.set_recipient("alice@example.org");
  EXPECT_THAT(ListIds(client, by_recipient), ElementsAre(m1.id()));
  by_recipient.set_recipient("nobody@example.org");
  EXPECT_THAT(ListIds(client, by_recipient), IsEmpty());

  v1::ListMessagesRequest by_sender;
  by_sender.set_sender("S1@Example.COM");
  EXPECT_THAT(ListIds(client, by_sender), ElementsAre(m3.id(), m1.id()));

  v1::ListMessagesRequest by_tag;
  by_tag.set_tag("red");
  EXPECT_THAT(ListIds(client, by_tag), ElementsAre(m3.id(), m1.id()));
  by_tag.set_tag("blue");
  EXPECT_THAT(ListIds(client, by_tag), ElementsAre(m3.id(), m2.id()));
  by_tag.set_recipient("bob@example.org");
  by_tag.set_sender("s2@example.com");
  EXPECT_THAT(ListIds(client, by_tag), ElementsAre(m2.id()));

  // Time range: create_time >= start and < end.
  v1::ListMessagesRequest by_time;
  *by_time.mutable_start_time() = m2.create_time();
  *by_time.mutable_end_time() = m4.create_time();
  EXPECT_THAT(ListIds(client, by_time), ElementsAre(m3.id(), m2.id()));
  by_time.clear_end_time();
  EXPECT_THAT(ListIds(client, by_time),
              ElementsAre(m4.id(), m3.id(), m2.id()));
  by_time.clear_start_time();
  *by_time.mutable_end_time() = m2.create_time();
  EXPECT_THAT(ListIds(client, by_time), ElementsAre(m1.id()));
  // An empty or inverted range is refused.
  *by_time.mutable_start_time() = m3.create_time();
  *by_time.mutable_end_time() = m2.create_time();
  absl::StatusOr<v1::ListMessagesResponse> inverted = client.ListMessages(by_time);
  EXPECT_EQ(inverted.status().code(), absl::StatusCode::kInvalidArgument)
      << inverted.status();
}

TEST_F(ListMessagesTest, PagesCoverEverythingOnceInOrder) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  // A batch stores its items with one creation time, so pages must break
  // ties between equal times; single sends add distinct times around them.
  std::vector<std::string> created;
  ASSERT_OK_AND_ASSIGN(
      v1::Message before,
      client.Send(MakeSend("a@example.com", "x@example.org", "before", "b")));
  created.push_back(before.id());
  v1::SendBatchRequest batch;
  for (int i = 0; i < 23; ++i) {
    v1::SendRequest item = MakeSend("a@example.com", "x@example.org",
                                    absl::StrCat("batch ", i), "b");
    if (i % 3 == 0) item.add_tags("third");
    *batch.add_messages() = item;
  }
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, client.SendBatch(batch));
  ASSERT_EQ(response.accepted_count(), 23);
  for (const v1::SendBatchResult& r : response.results()) {
    created.push_back(r.message().id());
  }
  ASSERT_OK_AND_ASSIGN(
      v1::Message after,
      client.Send(MakeSend("a@example.com", "x@example.org", "after", "b")));
  created.push_back(after.id());

  v1::ListMessagesRequest everything;
  everything.set_page_size(1000);
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse one_page,
                       client.ListMessages(everything));
  std::vector<std::string> full = Ids(std::vector<v1::Message>(
      one_page.messages().begin(), one_page.messages().end()));
  ASSERT_THAT(full, SizeIs(created.size()));
  EXPECT_EQ(full.front(), after.id());
  EXPECT_EQ(full.back(), before.id());
  EXPECT_THAT(std::set<std::string>(full.begin(), full.end()),
              ElementsAreArray(std::set<std::string>(created.begin(),
                                                     created.end())));

  for (int page_size : {1, 4, 5, 7, 25, 26}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    v1::ListMessagesRequest request;
    request.set_page_size(page_size);
    std::vector<std::string> paged;
    int pages = 0;
    while (true) {
      ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse page,
                           client.ListMessages(request));
      ++pages;
      ASSERT_LE(page.messages_size(), page_size);
      for (const v1::Message& m : page.messages()) paged.push_back(m.id());
      if (page.next_page_token().empty()) break;
      ASSERT_EQ(page.messages_size(), page_size);
      ASSERT_LT(pages, 100) << "pagination does not end";
      request.set_page_token(page.next_page_token());
    }
    EXPECT_EQ(paged, full);
    EXPECT_EQ(pages, (static_cast<int>(full.size()) + page_size - 1) / page_size);
  }

  // Pagination with a filter.
  v1::ListMessagesRequest tagged;
  tagged.set_tag("third");
  tagged.set_page_size(3);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Message> thirds,
                       client.ListAllMessages(tagged));
  EXPECT_THAT(thirds, SizeIs(8));  // 0, 3, ..., 21
  for (const v1::Message& m : thirds) {
    EXPECT_THAT(m.tags(), ElementsAre("third"));
  }

  // A message sent between pages is newer than the cursor: it does not
  // appear on later pages, and nothing older is skipped.
  v1::ListMessagesRequest first_page;
  first_page.set_page_size(10);
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse page1,
                       client.ListMessages(first_page));
  ASSERT_OK_AND_ASSIGN(
      v1::Message newcomer,
      client.Send(MakeSend("a@example.com", "x@example.org", "newcomer", "b")));
  v1::ListMessagesRequest rest;
  rest.set_page_size(10);
  rest.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Message> remaining,
                       client.ListAllMessages(rest));
  std::vector<std::string> seen = Ids(std::vector<v1::Message>(
      page1.messages().begin(), page1.messages().end()));
  for (const v1::Message& m : remaining) seen.push_back(m.id());
  EXPECT_EQ(seen, full);
  EXPECT_THAT(seen, Not(Contains(newcomer.id())));
}

TEST_F(ListMessagesTest, BadPageTokenAndPageSizeAreInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  for (const char* token : {"garbage", "v1.abc.1", "v1.1.0", "v2.1.1", "v1..",
                            "v1.1.1.1"}) {
    SCOPED_TRACE(token);
    v1::ListMessagesRequest request;
    request.set_page_token(token);
    absl::StatusOr<v1::ListMessagesResponse> r = client.ListMessages(request);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << r.status();
    EXPECT_THAT(std::string(r.status().message()), StartsWith("page_token:"));
  }
  for (int size : {-1, 1001}) {
    v1::ListMessagesRequest request;
    request.set_page_size(size);
    EXPECT_EQ(client.ListMessages(request).status().code(),
              absl::StatusCode::kInvalidArgument)
        << size;
  }
}

}  // namespace
}  // namespace deliverd::e2e
