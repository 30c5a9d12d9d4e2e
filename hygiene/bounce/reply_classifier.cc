// SMTP reply classification; see reply_classifier.h for the contract, the
// order of evaluation and the mapping decisions.
#include "hygiene/bounce/reply_classifier.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hygiene/bounce/phrase_matcher.h"

namespace deliverd::hygiene::bounce {
namespace {

// What a permanent (5xx) reply means for delivery when it is not hard. Hard
// reasons always give kBounced.
enum class Perm {
  kFail,   // kFailed
  kBlock,  // kBlocked
  kRetry,  // kTransient even on a 5xx (RFC-sanctioned exceptions)
};

// ---------------------------------------------------------------------------
// Enhanced codes, RFC 3463 and the IANA "Enumerated Status Codes" registry.
// `specific` entries decide on their own; the others are defaults used only
// when no keyword rule matches (receivers often use them loosely).
struct CodeEntry {
  int subject;
  int detail;
  Reason reason;
  Perm perm;
  bool specific;
};

constexpr CodeEntry kCodes[] = {
    // X.1.x addressing status.
    {1, 0, Reason::kUnknown, Perm::kFail, false},     // "other address status"
    {1, 1, Reason::kUserUnknown, Perm::kFail, true},  // bad destination mailbox
    {1, 2, Reason::kHostUnknown, Perm::kFail, true},  // bad destination system
    {1, 3, Reason::kUserUnknown, Perm::kFail, true},  // bad mailbox syntax
    {1, 4, Reason::kUserUnknown, Perm::kFail, true},  // ambiguous mailbox
    {1, 6, Reason::kHasMoved, Perm::kFail, true},     // moved, no forwarding
    {1, 7, Reason::kBlocked, Perm::kBlock, true},     // bad *sender* syntax
    {1, 8, Reason::kBlocked, Perm::kBlock, true},     // bad *sender* system
    // RFC 7505 null MX; Microsoft also uses it for "recipient not found", so
    // text may refine it (both are hard).
    {1, 10, Reason::kNotAccept, Perm::kFail, false},
    // X.2.x mailbox status.
    {2, 0, Reason::kUnknown, Perm::kFail, false},
    // Disabled mailbox; AOL-style servers used it for blocks, so text first.
    {2, 1, Reason::kSuspended, Perm::kFail, false},
    {2, 2, Reason::kMailboxFull, Perm::kRetry, true},  // see header
    {2, 3, Reason::kMessageTooLarge, Perm::kFail, true},
    {2, 4, Reason::kSystemError, Perm::kFail, false},  // list expansion
    // X.3.x mail system status.
    {3, 4, Reason::kMessageTooLarge, Perm::kFail, true},
    // X.4.x network and routing.
    {4, 4, Reason::kHostUnknown, Perm::kFail, false},  // unable to route
    {4, 7, Reason::kExpired, Perm::kFail, true},       // delivery time expired
    // X.5.x protocol.
    {5, 3, Reason::kRateLimited, Perm::kRetry, true},    // too many recipients
    {5, 6, Reason::kSecurityError, Perm::kFail, false},  // AUTH line too long
    // X.6.x content.
    {6, 6, Reason::kSystemError, Perm::kFail, false},  // content unavailable
    {6, 7, Reason::kSystemError, Perm::kFail, false},  // non-ASCII address
    {6, 8, Reason::kSystemError, Perm::kFail, false},  // UTF-8 reply needed
    // X.7.x security and policy: never hard except 7.17/7.18 (RFC 7293,
    // the mailbox or domain has a new owner: the person we knew is gone).
    {7, 0, Reason::kPolicy, Perm::kBlock, false},
    {7, 1, Reason::kPolicy, Perm::kBlock, false},
    {7, 2, Reason::kPolicy, Perm::kBlock, false},  // list expansion refused
    {7, 3, Reason::kSecurityError, Perm::kFail, false},
    {7, 4, Reason::kSecurityError, Perm::kFail, false},
    {7, 5, Reason::kSecurityError, Perm::kFail, false},
    {7, 6, Reason::kSecurityError, Perm::kFail, false},
    {7, 7, Reason::kSecurityError, Perm::kFail, false},
    {7, 8, Reason::kSecurityError, Perm::kFail, false},   // bad credentials
    {7, 9, Reason::kSecurityError, Perm::kFail, false},   // mechanism too weak
    {7, 10, Reason::kSecurityError, Perm::kFail, false},  // encryption needed
    {7, 11, Reason::kSecurityError, Perm::kFail, false},
    {7, 12, Reason::kSecurityError, Perm::kFail, false},
    {7, 13, Reason::kSecurityError, Perm::kFail, false},  // our account off
    {7, 14, Reason::kSecurityError, Perm::kFail, false},
    {7, 15, Reason::kPolicy, Perm::kBlock, false},  // priority refused
    {7, 16, Reason::kMessageTooLarge, Perm::kFail, false},
    {7, 17, Reason::kHasMoved, Perm::kFail, true},  // mailbox owner changed
    {7, 18, Reason::kHasMoved, Perm::kFail, true},  // domain owner changed
    {7, 19, Reason::kSystemError, Perm::kFail, false},
    {7, 20, Reason::kSecurityError, Perm::kBlock, false},  // no DKIM
    {7, 21, Reason::kSecurityError, Perm::kBlock, false},
    {7, 22, Reason::kSecurityError, Perm::kBlock, false},
    {7, 23, Reason::kSecurityError, Perm::kBlock, false},  // SPF failed
    {7, 24, Reason::kSecurityError, Perm::kBlock, false},
    {7, 25, Reason::kSecurityError, Perm::kBlock, false},  // reverse DNS
    {7, 26, Reason::kSecurityError, Perm::kBlock, false},  // auth checks
    {7, 27, Reason::kPolicy, Perm::kBlock, false},         // sender has null MX
    {7, 28, Reason::kRateLimited, Perm::kBlock, false},    // mail flood
    {7, 29, Reason::kSecurityError, Perm::kBlock, false},  // ARC
    {7, 30, Reason::kSecurityError, Perm::kFail, false},   // REQUIRETLS
};

// Defaults for a subject whose detail is not in kCodes.
struct SubjectDefault {
  Reason reason;
  Perm perm;
};
SubjectDefault DefaultForSubject(int subject) {
  switch (subject) {
    case 3:
      return {Reason::kSystemError, Perm::kFail};
    case 4:
      return {Reason::kNetworkError, Perm::kFail};
    case 5:
      return {Reason::kSystemError, Perm::kFail};
    case 6:
      return {Reason::kContentRejected, Perm::kBlock};
    case 7:
      return {Reason::kPolicy, Perm::kBlock};
    default:  // 0, 1, 2 and undefined subjects: say nothing we do not know
      return {Reason::kUnknown, Perm::kFail};
  }
}

// ---------------------------------------------------------------------------
// Keyword rules. Keywords are lower case, separated by '|'; each must start
// at a word start in the (lower-cased) text; "a*b" means "a", later "b".
// Order matters: the first matching rule wins.
struct TextRule {
  const char* name;
  Reason reason;
  Perm perm;
  const char* keywords;
};

constexpr TextRule kTextRules[] = {
    // Malware first: the most specific content verdict, whatever else the
    // text says.
    {"virus", Reason::kVirus, Perm::kBlock,
     "virus|malware|infected|trojan|ransomware"},
    // The receiver rejects our *sender* (address, domain, its verification).
    // Such texts often quote a "user unknown" about the sender, which must
    // not make the recipient hard, hence before the address rules.
    {"sender_rejected", Reason::kBlocked, Perm::kBlock,
     "sender address rejected|sender verify failed|sender verification|"
     "verification failed for|sender rejected|sender domain|"
     "sender is not allowed|sender not allowed|from address rejected|"
     "envelope sender|return path|provide a valid from|"
     "from address is invalid|invalid from address|mismatches client ip|"
     "does not match client ip"},
    // Named blocklists and reputation: about us, never the address.
    {"blocklist", Reason::kBlocked, Perm::kBlock,
     "spamhaus|spamcop|barracuda|sorbs|dnsbl|rbl|blacklist|black list|"
     "blocklist|block list|denylist|deny list|listed at|listed on|"
     "listed by|is listed in|are listed in|reputation|complaints|banned|"
     "blocked using|"
     "client host rejected|not accepted from this ip|traffic not accepted|"
     "ip address is blocked|your ip|sending ip|connections will not be "
     "accepted"},
    // This message looked like spam or phishing.
    {"spam", Reason::kSpamDetected, Perm::kBlock,
     "spam|unsolicited|junk mail|bulk mail|phish|ube,|ube |ube)|ube;"},
    // A refusal of this message because its content (attachments, links)
    // is a security risk to the recipient (Gmail's wording): the receiver's
    // content policy, not our reputation, so before the "blocked" word.
    {"content_security", Reason::kPolicy, Perm::kBlock,
     "security issue|security risk|potential security|because its content"},
    // The message itself is malformed (RFC 5322 header rules): its content,
    // before the authentication words a "duplicate DKIM-Signature header"
    // would match.
    {"message_format", Reason::kContentRejected, Perm::kBlock,
     "duplicate header|header are not accepted|header is not accepted|"
     "headers are not accepted|malformed header|invalid header|"
     "rfc 5322 compliant|rfc5322 compliant|not rfc 5322|not rfc5322"},
    // The message failed the receiver's authentication checks.
    {"message_auth", Reason::kSecurityError, Perm::kBlock,
     "dmarc|dkim|spf|sender policy framework|unauthenticated|"
     "not authenticated"},
    // Any other block word: still the sender's problem.
    {"blocked", Reason::kBlocked, Perm::kBlock, "blocked"},
    // The server we talked to will not relay to that domain.
    {"relay", Reason::kRelayDenied, Perm::kFail,
     "relay access denied|relaying denied|relay denied|relay not permitted|"
     "not permitted to relay|unable to relay|relaying not allowed|"
     "relay prohibited|we do not relay|allowed rcpthosts|"
     "not allowed to relay|relaying to|configured to relay|"
     // A sending relay (a provider's submission service) refusing a sender
     // identity we have not verified with it: the relay refuses us.
     "address is not verified|identities failed the check"},
    // RFC 5321 4.5.3.1.10: too many recipients is temporary even as 552.
    {"too_many_recipients", Reason::kRateLimited, Perm::kRetry,
     "too many recipients|recipient limit|too many rcpt"},
    // Throttling of our sending.
    {"rate", Reason::kRateLimited, Perm::kBlock,
     "rate limit|rate-limit|ratelimit|too many connections|"
     "too many messages|too many emails|too many mails|throttl|"
     "sending rate|unusual rate|exceeded the rate|receiving mail at a rate|"
     "temporarily deferred|"
     "connection limit|concurrent connections|too many concurrent"},
    // Our relay wants credentials or TLS (session problems: failed).
    {"relay_auth", Reason::kSecurityError, Perm::kFail,
     "authentication required|authentication failed|"
     "authentication credentials|auth failed|invalid credentials|"
     "must issue a starttls|must use starttls|starttls required|"
     "tls required|encryption required|requires encryption|"
     // The other side cannot do the TLS our policy requires.
     "does not support tls|doesn't support tls|tls is not supported|"
     "tls not available|starttls failed|tls negotiation failed"},
    {"size", Reason::kMessageTooLarge, Perm::kFail,
     "message too large|message is too large|too big|size limit|"
     "size exceeds|exceeds size|maximum message size|message size|"
     "message length exceeds|exceeded the size|message exceeds|"
     // RFC 5322 2.1.1 line-length limit: a size limit on the message's
     // lines; the next message, wrapped, passes.
     "line limit exceeded|line too long|line length exceeded"},
    {"content", Reason::kContentRejected, Perm::kBlock,
     "content rejected|message content|content policy|"
     "prohibited attachment|attachment not allowed|"
     "attachments not allowed|executable|rejected due to content|"
     "media type"},
    // Network and routing trouble (mostly DSN diagnostics); before the
    // mailbox rules because Postfix words them "delivery temporarily
    // suspended: connect to ...".
    {"network", Reason::kNetworkError, Perm::kFail,
     "connection timed out|timed out|connection refused|connection reset|"
     "no route to host|network is unreachable|lost connection|mail loop|"
     "routing loop|too many hops|hop count exceeded|loops back to myself|"
     "network error"},
    // Explicit policy words, still before the address rules: RFC 5321's
    // example text for 550 mentions "policy reasons".
    {"policy", Reason::kPolicy, Perm::kBlock,
     "policy|administrative prohibition|prohibited|not authorized|"
     "unauthorized"},
    {"greylist", Reason::kPolicy, Perm::kBlock,
     "greylist|graylist|grey-list|gray-list"},
    {"mailbox_full", Reason::kMailboxFull, Perm::kRetry,
     "over quota|quota exceeded|exceeded quota|exceeds quota|"
     "exceeded its quota|mailbox full|mailbox is full|inbox is full|"
     "mailbox size limit|out of storage|storage space|exceeded storage"},
    {"suspended", Reason::kSuspended, Perm::kFail,
     "disabled|deactivated|suspended|inactive|no longer active|frozen"},
    // RFC 5321's 551 text; mailbox moved.
    {"moved", Reason::kHasMoved, Perm::kFail,
     "has moved|moved permanently|mailbox moved|user not local|"
     "not local; please try"},
    // RFC 7505 / 7504 wording.
    {"not_accept", Reason::kNotAccept, Perm::kFail,
     "null mx|does not accept mail|doesn't accept mail|accepts no mail|"
     // No MX at all: the sending receiver will not fall back to the A
     // record, so the domain takes no mail from it (both hard).
     "no mx record|no mx records"},
    {"host_unknown", Reason::kHostUnknown, Perm::kFail,
     "host unknown|unknown host|host not found|domain not found|"
     "no such domain|unknown domain|domain does not exist|"
     "domain doesn't exist|name service error|nxdomain|unrouteable|"
     "unroutable|no mx|bad destination system|host or domain name not found|"
     "domain name not found|invalid domain|domain is not reachable"},
    // The mailbox does not exist. "mailbox unavailable" is RFC 5321's 550
    // example; receivers overwhelmingly use it for nonexistent recipients,
    // and the policy variants are caught by the rules above.
    {"user_unknown", Reason::kUserUnknown, Perm::kFail,
     "user unknown|unknown user|no such user|no such mailbox|"
     "no such recipient|no such address|no such account|mailbox not found|"
     "mailbox unavailable|mailbox does not exist|mailbox doesn't exist|"
     "recipient unknown|unknown recipient|recipient not found|"
     "recipientnotfound|recipnotfound|recipient does not exist|"
     "invalid recipient|invalid mailbox|address does not exist|"
     "address doesn't exist|account*does not exist|account*doesn't exist|"
     "user does not exist|user doesn't exist|doesn't have a*account|"
     "does not have a*account|not a valid mailbox|not a valid recipient|"
     "no mailbox|addressee unknown|unknown address|bad recipient|"
     "recipient address rejected: access denied|no longer valid|"
     "no longer exists|is not a known user|unknown local part|"
     "illegal alias|mailbox name not allowed|user not listed|"
     "recipient not listed|not listed in directory|"
     "not listed in the directory|not listed in our directory"},
    {"expired", Reason::kExpired, Perm::kFail,
     "expired|too long in queue|retry timeout exceeded|"
     "retry time exceeded|could not be delivered within"},
    {"system", Reason::kSystemError, Perm::kFail,
     "insufficient system storage|local error|local problem|internal error|"
     "system error|server error|configuration error|service unavailable|"
     "temporary failure|temporarily unavailable|server busy"},
    // Weak refusal words: only when nothing more precise matched.
    {"refused", Reason::kPolicy, Perm::kBlock,
     "access denied|not allowed|not permitted|refused|denied"},
};

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Finds `needle` in `hay` at or after `from`, starting at a word start.
size_t FindAtWordStart(absl::string_view hay, absl::string_view needle,
                       size_t from) {
  while (from <= hay.size()) {
    size_t pos = hay.find(needle, from);
    if (pos == absl::string_view::npos) return pos;
    if (pos == 0 || !IsWordChar(hay[pos - 1])) return pos;
    from = pos + 1;
  }
  return absl::string_view::npos;
}

bool KeywordMatches(absl::string_view lower, absl::string_view keyword) {
  size_t from = 0;
  bool first = true;
  for (absl::string_view part : absl::StrSplit(keyword, '*')) {
    size_t pos =
        first ? FindAtWordStart(lower, part, from) : lower.find(part, from);
    if (pos == absl::string_view::npos) return false;
    from = pos + part.size();
    first = false;
  }
  return true;
}

constexpr size_t kTextRuleCount = sizeof(kTextRules) / sizeof(kTextRules[0]);

// Every keyword of kTextRules in one matcher (a "a*b" keyword by its first
// part; the rest is checked when that part occurs), with the rule each
// belongs to. Built once.
struct KeywordIndex {
  std::vector<size_t> rule_of;             // by phrase index
  std::vector<absl::string_view> starred;  // the whole "a*b" keyword, or ""
  std::vector<int> star_slot;  // by phrase index: its "a*b" keyword's slot
  std::unique_ptr<PhraseMatcher> matcher;
};

// "a*b" keywords in kTextRules; their results are kept per call in a
// fixed array of this size.
constexpr size_t kMaxStarredKeywords = 16;

const KeywordIndex& Keywords() {
  static const KeywordIndex* index = [] {
    auto* out = new KeywordIndex();
    std::vector<absl::string_view> first_parts;
    for (size_t rule = 0; rule < kTextRuleCount; ++rule) {
      for (absl::string_view k : absl::StrSplit(kTextRules[rule].keywords, '|')) {
        if (k.empty()) continue;
        const size_t star = k.find('*');
        first_parts.push_back(k.substr(0, star));
        out->rule_of.push_back(rule);
        out->starred.push_back(star == absl::string_view::npos ? "" : k);
        out->star_slot.push_back(-1);
        if (star != absl::string_view::npos) {
          int slots = 0;
          for (int slot : out->star_slot) slots += slot >= 0;
          out->star_slot.back() = slots;
        }
      }
    }
    int slots = 0;
    for (int slot : out->star_slot) slots += slot >= 0;
    if (slots > static_cast<int>(kMaxStarredKeywords)) std::abort();
    PhraseMatcher::Options options;
    options.word_start = true;
    out->matcher = std::make_unique<PhraseMatcher>(first_parts, options);
    return out;
  }();
  return *index;
}

// The first rule in kTextRules' order with a keyword in `text` (rules that
// would make a hard result skipped when `no_hard`), or kTextRuleCount.
size_t FirstMatchingRule(absl::string_view text, bool no_hard) {
  const KeywordIndex& index = Keywords();
  size_t best = kTextRuleCount;
  std::string lower;  // only for "a*b" keywords, made when one is needed
  // An "a*b" keyword is looked for in the whole text once, however often
  // its first part occurs (-1 not yet, 0 absent, 1 present).
  std::array<signed char, kMaxStarredKeywords> starred_found;
  starred_found.fill(-1);
  index.matcher->Scan(text, [&](size_t, size_t phrase) {
    const size_t rule = index.rule_of[phrase];
    if (rule >= best) return true;
    if (no_hard &&
        ClassOfReason(kTextRules[rule].reason) == BounceClass::kHard) {
      return true;
    }
    if (const int slot = index.star_slot[phrase]; slot >= 0) {
      if (starred_found[slot] < 0) {
        if (lower.empty()) lower = absl::AsciiStrToLower(text);
        starred_found[slot] = KeywordMatches(lower, index.starred[phrase]);
      }
      if (!starred_found[slot]) return true;
    }
    best = rule;
    return best != 0;
  });
  return best;
}

struct Decision {
  Reason reason;
  Perm perm;
  std::string rule;
};

std::optional<EnhancedStatusCode> QmailStyleCode(int code,
                                                 absl::string_view text) {
  // "(#5.7.1)" anywhere in the text, class equal to the basic code's.
  size_t pos = 0;
  while ((pos = text.find("#", pos)) != absl::string_view::npos) {
    ++pos;
    size_t end = pos;
    while (end < text.size() &&
           (text[end] == '.' || (text[end] >= '0' && text[end] <= '9'))) {
      ++end;
    }
    absl::StatusOr<EnhancedStatusCode> parsed =
        ParseEnhancedStatusCode(text.substr(pos, end - pos));
    if (parsed.ok() && parsed->klass == code / 100) return *parsed;
  }
  return std::nullopt;
}

Decision BasicCodeDefault(int code) {
  switch (code) {
    case 421:
    case 451:
    case 452:
    case 455:
      return {Reason::kSystemError, Perm::kFail, ""};
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
    case 555:
      return {Reason::kSystemError, Perm::kFail, ""};
    case 521:  // RFC 7504: host does not accept mail
    case 556:  // RFC 7504: domain does not accept mail
      return {Reason::kNotAccept, Perm::kFail, ""};
    case 530:  // authentication required
    case 534:  // mechanism too weak
    case 535:  // credentials invalid
    case 538:  // encryption required for mechanism
      return {Reason::kSecurityError, Perm::kFail, ""};
    case 551:  // user not local
      return {Reason::kHasMoved, Perm::kFail, ""};
    case 552:  // exceeded storage allocation
      return {Reason::kMailboxFull, Perm::kRetry, ""};
    default:  // 450, 550, 553, 554, ...: the code alone says too little
      return {Reason::kUnknown, Perm::kFail, ""};
  }
}

}  // namespace

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
      return "accepted";
    case Outcome::kTransient:
      return "transient";
    case Outcome::kBounced:
      return "bounced";
    case Outcome::kBlocked:
      return "blocked";
    case Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

bool IsPermanent(Outcome outcome) {
  return outcome == Outcome::kBounced || outcome == Outcome::kBlocked ||
         outcome == Outcome::kFailed;
}

ReplyClassification ClassifyReply(
    int code, const std::optional<EnhancedStatusCode>& enhanced_in,
    absl::string_view text, const ClassifyOptions& options) {
  ReplyClassification out;
  if (code < 200 || code > 599) {
    out.outcome = Outcome::kFailed;
    out.reason = Reason::kUnknown;
    out.bounce_class = BounceClass::kSoft;
    out.rule = "invalid_code";
    return out;
  }
  const int klass = code / 100;
  if (klass == 2) {
    out.outcome = Outcome::kAccepted;
    out.reason = Reason::kDelivered;
    out.bounce_class = BounceClass::kNone;
    out.rule = "2xx";
    return out;
  }
  if (klass == 3) {
    out.outcome = Outcome::kTransient;
    out.reason = Reason::kUnknown;
    out.bounce_class = BounceClass::kSoft;
    out.rule = "intermediate";
    return out;
  }

  std::optional<EnhancedStatusCode> enhanced = enhanced_in;
  if (enhanced && enhanced->klass != klass) enhanced.reset();
  if (!enhanced) enhanced = QmailStyleCode(code, text);

  const CodeEntry* entry = nullptr;
  if (enhanced) {
    for (const CodeEntry& e : kCodes) {
      if (e.subject == enhanced->subject && e.detail == enhanced->detail) {
        entry = &e;
        break;
      }
    }
  }
  const bool policy_subject = enhanced && enhanced->subject == 7;

  std::optional<Decision> decision;
  // 2. Specific enhanced code.
  if (entry != nullptr && entry->specific) {
    decision = Decision{entry->reason, entry->perm,
                        absl::StrCat("enhanced:", enhanced->ToString())};
  }
  // 3. Keyword rules.
  if (!decision && !text.empty()) {
    // A policy code is never turned into a hard bounce.
    const size_t i = FirstMatchingRule(
        text.substr(0, std::min<size_t>(text.size(), kMaxReplyOctets)),
        policy_subject);
    if (i < kTextRuleCount) {
      const TextRule& rule = kTextRules[i];
      decision =
          Decision{rule.reason, rule.perm, absl::StrCat("text:", rule.name)};
    }
  }
  // 4. Generic enhanced code.
  if (!decision && enhanced) {
    if (entry != nullptr) {
      decision = Decision{entry->reason, entry->perm,
                          absl::StrCat("enhanced:", enhanced->ToString())};
    } else {
      SubjectDefault d = DefaultForSubject(enhanced->subject);
      decision = Decision{d.reason, d.perm,
                          absl::StrCat("subject:", enhanced->subject)};
    }
  }
  // 5. Basic code.
  if (!decision) {
    decision = BasicCodeDefault(code);
    decision->rule = absl::StrCat("code:", code);
  }

  out.reason = decision->reason;
  out.rule = std::move(decision->rule);
  if (klass == 4) {
    out.outcome = Outcome::kTransient;
    out.bounce_class = BounceClass::kSoft;
    return out;
  }
  // 5xx.
  if (options.stage == Stage::kSession &&
      ClassOfReason(out.reason) == BounceClass::kHard) {
    // Session replies are about our sender or session, not the recipient:
    // the receiver refused *us* (see "refused sender" in the header).
    out.reason = Reason::kBlocked;
    out.outcome = Outcome::kBlocked;
    out.bounce_class = BounceClass::kSoft;
    out.rule = absl::StrCat(out.rule, ",session");
    return out;
  }
  if (ClassOfReason(out.reason) == BounceClass::kHard) {
    out.outcome = Outcome::kBounced;
    out.bounce_class = BounceClass::kHard;
    return out;
  }
  out.bounce_class = BounceClass::kSoft;
  switch (decision->perm) {
    case Perm::kBlock:
      out.outcome = Outcome::kBlocked;
      break;
    case Perm::kRetry:
      out.outcome =
          (out.reason == Reason::kMailboxFull && !options.retry_mailbox_full)
              ? Outcome::kFailed
              : Outcome::kTransient;
      break;
    case Perm::kFail:
      out.outcome = Outcome::kFailed;
      break;
  }
  return out;
}

}  // namespace deliverd::hygiene::bounce
