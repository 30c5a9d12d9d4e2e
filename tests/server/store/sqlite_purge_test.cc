// SqliteStore-specific behaviour outside the Store interface.
#include <stdlib.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "server/store/sqlite_store.h"

namespace deliverd::store {
namespace {

NewMessage WithRequestId(int64_t tenant, const std::string& id,
                         const std::string& request_id, absl::Time created) {
  NewMessage item;
  item.message.id = id;
  item.message.tenant_id = tenant;
  item.message.status = MessageStatus::kQueued;
  item.message.from_address = "a@example.com";
  item.message.create_time = item.message.update_time = created;
  item.message.request_id = request_id;
  item.request_hash = "hash";
  Recipient r;
  r.address = "b@example.org";
  item.message.recipients.push_back(r);
  return item;
}

TEST(SqlitePurge, DeletesOnlyExpiredIdempotencyRecords) {
  char tmpl[] = "/tmp/sqlite-purge-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto store = *SqliteStore::Open(dir + "/db");
    int64_t tenant = *store->CreateTenant("t");
    absl::Time now = absl::FromUnixSeconds(1800000000);
    ASSERT_TRUE(store
                    ->InsertMessagesAndWait(
                        {WithRequestId(tenant, "m_old", "old",
                                       now - absl::Hours(25)),
                         WithRequestId(tenant, "m_new", "new",
                                       now - absl::Hours(1))})
                    .ok());
    absl::StatusOr<int64_t> purged =
        store->PurgeIdempotencyRecords(now - kIdempotencyWindow);
    ASSERT_TRUE(purged.ok()) << purged.status();
    EXPECT_EQ(*purged, 1);
    // The recent key still replays; the purged one is free again.
    auto again = store->InsertMessagesAndWait(
        {WithRequestId(tenant, "m_new2", "new", now),
         WithRequestId(tenant, "m_old2", "old", now)});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE((*again)[0].replayed);
    EXPECT_EQ((*again)[0].message_id, "m_new");
    EXPECT_FALSE((*again)[1].replayed);
    EXPECT_EQ((*again)[1].message_id, "m_old2");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace deliverd::store
