// A real SqliteStore in a temporary folder with two tenants, for the
// feedback tests, and a helper to insert sent messages.
#ifndef DELIVERD_TESTS_SERVER_FEEDBACK_TESTING_FEEDBACK_STORE_H_
#define DELIVERD_TESTS_SERVER_FEEDBACK_TESTING_FEEDBACK_STORE_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/store/sqlite_store.h"

namespace deliverd::feedback::testing {

inline absl::Time T0() { return absl::FromUnixSeconds(1800000000); }

class FeedbackStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(
        (base != nullptr && *base != '\0') ? base : "/tmp",
        "/deliverd_feedback_XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::SqliteStore::Open(dir_ + "/db.sqlite");
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    tenant_ = *store_->CreateTenant("acme");
    other_ = *store_->CreateTenant("other");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A message already sent to every recipient, Message-ID
  // <id>@sender.example.
  void Insert(int64_t tenant, const std::string& id,
              const std::vector<std::string>& to,
              const std::string& stream = "") {
    store::NewMessage item;
    store::Message& m = item.message;
    m.id = id;
    m.tenant_id = tenant;
    m.status = store::MessageStatus::kSent;
    m.from_address = "news@sender.example";
    m.stream = stream;
    m.create_time = T0();
    m.update_time = T0();
    m.rfc822_message_id = absl::StrCat(id, "@sender.example");
    m.content = "x";
    for (const std::string& address : to) {
      store::Recipient r;
      r.address = address;
      r.status = store::MessageStatus::kSent;
      m.recipients.push_back(r);
    }
    auto outcomes = store_->InsertMessagesAndWait({item});
    ASSERT_TRUE(outcomes.ok()) << outcomes.status();
    ASSERT_TRUE((*outcomes)[0].status.ok()) << (*outcomes)[0].status;
  }

  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
  int64_t tenant_ = 0;
  int64_t other_ = 0;
};

}  // namespace deliverd::feedback::testing

#endif  // DELIVERD_TESTS_SERVER_FEEDBACK_TESTING_FEEDBACK_STORE_H_
