// Builds the transport the configuration asks for: the development outbox
// or the SMTP relay (reading the AUTH password from its file, which must
// exist and not be readable by other users).
//
// Errors are INVALID_ARGUMENT / FAILED_PRECONDITION that name the setting.
#ifndef DELIVERD_SERVER_TRANSPORT_SETUP_H_
#define DELIVERD_SERVER_TRANSPORT_SETUP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/config.h"
#include "server/delivery/smtp_relay_transport.h"
#include "server/delivery/transport.h"

namespace deliverd {

absl::StatusOr<std::unique_ptr<delivery::Transport>> MakeTransport(
    const Config& config);

// The relay options the configuration describes (exposed for tests).
absl::StatusOr<delivery::SmtpRelayOptions> RelayOptionsFromConfig(
    const Config& config);

// "where mail goes", for the start-up banner.
std::string DescribeTransport(const Config& config);

}  // namespace deliverd

#endif  // DELIVERD_SERVER_TRANSPORT_SETUP_H_
