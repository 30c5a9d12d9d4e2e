#include "server/store/store.h"

#include <future>

namespace deliverd::store {

absl::StatusOr<std::vector<InsertOutcome>> Store::InsertMessagesAndWait(
    std::vector<NewMessage> batch) {
  std::promise<absl::StatusOr<std::vector<InsertOutcome>>> promise;
  auto future = promise.get_future();
  InsertMessages(std::move(batch),
                 [&promise](absl::StatusOr<std::vector<InsertOutcome>> result) {
                   promise.set_value(std::move(result));
                 });
  return future.get();
}

}  // namespace deliverd::store
