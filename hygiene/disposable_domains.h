// Disposable (throwaway) e-mail domains: mailinator.com, 10minutemail.com...
//
// An address at such a domain usually works for minutes or hours and then
// nobody reads it; the verifier reports it as risky
// (hygiene/offline_verdict.h).
//
// The list is hygiene/data/disposable_domains.txt: the disposable-email-domains
// project's blocklist (CC0 1.0; source, version and date in the file's
// header), embedded into the library at build time.
//
// Matching: the domain itself or any parent domain, so "x.mailinator.com"
// matches the entry "mailinator.com" (many providers hand out subdomains).
// ASCII case-insensitive; one trailing root dot is ignored. Input is the
// A-label form (ParsedAddress::domain_ascii): an IDN domain matches only if
// its xn-- form is listed. An address literal ("[192.0.2.1]") never matches.
// Thread-safe; the list is indexed once, on first use.

#ifndef DELIVERD_HYGIENE_DISPOSABLE_DOMAINS_H_
#define DELIVERD_HYGIENE_DISPOSABLE_DOMAINS_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

// True if `ascii_domain` or one of its parent domains is a listed disposable
// domain.
bool IsDisposableDomain(absl::string_view ascii_domain);

// The number of domains in the embedded list (for reports and tests).
size_t DisposableDomainCount();

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_DISPOSABLE_DOMAINS_H_
