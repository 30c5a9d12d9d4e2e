// Typo suggestions for common mailbox-provider domains: gmial.com ->
// gmail.com, hotmial.com -> hotmail.com, gmail.con -> gmail.com.
//
// The candidates are hygiene/data/common_domains.txt (our own short list of
// large consumer providers), embedded at build time and indexed once.
//
// SuggestDomain(domain) returns a correction, or nothing, by these rules in
// order. Precision matters more than recall: a wrong suggestion sends mail to
// a stranger's domain, a missing one only leaves the address as it was.
//   1. Nothing for a listed domain, an address literal, an empty or overlong
//      name, or a name that is a listed domain cut short at a label boundary
//      ("hotmail.co" could be hotmail.com or a cut-off hotmail.co.uk).
//   2. Top-level typos that are never real TLDs (.con .cmo .ocm .cpm .vom
//      .xom .cim .comm .coom -> .com; .nte .nett -> .net; .ogr .prg -> .org)
//      are corrected for ANY domain (example.con -> example.com): such a name
//      cannot receive mail, so the fix cannot be worse; rule 3 is then
//      applied to the fixed name (gmial.con -> gmail.com). ".co" (Colombia, a
//      real TLD) becomes ".com" only when the result is a listed domain and
//      no listed domain starts with the name + ".co." (rule 1).
//   3. Otherwise the Damerau-Levenshtein distance (optimal string alignment:
//      insertions, deletions, substitutions and transpositions of adjacent
//      characters, each costing 1) to every listed domain, bounded by 2. The
//      bound per candidate depends on its first label, because short names
//      sit one edit away from many real domains: first label of 3 characters
//      or fewer (aol, gmx, web, msn, qq) -> never suggested by distance;
//      4 to 8 (live, gmail, hotmail, fastmail) -> distance 1; 9 or more
//      (googlemail, protonmail, bellsouth) -> distance 2. The 8/9 line was
//      set by running the disposable-domain list through this function:
//      with distance 2 from 6 letters on, real "...mail" names were pulled
//      to a provider (yopmail.fr -> hotmail.fr, famamail.com ->
//      fastmail.com); with this bound 7 of its 8,883 domains get a
//      suggestion, all one edit away (gmial.com, hotmai.com, but also the
//      real lastmail.com -> fastmail.com: one-edit neighbours of a listed
//      provider are the accepted cost). A suggestion is made only when exactly
//      one candidate is at the smallest distance (every listed domain within
//      2 counts for that, whether within its own bound or not): a tie is
//      ambiguous and gives nothing (hotmail.fe: hotmail.fr or hotmail.de?).
// Input is the A-label form (ParsedAddress::domain_ascii), compared ASCII
// case-insensitively; the result is lower-case. Thread-safe. Cost per call:
// for rule 1, a filter on (length, first and last octet) and, only if it
// passes, one hash lookup (listed names and their label-boundary prefixes);
// for other names, a first pass over only the candidates whose own bound is
// 1 or more and whose length is within it (indexed by length), with a
// character-class filter and a table-free one-edit test (bound 1) or a
// banded, early-exit distance table (bound 2); only when one of them is
// within its own bound (otherwise no rule-3 suggestion is possible) the full
// rule-3 search over the candidates within 2 octets of the name's length.
// Stack buffers; no allocation but the result string.

#ifndef DELIVERD_HYGIENE_TYPO_SUGGESTION_H_
#define DELIVERD_HYGIENE_TYPO_SUGGESTION_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace deliverd::hygiene {

// The corrected domain, or nullopt when there is no confident correction.
std::optional<std::string> SuggestDomain(absl::string_view ascii_domain);

// The optimal-string-alignment distance between a and b, or max_distance + 1
// if it is larger than max_distance (max_distance <= 2 is the intended use;
// strings longer than 255 octets give max_distance + 1). Exposed for tests.
int BoundedEditDistance(absl::string_view a, absl::string_view b,
                        int max_distance);

// Whether a and b are at most one edit apart (insertion, deletion,
// substitution or adjacent transposition): BoundedEditDistance(a, b, 1) <= 1
// for strings of up to 255 octets, in one pass without the table, and
// without that function's length cap. Exposed for tests.
bool WithinOneEdit(absl::string_view a, absl::string_view b);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_TYPO_SUGGESTION_H_
