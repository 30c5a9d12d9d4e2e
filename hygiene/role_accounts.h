// Role accounts: mailboxes that name a function (postmaster@, sales@,
// noreply@), not a person.
//
// Mail to a role account reaches a shared inbox, a ticket queue or nobody
// (noreply@). Such an address on a marketing list was rarely opted in by the
// people who read it, so it draws complaints; the verifier reports it as
// risky (hygiene/offline_verdict.h), it does not refuse it.
//
// The names come from hygiene/data/role_accounts.txt (RFC 2142's standard
// mailboxes plus our own selection; the file's header says which is which),
// embedded into the library at build time.
//
// Matching: ASCII case-insensitive, after removing a "+tag" (everything from
// the first '+') and the separators '.', '-' and '_'. So "NoReply",
// "no-reply", "no_reply", "no.reply" and "noreply+news" all match "noreply".
// A quoted local part ("\"info\"") is matched on its content. Only the whole
// local part counts: "info.john" and "salesforce" are not role accounts.
// Thread-safe; the list is built once, on first use.

#ifndef DELIVERD_HYGIENE_ROLE_ACCOUNTS_H_
#define DELIVERD_HYGIENE_ROLE_ACCOUNTS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

// True if `local_part` (the part before '@', as ParsedAddress::local_part or
// as typed) names a role mailbox.
bool IsRoleAccount(absl::string_view local_part);

// The key IsRoleAccount() compares: lower-case ASCII, "+tag" and the
// separators '.', '-', '_' removed, surrounding double quotes dropped.
// Exposed for tests and for callers that want to group role variants.
std::string RoleAccountKey(absl::string_view local_part);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_ROLE_ACCOUNTS_H_
