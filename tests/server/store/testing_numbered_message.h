// A queued message numbered `n`, for the SqliteStore-specific tests that
// need many distinct messages without a conformance fixture: id prefix + n,
// created and due kNumberedMessageTime + n ms, one recipient
// user<n>@example.org, and one QUEUED event.
#ifndef DELIVERD_TESTS_SERVER_STORE_TESTING_NUMBERED_MESSAGE_H_
#define DELIVERD_TESTS_SERVER_STORE_TESTING_NUMBERED_MESSAGE_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/store.h"

namespace deliverd::store {

inline const absl::Time kNumberedMessageTime =
    absl::FromUnixSeconds(1800000000);

inline NewMessage NumberedMessage(int64_t tenant, absl::string_view prefix,
                                  int n, std::string content) {
  NewMessage item;
  Message& m = item.message;
  m.id = absl::StrCat(prefix, n);
  m.tenant_id = tenant;
  m.status = MessageStatus::kQueued;
  m.from_address = "sender@example.com";
  m.subject = absl::StrCat("Message ", n);
  m.create_time = m.update_time = m.next_attempt_time =
      kNumberedMessageTime + absl::Milliseconds(n);
  m.content = std::move(content);
  Recipient r;
  r.address = absl::StrCat("user", n, "@example.org");
  m.recipients.push_back(r);
  Event queued;
  queued.tenant_id = tenant;
  queued.message_id = m.id;
  queued.type = EventType::kQueued;
  queued.time = m.create_time;
  item.events.push_back(queued);
  return item;
}

}  // namespace deliverd::store

#endif  // DELIVERD_TESTS_SERVER_STORE_TESTING_NUMBERED_MESSAGE_H_
