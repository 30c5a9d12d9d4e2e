// The bounce vocabulary shared by every classifier in hygiene/bounce (SMTP
// replies now; DSNs, feedback reports and provider events later): a reason
// and a class, with their stable names as they appear in JSON, the store and
// the API.
//
// Why hand-written: the vocabulary is the project's contract with its users
// (issue 6 fixes the names); it is a table, not an algorithm.
//
// Contract
//   * Names are stable, lower_snake_case, and round-trip through
//     ParseReason()/ReasonName() and ParseBounceClass()/BounceClassName().
//   * ClassOfReason() is the rule: hard only for reasons that say the
//     address itself is permanently undeliverable (user_unknown, host_unknown,
//     has_moved, not_accept); none for delivered, complaint, auto_reply; soft
//     for everything else, including every reputation, policy and content
//     reason, so a reputation block can never suppress an address as hard.
//     Classifiers may make a hard reason soft (a transient reply), never the
//     other way round.
//   * Pure; thread-safe.
#ifndef DELIVERD_HYGIENE_BOUNCE_REASON_H_
#define DELIVERD_HYGIENE_BOUNCE_REASON_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene::bounce {

enum class Reason {
  kUnknown,
  kUserUnknown,      // the mailbox does not exist
  kMailboxFull,      // over quota
  kHostUnknown,      // the domain or host does not exist / cannot be routed
  kBlocked,          // sender IP, domain or address refused (blocklist,
                     // reputation, sender rejected, refused at MAIL FROM)
  kSpamDetected,     // this message judged spam
  kPolicy,           // refused by a local policy on the message (ACL, ...)
  kRateLimited,      // throttled: too many messages, connections, recipients
  kExpired,          // retries exhausted / delivery time expired
  kMessageTooLarge,  // size limit
  kSecurityError,    // authentication (ours or the message's), TLS
  kHasMoved,         // the mailbox moved, or its owner changed
  kSuspended,        // the mailbox exists but is disabled
  kRelayDenied,      // the server will not relay for this recipient
  kSystemError,      // the receiving system failed or refused the protocol
  kNetworkError,     // no answer, bad connection, routing loop
  kVirus,            // malware found
  kContentRejected,  // media or content refused (not as spam)
  kNotAccept,        // the domain accepts no mail (null MX, RFC 7504)
  kDelivered,
  kComplaint,  // feedback report (RFC 5965); not from SMTP replies
  kAutoReply,  // vacation / auto-responder; not from SMTP replies
};

enum class BounceClass { kNone, kSoft, kHard };

absl::string_view ReasonName(Reason reason);                // "user_unknown"
std::optional<Reason> ParseReason(absl::string_view name);  // exact name
absl::string_view BounceClassName(BounceClass c);           // "hard"
std::optional<BounceClass> ParseBounceClass(absl::string_view name);
BounceClass ClassOfReason(Reason reason);

// Every reason, in declaration order (for tests and documentation).
const Reason* AllReasons(int* count);

}  // namespace deliverd::hygiene::bounce

#endif  // DELIVERD_HYGIENE_BOUNCE_REASON_H_
