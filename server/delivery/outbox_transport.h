// The development transport: each message becomes one .eml file in a folder,
// preceded by Return-Path and X-Deliverd-Rcpt-To lines recording its
// envelope. Files are written whole (temporary file, fsync, rename), so a
// reader never sees half a message; delivering the same message twice
// replaces its file rather than adding a second one.
//
// Thread-safe.
#ifndef DELIVERD_SERVER_DELIVERY_OUTBOX_TRANSPORT_H_
#define DELIVERD_SERVER_DELIVERY_OUTBOX_TRANSPORT_H_

#include <memory>
#include <string>

#include "server/delivery/transport.h"

namespace deliverd::delivery {

class OutboxTransport : public Transport {
 public:
  // Creates the folder if needed.
  static absl::StatusOr<std::unique_ptr<OutboxTransport>> Create(
      const std::string& directory);

  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view data) override;
  std::string name() const override { return "outbox"; }

 private:
  explicit OutboxTransport(std::string directory)
      : directory_(std::move(directory)) {}
  std::string directory_;
};

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_OUTBOX_TRANSPORT_H_
