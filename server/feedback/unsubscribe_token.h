// Signed unsubscribe tokens for List-Unsubscribe (RFC 2369, RFC 8058).
//
// A token names one list message: "<message id>.<24 hex digits>", the
// digits the first 96 bits of HMAC-SHA256(secret, purpose || message id).
// The message gives everything else (tenant, its one recipient, its list),
// so the token stays short enough for an address's local part
// ("unsub+<token>@domain" is at most 59 characters, under RFC 5321's 64)
// and survives MTAs that fold the local part's case (lower-case only).
// Without the server's secret nobody can make a token for another message
// or address; 96 bits make guessing hopeless.
//
// The secret is 32 random bytes kept in a file readable only by deliverd's
// user; replicas share the file. Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_FEEDBACK_UNSUBSCRIBE_TOKEN_H_
#define DELIVERD_SERVER_FEEDBACK_UNSUBSCRIBE_TOKEN_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::feedback {

// The local part prefix of the unsubscribe mailto address.
inline constexpr absl::string_view kUnsubscribeLocalPrefix = "unsub+";

std::string MakeUnsubscribeToken(absl::string_view secret,
                                 absl::string_view message_id);

// The message id a genuine token names (compared case-insensitively), or
// INVALID_ARGUMENT saying what is wrong with it.
absl::StatusOr<std::string> VerifyUnsubscribeToken(absl::string_view secret,
                                                   absl::string_view token);

// "unsub+<token>@<domain>".
std::string UnsubscribeMailbox(absl::string_view token,
                               absl::string_view domain);

// The token in an address whose local part starts with "unsub+", else
// nullopt (unverified).
std::optional<std::string> TokenFromUnsubscribeMailbox(
    absl::string_view address);

// How list messages are signed and where unsubscribes go.
struct ListUnsubscribeConfig {
  std::string secret;
  // Base of the one-click HTTPS URL (the token is appended as ?token=...);
  // empty: mailto only, and no List-Unsubscribe-Post (RFC 8058 needs HTTPS).
  std::string https_url;
  // Domain of the mailto address; empty: the message's From domain.
  std::string mailto_domain;
};

// List-Unsubscribe and, with an HTTPS URL, List-Unsubscribe-Post, for
// message `message_id` sent from `from_domain`.
std::vector<std::pair<std::string, std::string>> ListUnsubscribeHeaders(
    const ListUnsubscribeConfig& config, absl::string_view message_id,
    absl::string_view from_domain);

// The token of the first unsubscribe mailbox a message was addressed to
// (Delivered-To, X-Original-To, Envelope-To, To; unverified), from its
// header section (at most the first 64 KiB are read).
std::optional<std::string> UnsubscribeTokenInHeaders(absl::string_view raw);

// Loads the secret from `path`, creating it (32 random bytes, hex, mode
// 0600) when the file does not exist.
absl::StatusOr<std::string> LoadOrCreateUnsubscribeSecret(
    const std::string& path);

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_UNSUBSCRIBE_TOKEN_H_
