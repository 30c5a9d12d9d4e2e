#include "server/delivery/smtp_relay_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace deliverd::delivery {

absl::StatusOr<SmtpRelayUrl> ParseSmtpRelayUrl(absl::string_view url) {
  SmtpRelayUrl out;
  absl::string_view rest = url;
  std::string lower = absl::AsciiStrToLower(url);
  if (absl::StartsWith(lower, "smtp://")) {
    rest.remove_prefix(7);
  } else if (absl::StartsWith(lower, "smtps://")) {
    rest.remove_prefix(8);
    out.implicit_tls = true;
    out.port = 465;
  } else {
    return absl::InvalidArgumentError(
        "relay URL must start with smtp:// or smtps://");
  }
  if (absl::EndsWith(rest, "/")) rest.remove_suffix(1);
  if (rest.find_first_of("@/?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "relay URL takes only HOST[:PORT] (credentials have their own "
        "settings)");
  }
  absl::string_view host = rest;
  absl::string_view port;
  if (absl::StartsWith(rest, "[")) {
    size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("relay URL has an unclosed '['");
    }
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError("relay URL: junk after ']'");
      }
      port = after.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("relay URL: empty port");
    }
  } else {
    size_t colon = rest.rfind(':');
    if (colon != absl::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return absl::InvalidArgumentError("relay URL: empty port");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("relay URL has no host");
  for (char c : host) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '-' || c == ':' ||
          c == '_')) {
      return absl::InvalidArgumentError(
          absl::StrCat("relay URL host has a character not allowed in a host "
                       "name: '", std::string(1, c), "'"));
    }
  }
  if (!port.empty()) {
    int value = 0;
    if (!absl::SimpleAtoi(port, &value) || value < 1 || value > 65535 ||
        !absl::ascii_isdigit(port[0])) {
      return absl::InvalidArgumentError(
          "relay URL port must be a number from 1 to 65535");
    }
    out.port = value;
  }
  out.host = std::string(host);
  return out;
}

}  // namespace deliverd::delivery
