// The offline part of the address verifier: one verdict per address from
// syntax and the embedded lists, without DNS (`deliverctl verify --offline`).
// The DNS checks (MX, null MX, NXDOMAIN) come on top of this in the verifier
// and may turn "unknown" into "deliverable" or "undeliverable".
//
// Verdict mapping (first matching row wins; `reason` is a stable code, add
// new ones, never rename):
//   syntax error          -> undeliverable, reason = ParseAddress's code
//                            ("syntax.missing_at", ...); valid = false and
//                            normalized, role, disposable, suggestion empty.
//   special-use domain    -> undeliverable, "undeliverable.special_use_domain":
//                            the domain is, or is under, a name reserved by
//                            RFC 2606 / RFC 6761 / RFC 7686 that never takes
//                            public mail (.test .example .invalid .localhost
//                            .local .onion .arpa). Known without DNS.
//                            (example.com itself is left to DNS: it publishes
//                            a null MX.)
//   typo suggestion       -> risky, "risky.typo": the domain is probably a
//                            slip for a common provider's (suggestion holds
//                            the corrected address). Risky, not
//                            undeliverable: typo domains are often
//                            registered by typo-squatters that accept mail,
//                            so DNS cannot be relied on to refuse them.
//                            Before "disposable": the disposable list holds
//                            typo-squatted names (gmial.com, hotmial.com),
//                            and the correction is what the sender needs.
//   disposable domain     -> risky, "risky.disposable": the mailbox works for
//                            hours, then nobody reads it.
//   role account          -> risky, "risky.role_account": a shared or
//                            unattended mailbox (noreply@, sales@); mail is
//                            accepted but complaints are likely.
//   otherwise             -> unknown, "ok.syntax": syntactically sendable,
//                            deliverability not checked.
// Offline never answers "deliverable": only the receiving MX can say that.
// The flags role, disposable and smtputf8, and suggestion, are always filled
// in for a valid address, whatever row decided the verdict; reason names only
// the deciding row. Role and typo detection use the local part and domain as
// normalised by ParseAddress (domain_ascii, so IDN domains are matched in
// A-label form). An address literal (user@[192.0.2.1]) gets only the role
// check: it has no domain name to list or correct.

#ifndef DELIVERD_HYGIENE_OFFLINE_VERDICT_H_
#define DELIVERD_HYGIENE_OFFLINE_VERDICT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

enum class Verdict { kDeliverable, kUndeliverable, kRisky, kUnknown };

// "deliverable", "undeliverable", "risky" or "unknown" (the JSON spelling).
absl::string_view VerdictName(Verdict verdict);

struct AddressVerdict {
  std::string address;     // the input, as given
  std::string normalized;  // ParsedAddress::normalized; empty when invalid
  bool valid = false;      // ParseAddress accepted it
  Verdict verdict = Verdict::kUnknown;
  std::string reason;      // stable code, see the table above
  std::string suggestion;  // corrected full address, or empty
  bool role = false;
  bool disposable = false;
  bool smtputf8 = false;
};

// Pure function of `input`; thread-safe; never fails (an unparsable input is
// a verdict, not an error).
AddressVerdict VerifyOffline(absl::string_view input);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_OFFLINE_VERDICT_H_
