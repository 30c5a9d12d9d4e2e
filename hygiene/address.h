// Mailbox address parsing and normalisation for the list-hygiene engine.
//
// ParseAddress() is the single gate every address passes before anything else
// in hygiene/ (verifier, cleaner, policy) or the server sees it. It answers one
// question: "can this string be put, as it stands after normalisation, into an
// SMTP RCPT TO command?" and, if so, returns the form to send and to dedupe on.
// Deliverability (MX, null MX, NXDOMAIN, special-use names such as .test or
// .invalid, disposable domains, role accounts) is the verifier's job, not this
// unit's: a syntactically sendable address to a domain that cannot receive mail
// is accepted here.
//
// Contract
//   * Pure function of its input; no shared state; safe to call from any number
//     of threads at once (libidn2's conversion functions are re-entrant).
//     Each thread memoises its last IDN domain conversions (64 names of at
//     most 255 octets, about 50 KB at most): invisible in the results, since
//     the conversion is itself a pure function.
//   * Plain ASCII addresses take a one-pass shortcut
//     (hygiene/address_fast_path.h) with the same results.
//   * Total: any byte sequence, including invalid UTF-8 and embedded NULs,
//     gives either a ParsedAddress or absl::InvalidArgumentError. It never
//     reads out of bounds and never aborts.
//   * Errors carry a stable reason code, then ": ", then a human explanation:
//     "syntax.missing_at: ...". Callers branch on AddressErrorCode(), never on
//     the explanation. Explanations never echo input bytes (the input is
//     hostile and may end up in logs or reports); offending characters are
//     named as U+XXXX and positions as octet offsets.
//   * Work is bounded: input longer than 4096 octets is refused before any IDN
//     processing (Punycode decoding is quadratic in the worst case, and nothing
//     that long can normalise to a 254-octet address).
//
// Reason codes (stable; add new ones, never rename):
//   syntax.empty               nothing but spaces
//   syntax.control_character   C0, DEL or C1 control anywhere (CR/LF/NUL: SMTP
//                              command and header injection)
//   syntax.invalid_utf8        malformed, overlong, surrogate or >U+10FFFF
//   syntax.unsafe_character    invisible, bidirectional override, line or
//                              paragraph separator, non-ASCII space,
//                              private-use, noncharacter, U+FFFD, or a
//                              look-alike canonically equivalent to ASCII
//                              (U+037E, U+1FEF, U+212A); ZWNJ/ZWJ unless
//                              between two non-ASCII characters (Persian,
//                              Indic and emoji need them)
//   syntax.whitespace          a space outside a quoted local part
//   syntax.missing_at          no "@" separating local part and domain
//   syntax.multiple_at         a second unquoted "@"
//   syntax.invalid_local_part  bad dot-atom / quoted-string, comments, obsolete
//                              forms, display names or angle brackets
//   syntax.local_too_long      local part as sent > 64 octets
//   syntax.invalid_domain      bad hostname label, empty label, numeric TLD,
//                              reserved "??--" label
//   syntax.dotless_domain      a single-label domain (not routable on the
//                              public internet)
//   syntax.label_too_long      a domain label (A-label form) > 63 octets
//   syntax.domain_too_long     domain (A-label form, no trailing dot) > 253
//                              octets, i.e. > 255 octets in DNS wire form
//   syntax.address_too_long    normalized form > 254 octets, or input > 4096
//   syntax.idn                 libidn2 refused the name, or an "xn--" label
//                              does not survive a round trip
//   syntax.invalid_ip_literal  address literal that is not IPv4 or "IPv6:"
//
// Deliberate choices (RFC 5321 decides what can be sent; RFC 5322 is consulted
// only for parsing, and is overruled where it would accept unsendable text):
//   * Only a bare mailbox: no display name, no angle brackets. Those belong to
//     header parsing, which happens before addresses reach this unit.
//   * RFC 5322 comments "(...)", folding whitespace and CFWS around atoms, and
//     the obsolete local-part forms ("a".b, a . b) are rejected: none of them
//     can appear in an SMTP path, and silently dropping comments would let two
//     different inputs collapse into one address without the caller noticing.
//   * Leading and trailing U+0020 spaces are trimmed (copy-paste residue). Tabs
//     and other controls are not trimmed but rejected: they are never residue
//     we want to tolerate, and CR/LF in particular are injection attempts.
//   * The local part keeps its case (RFC 5321 allows case-sensitive mailboxes)
//     and its bytes: non-ASCII UTF-8 (RFC 6531) is accepted and sets smtputf8,
//     but it is not NFC-normalised. RFC 6532 asks senders to prefer NFC, yet
//     the mailbox name belongs to the receiving MTA, and this layer links no
//     Unicode normaliser (libidn2 normalises only inside its own calls).
//     Consequences: two spellings that differ only in normalisation do not
//     dedupe to one, and lengths are counted on the bytes as given. The few
//     characters whose NFC form is ASCII are refused instead (see
//     syntax.unsafe_character), so no accepted local part can turn into a
//     forbidden ASCII one downstream.
//   * A quoted local part is unquoted when its content is a valid dot-atom
//     ("a.b" -> a.b) and otherwise re-quoted with the fewest escapes (only '"'
//     and '\'), so equal mailboxes get equal normalized strings. Unnecessary
//     escapes on input are accepted and dropped, including an escaped non-ASCII
//     character (RFC 5321 allows only ASCII after '\'; accepting more costs
//     nothing, as the output never contains it). quoted_local_part describes
//     local_part as sent.
//   * An empty quoted local part ("") is rejected: legal in the grammar, but no
//     real mailbox has it and many MTAs mishandle it.
//   * A local part (or a dot-separated atom of it) may not start with a
//     combining mark: it would render fused to the preceding '@', '"' or '.'.
//     Only the generic combining-mark blocks are recognised (no Unicode tables
//     are linked into this layer).
//   * Domains: LDH labels, at least two of them, top-level label not all
//     digits (so a bare dotted quad is never mistaken for a host name). One
//     trailing dot (the DNS root) is stripped. Labels with "--" in positions
//     3-4 other than "xn--" are rejected: they are reserved for IDNA prefixes
//     and registries refuse them. Whether the TLD exists is left to DNS.
//   * IDN: U-labels are converted with libidn2 (UTS #46 non-transitional, NFC
//     input) and the result is checked again as an LDH hostname. We do not pass
//     IDN2_USE_STD3_ASCII_RULES because libidn2 2.3 then silently deletes
//     characters such as '_' and ';' instead of failing; our own LDH check
//     after conversion rejects them instead. Every name with an A-label is
//     converted to Unicode and back and must reproduce itself, which catches
//     Punycode that decodes to disallowed or non-normalised text.
//   * Address literals: "[192.0.2.1]" and "[IPv6:...]" (tag case-insensitive)
//     are accepted and normalised through inet_pton/inet_ntop (RFC 5952 text
//     for IPv6). Other tags are rejected: none is registered.
//
// Measured against python-email-validator's test cases
// (bench/address_corpus_check), the remaining differences are deliberate:
//   * stricter: display names and angle brackets are refused (see above).
//   * looser: a trailing root dot is stripped, not refused; IP literals are
//     accepted (the contract asks for them); special-use domains (.arpa,
//     .invalid, .local, .localhost, .onion, .test) are left to the verifier;
//     a TLD only has to be not all-numeric ("tld-2" passes), because DNS, not
//     syntax, knows which TLDs exist; SMTPUTF8 is always available to us, so
//     Unicode local parts are accepted and flagged, never refused.
//   * different form: no NFC on the local part (above), so compatibility
//     ideographs such as U+F96E are kept and a presentation form such as U+FB2C
//     counts 3 octets, where NFC would make it 6.
//
// Why hand-written: nothing packaged in Debian validates RFC 5321 mailboxes
// with SMTPUTF8 and IDN together; libidn2 covers only the domain, and
// regex-based checks cannot express quoting and length rules reliably.

#ifndef DELIVERD_HYGIENE_ADDRESS_H_
#define DELIVERD_HYGIENE_ADDRESS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

// The RFC 5321 limits the reason codes above name (octets; the domain
// without its trailing root dot, in A-label form).
inline constexpr size_t kMaxLocalPartOctets = 64;
inline constexpr size_t kMaxDomainOctets = 253;
inline constexpr size_t kMaxLabelOctets = 63;
inline constexpr size_t kMaxAddressOctets = 254;

struct ParsedAddress {
  // The local part as it will be sent: a dot-atom, or a minimally escaped
  // quoted-string when the content is not a dot-atom. Case preserved.
  std::string local_part;
  // Lower-case A-labels, or the address literal "[...]" in normalised form.
  std::string domain_ascii;
  // U-labels for display; equal to domain_ascii when there is no IDN label.
  std::string domain_unicode;
  // local_part "@" domain_ascii: what we send to and dedupe on.
  std::string normalized;
  // The local part contains non-ASCII, so the transaction needs SMTPUTF8.
  bool smtputf8 = false;
  // local_part is a quoted-string.
  bool quoted_local_part = false;
  // domain_ascii is an address literal.
  bool ip_literal = false;
};

// Parses one mailbox "local@domain" (no display name, no angle brackets).
// On failure returns absl::InvalidArgumentError whose message starts with one
// of the reason codes listed above.
absl::StatusOr<ParsedAddress> ParseAddress(absl::string_view input);

// ParseAddress without trying its common-case shortcut first
// (hygiene/address_fast_path.h): for a caller that has just tried
// ParseCommonAsciiAddress itself and seen it decline, and the reference the
// shortcut is tested against. Same results as ParseAddress for every input.
absl::StatusOr<ParsedAddress> ParseAddressWithoutShortcut(
    absl::string_view input);

// The reason code of an error returned by ParseAddress ("syntax.missing_at").
// Empty for an OK status or a message that carries no reason code.
std::string AddressErrorCode(const absl::Status& status);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_ADDRESS_H_
