// Parses the relay address users configure: smtp://HOST[:PORT] (STARTTLS,
// port 25 unless given) or smtps://HOST[:PORT] (TLS from the first byte,
// port 465). IPv6 literals go in brackets ("smtp://[::1]:2525"). Nothing
// else is accepted: no user info (credentials have their own settings, so
// they never appear in logs that print the URL), no path, no query.
//
// Pure function; thread-safe. Errors are INVALID_ARGUMENT naming the
// problem.
#ifndef DELIVERD_SERVER_DELIVERY_SMTP_RELAY_URL_H_
#define DELIVERD_SERVER_DELIVERY_SMTP_RELAY_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::delivery {

struct SmtpRelayUrl {
  std::string host;  // without brackets
  int port = 25;
  bool implicit_tls = false;
};

absl::StatusOr<SmtpRelayUrl> ParseSmtpRelayUrl(absl::string_view url);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_SMTP_RELAY_URL_H_
