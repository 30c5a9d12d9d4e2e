// The bounce vocabulary; see reason.h.
#include "hygiene/bounce/reason.h"

namespace deliverd::hygiene::bounce {
namespace {

struct ReasonEntry {
  Reason reason;
  absl::string_view name;
};

constexpr ReasonEntry kReasons[] = {
    {Reason::kUnknown, "unknown"},
    {Reason::kUserUnknown, "user_unknown"},
    {Reason::kMailboxFull, "mailbox_full"},
    {Reason::kHostUnknown, "host_unknown"},
    {Reason::kBlocked, "blocked"},
    {Reason::kSpamDetected, "spam_detected"},
    {Reason::kPolicy, "policy"},
    {Reason::kRateLimited, "rate_limited"},
    {Reason::kExpired, "expired"},
    {Reason::kMessageTooLarge, "message_too_large"},
    {Reason::kSecurityError, "security_error"},
    {Reason::kHasMoved, "has_moved"},
    {Reason::kSuspended, "suspended"},
    {Reason::kRelayDenied, "relay_denied"},
    {Reason::kSystemError, "system_error"},
    {Reason::kNetworkError, "network_error"},
    {Reason::kVirus, "virus"},
    {Reason::kContentRejected, "content_rejected"},
    {Reason::kNotAccept, "not_accept"},
    {Reason::kDelivered, "delivered"},
    {Reason::kComplaint, "complaint"},
    {Reason::kAutoReply, "auto_reply"},
};

const Reason kAll[] = {
    Reason::kUnknown,         Reason::kUserUnknown,   Reason::kMailboxFull,
    Reason::kHostUnknown,     Reason::kBlocked,       Reason::kSpamDetected,
    Reason::kPolicy,          Reason::kRateLimited,   Reason::kExpired,
    Reason::kMessageTooLarge, Reason::kSecurityError, Reason::kHasMoved,
    Reason::kSuspended,       Reason::kRelayDenied,   Reason::kSystemError,
    Reason::kNetworkError,    Reason::kVirus,         Reason::kContentRejected,
    Reason::kNotAccept,       Reason::kDelivered,     Reason::kComplaint,
    Reason::kAutoReply,
};

}  // namespace

absl::string_view ReasonName(Reason reason) {
  for (const ReasonEntry& e : kReasons) {
    if (e.reason == reason) return e.name;
  }
  return "unknown";
}

std::optional<Reason> ParseReason(absl::string_view name) {
  for (const ReasonEntry& e : kReasons) {
    if (e.name == name) return e.reason;
  }
  return std::nullopt;
}

absl::string_view BounceClassName(BounceClass c) {
  switch (c) {
    case BounceClass::kNone:
      return "none";
    case BounceClass::kSoft:
      return "soft";
    case BounceClass::kHard:
      return "hard";
  }
  return "soft";
}

std::optional<BounceClass> ParseBounceClass(absl::string_view name) {
  if (name == "none") return BounceClass::kNone;
  if (name == "soft") return BounceClass::kSoft;
  if (name == "hard") return BounceClass::kHard;
  return std::nullopt;
}

BounceClass ClassOfReason(Reason reason) {
  switch (reason) {
    case Reason::kUserUnknown:
    case Reason::kHostUnknown:
    case Reason::kHasMoved:
    case Reason::kNotAccept:
      return BounceClass::kHard;
    case Reason::kDelivered:
    case Reason::kComplaint:
    case Reason::kAutoReply:
      return BounceClass::kNone;
    default:
      return BounceClass::kSoft;
  }
}

const Reason* AllReasons(int* count) {
  *count = static_cast<int>(sizeof(kAll) / sizeof(kAll[0]));
  return kAll;
}

}  // namespace deliverd::hygiene::bounce
