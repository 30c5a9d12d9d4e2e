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

absl::Status Store::RecordDelivery(const DeliveryUpdate& update) {
  std::promise<absl::Status> promise;
  auto future = promise.get_future();
  RecordDeliveryAsync(std::make_shared<const DeliveryUpdate>(update),
                      [&promise](absl::Status status) {
                        promise.set_value(std::move(status));
                      });
  return future.get();
}

}  // namespace deliverd::store
