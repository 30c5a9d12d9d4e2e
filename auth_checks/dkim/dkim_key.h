// DKIM public-key records: parse and lint what a domain publishes in TXT at
// <selector>._domainkey.<domain> (RFC 6376 section 3.6.1; Ed25519 keys per
// RFC 8463), so a domain report can say whether a selector's key works, how
// strong it is, and what to fix.
//
// Contract
//   * ParseDkimKeyRecord() takes the record text with the TXT strings already
//     joined (dns::Record::data). It never fails: every problem becomes a
//     Finding (see auth_checks/finding.h), and the fields hold whatever could
//     be read. A record with any kError finding is one a verifier ignores or
//     cannot use.
//   * Grammar handled: tag=value pairs separated by ';' (a trailing ';' is
//     allowed), folding white space (SP, HTAB, CRLF) around names, '=' and
//     values and inside values. Tag names are case-sensitive. A repeated tag
//     is an error; an unknown tag is ignored and noted (kInfo).
//   * Tags: v (if present, must be first and "DKIM1"); k ("rsa", the default,
//     or "ed25519"); p (base64, required; empty means the key is revoked);
//     h (colon-separated hash names; empty `hashes` means "any"; sha1 listed
//     is flagged as weak); t (flags: y testing, s strict; unknown flags are
//     noted); s (service types: "*" or "email"; a list naming neither makes
//     the key unusable for mail); n (notes, kept as published).
//   * Key size: RSA keys are DER SubjectPublicKeyInfo, decoded with OpenSSL 3
//     (d2i_PUBKEY) and measured with EVP_PKEY_get_bits; trailing bytes after
//     the DER are an error. Ed25519 keys are the raw 32-byte public key.
//     RSA under 1024 bits is an error, under 2048 a warning.
//   * CheckDkimKeyAnswer() interprets the DNS answer to the TXT query:
//     NXDOMAIN or NODATA -> dkim.no_record (kError); more than one TXT record
//     -> dkim.multiple_records (kError; verifiers may pick either); a DNS
//     failure (SERVFAIL, REFUSED, timeout, malformed, other) ->
//     dkim.dns_temporary (kWarning: the key is unknown for now, not broken).
//   * Pure functions; thread-safe; no DNS access (the caller looks up
//     DkimKeyName(selector, domain) as dns::RrType::kTxt).
//
// Finding codes: dkim.no_record, dkim.multiple_records, dkim.dns_temporary,
// dkim.syntax, dkim.bad_version, dkim.unknown_key_type, dkim.bad_key,
// dkim.revoked, dkim.key_too_short, dkim.testing, dkim.strict,
// dkim.sha1_allowed, dkim.no_usable_hash, dkim.unknown_hash,
// dkim.unknown_flag, dkim.not_for_email, dkim.unknown_service,
// dkim.unknown_tag.
//
// Why hand-written: the key record is a small tag-list grammar, and no Debian
// library parses DKIM key records on their own (the DKIM libraries bundle it
// inside signing/verification and do not report lint-level detail). OpenSSL
// does the only hard part, the DER decoding of the key.
#ifndef DELIVERD_AUTH_CHECKS_DKIM_DKIM_KEY_H_
#define DELIVERD_AUTH_CHECKS_DKIM_DKIM_KEY_H_

#include <string>
#include <string_view>
#include <vector>

#include "auth_checks/dns/resolver.h"
#include "auth_checks/finding.h"

namespace deliverd::auth_checks::dkim {

struct DkimKey {
  bool revoked = false;  // p= is empty.
  bool testing = false;  // t=y
  bool strict = false;   // t=s
  // "rsa" or "ed25519" as published (k=; "rsa" when absent); whatever k= said
  // when unknown; empty when there is no record to read.
  std::string key_type;
  int key_bits = 0;  // 0 when the key is revoked, missing or undecodable.
  // h= as published, in order (unknown names included); empty: any hash.
  std::vector<std::string> hashes;
  std::vector<std::string> services;  // s= as published; empty: "*".
  std::string notes;                  // n= as published.
  std::string record;                 // The TXT record as published.
  std::vector<Finding> findings;

  // No kError finding.
  bool usable() const;
};

// "<selector>._domainkey.<domain>" (a trailing dot on domain is dropped).
std::string DkimKeyName(std::string_view selector, std::string_view domain);

// Parses and lints one key record (TXT strings already joined).
DkimKey ParseDkimKeyRecord(std::string_view record);

// The report for one selector from the answer to its TXT query.
DkimKey CheckDkimKeyAnswer(const dns::Answer& answer);

}  // namespace deliverd::auth_checks::dkim

#endif  // DELIVERD_AUTH_CHECKS_DKIM_DKIM_KEY_H_
