#include "server/transport_setup.h"

#include <algorithm>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "server/delivery/outbox_transport.h"
#include "server/delivery/smtp_relay_url.h"

namespace deliverd {
namespace {

absl::StatusOr<std::string> ReadPassword(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp-password-file: cannot read ", path));
  }
  if ((st.st_mode & 0077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "smtp-password-file: ", path,
        " is readable by other users (chmod 600 it)"));
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp-password-file: ", path, " is empty"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp-password-file: ", path, " is empty"));
  }
  return line;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

absl::StatusOr<delivery::SmtpRelayOptions> RelayOptionsFromConfig(
    const Config& config) {
  // On a shared store, each SMTP timeout is at most this share of the
  // delivery lease.
  constexpr int kLeaseShare = 20;
  absl::StatusOr<delivery::SmtpRelayUrl> url =
      delivery::ParseSmtpRelayUrl(config.smtp_relay);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("smtp-relay: ", url.status().message()));
  }
  delivery::SmtpRelayOptions options;
  options.session.host = url->host;
  options.session.port = url->port;
  if (url->implicit_tls) {
    options.session.tls = delivery::TlsMode::kImplicit;
  } else if (config.smtp_tls == "none") {
    options.session.tls = delivery::TlsMode::kNone;
  } else {
    options.session.tls = delivery::TlsMode::kStartTls;
  }
  options.tls.verify = config.smtp_tls_verify;
  options.tls.ca_file = config.smtp_tls_ca_file;
  options.session.helo_name =
      config.smtp_helo_name.empty() ? HostName() : config.smtp_helo_name;
  if (!config.smtp_user.empty()) {
    absl::StatusOr<std::string> password =
        ReadPassword(config.smtp_password_file);
    if (!password.ok()) return password.status();
    options.session.user = config.smtp_user;
    options.session.password = *password;
  }
  if (config.smtp_timeout > absl::ZeroDuration()) {
    options.session.timeouts.CapAt(config.smtp_timeout);
  }
  if (config.SharedStore()) {
    // Another replica takes a message over when its lease ends; an attempt
    // must end long before that, or both could send it. RFC 5321's
    // timeouts (up to 10 minutes a command) are far longer than a lease.
    options.session.timeouts.CapAt(
        std::max(absl::Seconds(1), config.delivery_lease / kLeaseShare));
  }
  options.max_connections = config.smtp_connections;
  options.max_transactions_per_connection = config.smtp_messages_per_connection;
  return options;
}

absl::StatusOr<std::unique_ptr<delivery::Transport>> MakeTransport(
    const Config& config) {
  if (config.transport == "smtp") {
    absl::StatusOr<delivery::SmtpRelayOptions> options =
        RelayOptionsFromConfig(config);
    if (!options.ok()) return options.status();
    absl::StatusOr<std::unique_ptr<delivery::SmtpRelayTransport>> relay =
        delivery::SmtpRelayTransport::Create(std::move(*options));
    if (!relay.ok()) return relay.status();
    return std::unique_ptr<delivery::Transport>(std::move(*relay));
  }
  absl::StatusOr<std::unique_ptr<delivery::OutboxTransport>> outbox =
      delivery::OutboxTransport::Create(config.OutboxDir());
  if (!outbox.ok()) return outbox.status();
  return std::unique_ptr<delivery::Transport>(std::move(*outbox));
}

std::string DescribeTransport(const Config& config) {
  if (config.transport == "smtp") {
    return absl::StrCat("relay ", config.smtp_relay);
  }
  return absl::StrCat("outbox:", config.OutboxDir());
}

}  // namespace deliverd
