// SMS through a Twilio-compatible REST API.
//
// POST <base_url>/2010-04-01/Accounts/<account sid>/Messages.json
//   Authorization: Basic base64(<account sid>:<auth token>)
//   Content-Type: application/x-www-form-urlencoded
//   body: To=<to>&From=<from>&Body=<text>   (percent-encoded, RFC 3986
//         unreserved characters kept)
// The text is "[CRITICAL] <title>", then what happened, the messages and what
// to do (the evidence is left out: SMS is for paging), at most
// kTwilioMaxBodyBytes (Twilio's limit is 1,600 characters).
// base_url defaults to https://api.twilio.com; a trailing "/" is ignored,
// so a compatible provider or a test receiver can stand in.
//
// The auth token is a secret: callers must not log the request's headers.
// Pure; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_TWILIO_PAYLOAD_H_
#define DELIVERD_SERVER_ALERTS_TWILIO_PAYLOAD_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/alerts/alert.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

inline constexpr size_t kTwilioMaxBodyBytes = 1600;

struct TwilioChannel {
  std::string base_url = "https://api.twilio.com";
  std::string account_sid;
  std::string auth_token;
  std::string from;  // E.164 number or messaging service sender
};

// application/x-www-form-urlencoded encoding of one value.
std::string FormEncode(absl::string_view value);

// The SMS text (bounded).
std::string TwilioSmsText(const Alert& alert);

// INVALID_ARGUMENT if the account sid is empty or not alphanumeric (it is
// part of the URL path) or `to` is empty.
absl::StatusOr<HttpRequest> BuildTwilioRequest(const TwilioChannel& channel,
                                               absl::string_view to,
                                               const Alert& alert);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_TWILIO_PAYLOAD_H_
