// Bounce message parsing; see bounce_message.h for the kinds recognised, the
// classification rules and the contract.
#include "hygiene/bounce/bounce_message.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "hygiene/bounce/mime_reader.h"
#include "hygiene/bounce/phrase_matcher.h"
#include "hygiene/bounce/reply_classifier.h"
#include "hygiene/bounce/smtp_reply.h"

namespace deliverd::hygiene::bounce {
namespace {

// ---------------------------------------------------------------------------
// Text helpers.

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// Where `needle` first occurs in `hay`, ASCII case-insensitively.
size_t FindCi(absl::string_view hay, absl::string_view needle) {
  if (needle.empty()) return 0;
  if (needle.size() > hay.size()) return absl::string_view::npos;
  // Anchor on the needle's first byte that is not a letter (one case
  // only: memchr finds it; an address has its '@'), else on its first.
  size_t anchor = 0;
  while (anchor < needle.size() && absl::ascii_isalpha(
                                       static_cast<unsigned char>(needle[anchor]))) {
    ++anchor;
  }
  const size_t last = hay.size() - needle.size();
  if (anchor < needle.size()) {
    for (size_t at = hay.find(needle[anchor], anchor);
         at != absl::string_view::npos && at - anchor <= last;
         at = hay.find(needle[anchor], at + 1)) {
      if (absl::EqualsIgnoreCase(hay.substr(at - anchor, needle.size()),
                                 needle)) {
        return at - anchor;
      }
    }
    return absl::string_view::npos;
  }
  const char first_lower = absl::ascii_tolower(needle[0]);
  const char first_upper = absl::ascii_toupper(needle[0]);
  for (size_t i = 0; i <= last; ++i) {
    if ((hay[i] == first_lower || hay[i] == first_upper) &&
        absl::EqualsIgnoreCase(hay.substr(i + 1, needle.size() - 1),
                               needle.substr(1))) {
      return i;
    }
  }
  return absl::string_view::npos;
}

bool ContainsCi(absl::string_view hay, absl::string_view needle) {
  return FindCi(hay, needle) != absl::string_view::npos;
}

// Header-style fields ("Name: value", folded continuation lines, blocks
// separated by blank lines), as in message/delivery-status and
// message/feedback-report bodies and text/rfc822-headers.
struct Field {
  std::string name;  // lower case
  std::string value;
  int block = 0;
};

std::vector<Field> ParseFields(absl::string_view text, size_t max_fields) {
  std::vector<Field> fields;
  int block = 0;
  bool last_blank = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) {
      if (!last_blank) ++block;
      last_blank = true;
      continue;
    }
    last_blank = false;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty() &&
        fields.back().block == block) {
      if (fields.back().value.size() < 4096) {
        absl::StrAppend(&fields.back().value, " ",
                        absl::StripAsciiWhitespace(line));
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0 || colon > 64) continue;
    absl::string_view name = line.substr(0, colon);
    if (name.find(' ') != absl::string_view::npos) continue;
    if (fields.size() >= max_fields) break;
    fields.push_back(
        Field{Lower(name),
              std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))),
              block});
  }
  return fields;
}

// "rfc822; User@Example.COM" -> "User@example.com".
std::string NormalizeAddress(absl::string_view value) {
  size_t semi = value.find(';');
  if (semi != absl::string_view::npos) value = value.substr(semi + 1);
  value = absl::StripAsciiWhitespace(value);
  size_t lt = value.find('<');
  if (lt != absl::string_view::npos) {
    size_t gt = value.find('>', lt);
    if (gt != absl::string_view::npos)
      value = value.substr(lt + 1, gt - lt - 1);
  }
  value = absl::StripAsciiWhitespace(value);
  while (!value.empty() && (value.back() == '.' || value.back() == ',' ||
                            value.back() == ';' || value.back() == ':')) {
    value.remove_suffix(1);
  }
  if (value.size() > 320) value = value.substr(0, 320);
  std::string out(value);
  size_t at = out.rfind('@');
  if (at != std::string::npos) {
    for (size_t i = at; i < out.size(); ++i) {
      out[i] = absl::ascii_tolower(static_cast<unsigned char>(out[i]));
    }
  }
  return out;
}

// Strips the "type;" of a Remote-MTA / Reporting-MTA / Diagnostic-Code.
std::string StripType(absl::string_view value) {
  size_t semi = value.find(';');
  if (semi != absl::string_view::npos && semi < 24) {
    value = value.substr(semi + 1);
  }
  return std::string(absl::StripAsciiWhitespace(value));
}

std::string StripAngles(absl::string_view id) {
  id = absl::StripAsciiWhitespace(id);
  size_t lt = id.find('<');
  if (lt != absl::string_view::npos) {
    size_t gt = id.find('>', lt);
    if (gt != absl::string_view::npos)
      return std::string(id.substr(lt + 1, gt - lt - 1));
  }
  return std::string(id);
}

bool IsLocalChar(unsigned char c) {
  return absl::ascii_isalnum(c) || (c >= 0x80) ||
         strchr(".!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}
bool IsDomainChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '-' || c >= 0x80;
}

struct AddressHit {
  std::string address;  // normalised
  size_t pos;           // where it starts in the text
  size_t end;
};

// Every plausible address in `text` (local@domain.tld), in order.
std::vector<AddressHit> FindAddresses(absl::string_view text, size_t max) {
  std::vector<AddressHit> hits;
  size_t at = 0;
  while (hits.size() < max &&
         (at = text.find('@', at)) != absl::string_view::npos) {
    size_t begin = at;
    while (begin > 0 && at - begin < 128 &&
           IsLocalChar(static_cast<unsigned char>(text[begin - 1]))) {
      --begin;
    }
    size_t end = at + 1;
    while (end < text.size() && end - at < 256 &&
           IsDomainChar(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
    absl::string_view local = text.substr(begin, at - begin);
    absl::string_view domain = text.substr(at + 1, end - at - 1);
    while (!local.empty() && (local.front() == '.' || local.front() == '\'')) {
      local.remove_prefix(1);
    }
    while (!domain.empty() && (domain.back() == '.' || domain.back() == '-')) {
      domain.remove_suffix(1);
    }
    if (!local.empty() && domain.find('.') != absl::string_view::npos &&
        domain.front() != '.') {
      size_t start = at - local.size();
      hits.push_back(
          AddressHit{NormalizeAddress(absl::StrCat(local, "@", domain)), start,
                     at + 1 + domain.size()});
    }
    at = end > at ? end : at + 1;
  }
  return hits;
}

bool IsSystemLocalPart(absl::string_view address) {
  std::string lower = Lower(address.substr(0, address.find('@')));
  return lower == "mailer-daemon" || lower == "postmaster" ||
         lower == "mail-daemon" || lower == "maildaemon" ||
         lower == "mailer_daemon" || absl::StartsWith(lower, "bounce") ||
         lower == "root" || lower == "noreply" || lower == "no-reply" ||
         lower == "abuse" || absl::StartsWith(lower, "mailer-daemon");
}

bool IsVerpAddress(absl::string_view address) {
  std::string lower = Lower(address);
  return absl::StartsWith(lower, "bounce+") ||
         absl::StartsWith(lower, "bounce-") ||
         absl::StartsWith(lower, "bounces+") ||
         absl::StartsWith(lower, "bounces-");
}

// ---------------------------------------------------------------------------
// What the MIME walk collects.

struct Collected {
  // The bounce's own header fields, as the reader found them (values
  // decoded only when read: most are never read).
  std::vector<MimeField> top_headers;
  std::string report_type;  // of a multipart/report, lower case
  std::vector<std::string> delivery_status;  // message/delivery-status texts
  std::vector<std::string> feedback_reports;
  // The same found inside returned messages (a digest of reports, or a
  // report about a returned report): used only when the top level has none.
  std::vector<std::string> nested_delivery_status;
  std::string body_text;  // text parts outside returned messages
  // A part kept undecoded (views into the bounce) until a rule reads it.
  struct RawText {
    absl::string_view body;
    absl::string_view transfer_encoding;
  };
  // text/html outside returned messages (a fallback), decoded by HtmlText()
  // only when there is no plain text.
  std::vector<RawText> html_parts;
  mutable std::optional<std::string> html_text;
  // text/plain inside the returned message, bounded: read only for an
  // upstream MTA's session transcript (see ParseNonStandard), decoded by
  // ReturnedText() only when a recipient needs it.
  std::vector<RawText> returned_text_parts;
  mutable std::optional<std::string> returned_text;
  // Headers of the returned message (message/rfc822, text/rfc822-headers).
  std::string returned_message_id;
  std::string returned_deliverd_id;
  std::string returned_to;
  std::string returned_rcpt;  // X-HmXmrOriginalRecipient (Microsoft JMRP)
  bool has_returned_message = false;
  int parts = 0;
  // ReturnedMessageStart(body_text), once body_text is complete.
  size_t body_returned_start = 0;
};

// A header field value as read (MimeHeaderValue), at most 8 KiB of it.
std::string HeaderText(absl::string_view raw_value) {
  std::string value = MimeHeaderValue(raw_value);
  if (value.size() > 8192) value.resize(8192);
  return value;
}

std::string TopHeader(const Collected& c, absl::string_view name) {
  for (const MimeField& f : c.top_headers) {
    if (absl::EqualsIgnoreCase(f.name, name)) return HeaderText(f.raw_value);
  }
  return "";
}

// The identifiers in the first header block of `text` (returned headers),
// read as ParseFields() reads fields, but only the four wanted ones are
// kept (a returned header has dozens of Received lines).
void NoteReturnedHeaders(absl::string_view text, Collected* c) {
  enum Wanted { kMessageId, kDeliverdId, kTo, kOriginalRecipient, kNone };
  std::optional<std::string> values[kNone];
  std::string* current = nullptr;  // the last field's value, if wanted
  bool have_field = false;
  size_t field_count = 0;
  text = text.substr(0, 64 * 1024);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) break;  // end of block
    if ((line[0] == ' ' || line[0] == '\t') && have_field) {
      if (current != nullptr && current->size() < 4096) {
        absl::StrAppend(current, " ", absl::StripAsciiWhitespace(line));
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0 || colon > 64) continue;
    absl::string_view name = line.substr(0, colon);
    if (name.find(' ') != absl::string_view::npos) continue;
    if (++field_count > 512) break;
    have_field = true;
    Wanted wanted = kNone;
    if (absl::EqualsIgnoreCase(name, "message-id")) {
      wanted = kMessageId;
    } else if (absl::EqualsIgnoreCase(name, "x-deliverd-id")) {
      wanted = kDeliverdId;
    } else if (absl::EqualsIgnoreCase(name, "to")) {
      wanted = kTo;
    } else if (absl::EqualsIgnoreCase(name, "x-hmxmroriginalrecipient")) {
      wanted = kOriginalRecipient;
    }
    current = nullptr;
    if (wanted != kNone && !values[wanted]) {  // the first one counts
      values[wanted] =
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      current = &*values[wanted];
    }
  }
  if (values[kMessageId] && c->returned_message_id.empty()) {
    c->returned_message_id = StripAngles(*values[kMessageId]);
  }
  if (values[kDeliverdId] && c->returned_deliverd_id.empty()) {
    c->returned_deliverd_id = *values[kDeliverdId];
  }
  if (values[kTo] && c->returned_to.empty()) c->returned_to = *values[kTo];
  if (values[kOriginalRecipient] && c->returned_rcpt.empty()) {
    c->returned_rcpt = *values[kOriginalRecipient];
  }
}

void NoteReturnedMessage(const MimeEntity& message, Collected* c) {
  auto value = [&message](absl::string_view name) {
    std::optional<absl::string_view> raw = message.Field(name);
    return raw ? MimeHeaderValue(*raw) : std::string();
  };
  if (c->returned_message_id.empty()) {
    // The last Message-ID field, read as a msg-id (RFC 5322) the way the
    // message model of GMime reads it.
    std::optional<absl::string_view> raw = message.LastField("Message-ID");
    if (raw) c->returned_message_id = StripAngles(MimeMessageId(*raw));
  }
  if (c->returned_deliverd_id.empty()) {
    c->returned_deliverd_id = value("X-Deliverd-Id");
  }
  if (c->returned_to.empty()) c->returned_to = value("To");
  if (c->returned_rcpt.empty()) {
    c->returned_rcpt = value("X-HmXmrOriginalRecipient");
  }
  c->has_returned_message = true;
}

// The text/plain parts of returned messages, decoded and joined, at most
// kMaxReturnedTextOctets (plus a line break per part).
const std::string& ReturnedText(const Collected& c) {
  if (!c.returned_text) {
    std::string text;
    for (const Collected::RawText& part : c.returned_text_parts) {
      if (text.size() >= kMaxReturnedTextOctets) break;
      absl::StrAppend(&text,
                      DecodeMimeBody(part.body, part.transfer_encoding,
                                     kMaxReturnedTextOctets - text.size()),
                      "\n");
    }
    c.returned_text = std::move(text);
  }
  return *c.returned_text;
}

// An empty part still adds its line break: a multipart whose text parts
// are all empty is not a broken one (ParseBounce() falls back to the raw
// body only when no part was found).
void AppendBounded(std::string* out, absl::string_view text) {
  if (out->size() >= kMaxBodyTextOctets) return;
  size_t room = kMaxBodyTextOctets - out->size();
  absl::StrAppend(out, text.substr(0, room), "\n");
}

const std::string& HtmlText(const Collected& c) {
  if (!c.html_text) {
    std::string text;
    for (const Collected::RawText& part : c.html_parts) {
      AppendBounded(&text, DecodeMimeBody(part.body, part.transfer_encoding,
                                          kMaxBodyTextOctets));
    }
    c.html_text = std::move(text);
  }
  return *c.html_text;
}

// Header fields read per entity; more are skipped.
constexpr size_t kMaxEntityFields = 1024;

// The type of an entity without Content-Type (RFC 2045), and of a part of a
// multipart/digest (RFC 2046).
const MimeContentType& TextPlain() {
  static const auto* const type = new MimeContentType{"text", "plain", {}};
  return *type;
}
const MimeContentType& MessageRfc822() {
  static const auto* const type = new MimeContentType{"message", "rfc822", {}};
  return *type;
}

// `default_type`: the type when the entity has no Content-Type (text/plain,
// or message/rfc822 inside a multipart/digest).
void Walk(const MimeEntity& entity, const MimeContentType& default_type,
          int depth, bool returned, Collected* c) {
  if (depth > kMaxMimeDepth || ++c->parts > kMaxMimeParts) return;
  // A field given twice counts by its last occurrence, as for GMime.
  std::optional<absl::string_view> type_field =
      entity.LastField("Content-Type");
  const MimeContentType type =
      type_field ? ParseMimeContentType(*type_field) : default_type;
  const absl::string_view transfer_encoding =
      entity.LastField("Content-Transfer-Encoding").value_or("");
  if (type.type == "multipart") {
    if (type.subtype == "report" && c->report_type.empty()) {
      c->report_type = Lower(
          MimeParameter(type.parameters, "report-type").value_or(""));
    }
    std::optional<std::string> boundary =
        MimeParameter(type.parameters, "boundary");
    if (!boundary) return;
    const MimeContentType& child_default =
        type.subtype == "digest" ? MessageRfc822() : TextPlain();
    for (absl::string_view part :
         SplitMultipart(entity.body, *boundary, kMaxMimeParts)) {
      if (c->parts > kMaxMimeParts) break;
      Walk(ReadMimeEntity(part, kMaxEntityFields), child_default, depth + 1,
           returned, c);
    }
    return;
  }
  auto content = [&entity, transfer_encoding](size_t limit) {
    return DecodeMimeBody(entity.body, transfer_encoding, limit);
  };
  if ((type.Is("message", "rfc822") || type.Is("message", "global")) &&
      IsEncodedTransfer(transfer_encoding)) {
    // A returned message sent base64 or quoted-printable (not allowed for
    // message/rfc822, but sent): not readable as a message until decoded;
    // its headers still identify it.
    if (!returned) NoteReturnedHeaders(content(64 * 1024), c);
    return;
  }
  if (type.Is("message", "rfc822") || type.Is("message", "global") ||
      type.Is("message", "news")) {
    if (absl::StripAsciiWhitespace(entity.body).empty()) return;
    MimeEntity inner = ReadMimeEntity(entity.body, kMaxEntityFields);
    if (!returned) NoteReturnedMessage(inner, c);
    // Walk into the returned message only to find nested reports.
    Walk(inner, TextPlain(), depth + 1, true, c);
    return;
  }
  if (type.Is("message", "delivery-status") ||
      type.Is("message", "global-delivery-status")) {
    (returned ? c->nested_delivery_status : c->delivery_status)
        .push_back(content(kMaxBodyTextOctets));
  } else if (type.Is("message", "feedback-report")) {
    if (!returned) c->feedback_reports.push_back(content(kMaxBodyTextOctets));
  } else if (type.Is("text", "rfc822-headers") ||
             type.Is("text", "rfc822-header") ||
             type.Is("message", "rfc822-headers")) {
    if (!returned) NoteReturnedHeaders(content(64 * 1024), c);
  } else if (returned && type.Is("text", "plain")) {
    c->returned_text_parts.push_back({entity.body, transfer_encoding});
  } else if (!returned && type.Is("text", "html")) {
    c->html_parts.push_back({entity.body, transfer_encoding});
  } else if (!returned && type.type == "text") {
    std::optional<absl::string_view> disposition =
        entity.LastField("Content-Disposition");
    if (!disposition || MimeDispositionType(*disposition) != "attachment" ||
        c->body_text.empty()) {
      AppendBounded(&c->body_text, content(kMaxBodyTextOctets));
    }
  }
}

// Crude tag stripping for HTML-only bounces.
std::string HtmlToText(absl::string_view html) {
  std::string out;
  out.reserve(html.size());
  bool in_tag = false;
  for (size_t i = 0; i < html.size(); ++i) {
    char ch = html[i];
    if (in_tag) {
      if (ch == '>') in_tag = false;
      continue;
    }
    if (ch == '<') {
      // Keep "<addr@x>" forms; drop tags.
      size_t gt = html.find('>', i);
      absl::string_view inside =
          gt == absl::string_view::npos ? "" : html.substr(i + 1, gt - i - 1);
      if (inside.find('@') != absl::string_view::npos &&
          inside.find(' ') == absl::string_view::npos &&
          inside.find('=') == absl::string_view::npos) {
        out.push_back(ch);
        continue;
      }
      absl::string_view tag = html.substr(i + 1, 4);
      if (absl::StartsWithIgnoreCase(tag, "br") ||
          absl::StartsWithIgnoreCase(tag, "p") ||
          absl::StartsWithIgnoreCase(tag, "/p") ||
          absl::StartsWithIgnoreCase(tag, "div") ||
          absl::StartsWithIgnoreCase(tag, "/div") ||
          absl::StartsWithIgnoreCase(tag, "tr") ||
          absl::StartsWithIgnoreCase(tag, "/tr")) {
        out.push_back('\n');
      }
      in_tag = true;
      continue;
    }
    if (ch == '&') {
      static constexpr std::pair<const char*, char> kEntities[] = {
          {"&lt;", '<'},   {"&gt;", '>'},   {"&amp;", '&'},
          {"&nbsp;", ' '}, {"&quot;", '"'}, {"&#39;", '\''}};
      bool done = false;
      for (const auto& [name, value] : kEntities) {
        if (absl::StartsWithIgnoreCase(html.substr(i), name)) {
          out.push_back(value);
          i += strlen(name) - 1;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out.push_back(ch);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Classification.

// Text rules for bounce bodies and DSN diagnostics that reply_classifier's
// SMTP-reply rules do not cover (MTA wording rather than receiver replies).
// Used only when ClassifyReply() decided on a code default or "unknown".
struct BodyRule {
  Reason reason;
  const char* name;
  const char* phrases;  // '|'-separated, lower case, plain substrings
};
// The expired rule must stay first (SaysExpired() relies on it).
constexpr BodyRule kBodyRules[] = {
    {Reason::kExpired, "body:expired",
     "retry timeout exceeded|retry time not reached for any host after a "
     "long failure period|could not be delivered for|have been unable to "
     "deliver|has not been delivered for|was not delivered within|"
     "delivery time expired|message timed out|giving up on|"
     "too long in the queue|queue lifetime|timeout waiting|"
     "delivery attempts will continue|could not deliver for|"
     "message expired|has been in the queue too long|"
     "failing for a long time|was aborted after|"
     "could not be delivered for|will be deleted from queue|"
     "in the queue too long|"
     "did not accept our requests to connect"},
    // As reply_classifier's not_accept rule: no MX, no mail from us.
    {Reason::kNotAccept, "body:not_accept", "no mx record"},
    {Reason::kHostUnknown, "body:host_unknown",
     "host not found|host unknown|domain not found|unrouteable address|"
     "unroutable address|mx lookup|name or service not known|"
     "nonexistent domain|dns error|unknown mail domain|domain does not exist"},
    {Reason::kUserUnknown, "body:user_unknown",
     "unknown user|user unknown|no mailbox here by that name|"
     "no such user|does not exist|doesn't exist|not a valid user|"
     "mailbox unavailable|unknown recipient|recipient unknown|"
     "invalid recipient|no longer available|"
     "user not found|mailbox not found|not our customer|"
     "not listed in domino directory|not listed in public name|"
     "recipient name is not recognized|no valid recipients|"
     "address not found|address couldn't be found|"
     "email account that you tried to reach does not exist"},
    {Reason::kMailboxFull, "body:mailbox_full",
     "mailbox is full|mailbox full|over quota|quota exceeded|disk quota|"
     "exceeded storage|insufficient disk space|mail box full|mailfolder is "
     "full|mailbox has exceeded|account is full|full mailbox|"
     "recipient's mailbox exceeded|mailbox exceeded"},
    {Reason::kNetworkError, "body:network",
     "connection timed out|no route to host|connection refused|"
     "could not connect|unable to connect|connection died|"
     "no connection could be made|lost connection|network error"},
    {Reason::kMessageTooLarge, "body:size",
     "message too large|message size exceeds|too big|size limit|"
     "line limit exceeded|line too long"},
    {Reason::kSystemError, "body:system",
     "service currently unavailable|transaction failed|protocol violation|"
     "could not load|local delivery failed|mailer error"},
    {Reason::kBlocked, "body:blocked",
     "blocked|blacklist|blocklist|reputation|rejected by policy|"
     "reverse dns|ptr record|rdns|open relay"},
};

// Phrases matched as if the text's white space had been collapsed to
// single spaces (bounce texts fold lines anywhere).
PhraseMatcher::Options FoldedWhitespace() {
  PhraseMatcher::Options options;
  options.fold_whitespace = true;
  return options;
}

constexpr size_t kBodyRuleCount = sizeof(kBodyRules) / sizeof(kBodyRules[0]);

// Every phrase of kBodyRules in rule order, with the rule of each: the
// lowest phrase index found belongs to the first rule that applies.
struct BodyRuleIndex {
  std::vector<size_t> rule_of;
  std::unique_ptr<PhraseMatcher> matcher;
};

const BodyRuleIndex& BodyRules() {
  static const BodyRuleIndex* index = [] {
    auto* out = new BodyRuleIndex();
    std::vector<absl::string_view> phrases;
    for (size_t rule = 0; rule < kBodyRuleCount; ++rule) {
      for (absl::string_view p : absl::StrSplit(kBodyRules[rule].phrases, '|')) {
        if (p.empty()) continue;
        phrases.push_back(p);
        out->rule_of.push_back(rule);
      }
    }
    out->matcher =
        std::make_unique<PhraseMatcher>(phrases, FoldedWhitespace());
    return out;
  }();
  return *index;
}

std::optional<Reason> BodyRuleReason(absl::string_view text,
                                     std::string* rule) {
  const BodyRuleIndex& index = BodyRules();
  const int found = index.matcher->LowestIndexIn(text.substr(0, 16 * 1024));
  if (found < 0) return std::nullopt;
  const BodyRule& r = kBodyRules[index.rule_of[found]];
  *rule = r.name;
  return r.reason;
}

// Whether the text has one of the expired rule's phrases: the first rule,
// so the lowest phrase found is one of them whenever there is one.
bool SaysExpired(absl::string_view text) {
  const BodyRuleIndex& index = BodyRules();
  const int found = index.matcher->LowestIndexIn(text.substr(0, 16 * 1024));
  return found >= 0 && index.rule_of[found] == 0;
}

// The first "4.7.x" / "5.7.x" enhanced code token anywhere in `text`.
std::optional<EnhancedStatusCode> FindPolicyCode(absl::string_view text) {
  text = text.substr(0, 16 * 1024);
  for (size_t pos = 0; (pos = text.find(".7.", pos)) != absl::string_view::npos;
       ++pos) {
    if (pos == 0 || (text[pos - 1] != '4' && text[pos - 1] != '5')) continue;
    if (pos >= 2 &&
        (absl::ascii_isalnum(static_cast<unsigned char>(text[pos - 2])) ||
         text[pos - 2] == '.')) {
      continue;
    }
    size_t end = pos + 3;
    while (end < text.size() && end < pos + 6 &&
           absl::ascii_isdigit(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
    if (end < text.size() &&
        (absl::ascii_isalnum(static_cast<unsigned char>(text[end])) ||
         text[end] == '.')) {
      continue;
    }
    absl::StatusOr<EnhancedStatusCode> code =
        ParseEnhancedStatusCode(text.substr(pos - 1, end - pos + 1));
    if (code.ok()) return *code;
  }
  return std::nullopt;
}

bool IsGenericRule(absl::string_view rule) {
  return absl::StartsWith(rule, "code:") ||
         absl::StartsWith(rule, "subject:") || rule == "invalid_code" ||
         rule == "intermediate";
}

// Runs of whitespace (folded lines) become one space.
std::string CollapseSpace(absl::string_view text) {
  // Written through a pointer into a buffer of the input's size (the
  // output is never longer), then cut to length.
  std::string out(text.size(), '\0');
  char* w = out.data();
  char* const begin = w;
  bool space = false;
  for (char ch : text) {
    if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
      space = true;
      continue;
    }
    if (space && w != begin) *w++ = ' ';
    space = false;
    *w++ = ch;
  }
  out.resize(w - begin);
  return out;
}

// Whether the text says the reply came after the message data: the address
// had been accepted at RCPT TO, so the refusal is about the content.
bool SaysAfterData(absl::string_view text) {
  static const PhraseMatcher* const phrases = new PhraseMatcher(
      "in reply to end of data|after end of data|>>> data <<<|"
      "smtp command data|smtp command -------data|after data",
      FoldedWhitespace());
  return phrases->AnyIn(text.substr(0, 8192));
}

// Whether the receiver says in so many words that the mailbox does not
// exist: then a refusal at DATA is still about the address (some providers
// check recipients only once the message has come), unlike a bare "unknown
// user" that content filters also use.
bool SaysMailboxDoesNotExist(absl::string_view text) {
  static const PhraseMatcher* const phrases = new PhraseMatcher(
      " 5.1.1 |does not exist|doesn't exist|doesn't have a|"
      "does not have a|no such mailbox",
      FoldedWhitespace());
  return phrases->AnyIn(text.substr(0, 8192));
}

// Whether a diagnostic is a local delivery program's failure rather than a
// receiver's reply.
bool SaysLocalDeliveryFailed(absl::string_view text) {
  static const PhraseMatcher* const phrases = new PhraseMatcher(
      "procmail:|couldn't create|command died with status",
      FoldedWhitespace());
  return phrases->AnyIn(text.substr(0, 2048));
}

// Whether the text says the reply answered a session command (greeting,
// EHLO/HELO, STARTTLS, AUTH, MAIL FROM): then it is about our session or
// sender, never the recipient (ClassifyOptions::stage).
bool SaysSessionStage(absl::string_view text) {
  static const PhraseMatcher* const phrases = new PhraseMatcher(
      "after mail from|in reply to mail from|>>> mail from|"
      "after initial connection|after ehlo|after helo|in reply to ehlo|"
      "in reply to helo|in reply to starttls|after starttls|"
      "in reply to auth|after auth|my name was rejected|"
      "but sender was rejected|refused to talk to me|"
      "in reply to the initial greeting|smtp greeting|after connection",
      FoldedWhitespace());
  return phrases->AnyIn(text.substr(0, 8192));
}

// "550 : User unknown", "550: : User unknown", "550 <>: User unknown": a
// reply code, then an empty address, then "user unknown".
bool SaysEmptyAddressUnknown(absl::string_view text) {
  std::string lower = Lower(CollapseSpace(text.substr(0, 4096)));
  for (const char* p : {" : user unknown", ": : user unknown",
                        "<>: user unknown", "<> user unknown"}) {
    size_t pos = lower.find(p);
    if (pos == std::string::npos) continue;
    // Only right after the reply code ("550 : ...", "550: : ...").
    size_t digits = pos;
    if (digits > 0 && lower[digits - 1] == ':') --digits;
    if (absl::StartsWith(p, "<>") && digits > 0 && lower[digits - 1] == ' ') {
      --digits;
    }
    if (digits >= 3 && absl::ascii_isdigit(lower[digits - 1]) &&
        absl::ascii_isdigit(lower[digits - 2]) &&
        absl::ascii_isdigit(lower[digits - 3])) {
      return true;
    }
  }
  return false;
}

// In an SMTP transcript (Sendmail's ">>> COMMAND" / "<<< reply" lines), the
// command whose reply concerns `address`: the ">>>" line naming it, or the
// last ">>>" line before a "<<<" line naming it. Upper case ("RCPT",
// "DATA", "MAIL", "EHLO", ...); empty when the text has no such transcript.
// The address is matched by its local part (transcripts may show the
// domain rewritten).
struct TranscriptHit {
  std::string command;  // upper case, empty when not found
  std::string reply;    // the "<<<" reply lines answering it, joined
  // A connection's first "<<<" line, before any ">>>" command, was a 5xx
  // reply, and no later connection got further: refused at the greeting.
  bool greeting_refused = false;
};
TranscriptHit FindTranscript(absl::string_view text,
                             absl::string_view address) {
  TranscriptHit hit;
  size_t at = address.find('@');
  if (at == absl::string_view::npos || at == 0) return hit;
  text = text.substr(0, 16 * 1024);
  // Without a ">>> " or "<<< " anywhere, no line can start with one.
  if (text.find(">>> ") == absl::string_view::npos &&
      text.find("<<< ") == absl::string_view::npos) {
    return hit;
  }
  std::string needle = Lower(address.substr(0, at + 1));
  std::string last;
  bool found = false;
  bool more = true;  // the reply may go on (a sent line awaits its reply)
  int lines = 0;
  for (absl::string_view line :
       absl::StrSplit(text.substr(0, 16 * 1024), '\n')) {
    if (++lines > 400) break;
    line = absl::StripAsciiWhitespace(line);
    const bool sent = absl::StartsWith(line, ">>> ");
    const bool got = absl::StartsWith(line, "<<< ");
    if (found) {
      // The reply: the "<<<" lines after the matching one, while they are
      // one multi-line reply ("550-..." continues, "550 ..." ends).
      if (!got || !more) break;
      absl::string_view reply = line.substr(4);
      absl::StrAppend(&hit.reply, hit.reply.empty() ? "" : " ", reply);
      more = reply.size() > 3 && reply[3] == '-';
      continue;
    }
    if (absl::StartsWith(line, "... while talking to")) {
      last.clear();  // a new connection
      continue;
    }
    if (!sent && !got) continue;
    if (got && last.empty() && line.size() > 4 && line[4] == '5') {
      hit.greeting_refused = true;
    }
    if (sent) {
      absl::string_view cmd = line.substr(4);
      cmd = cmd.substr(0, cmd.find_first_of(" :"));
      last = absl::AsciiStrToUpper(cmd);
      // A later connection got past its greeting.
      if (last != "QUIT") hit.greeting_refused = false;
    }
    std::string lower = Lower(line);
    size_t pos = lower.find(needle);
    if (pos != std::string::npos &&
        (pos == 0 ||
         !IsLocalChar(static_cast<unsigned char>(lower[pos - 1])))) {
      hit.command = last;
      found = true;
      if (got) {
        absl::string_view reply = line.substr(4);
        hit.reply = std::string(reply);
        more = reply.size() > 3 && reply[3] == '-';
      }
    }
  }
  return hit;
}

// Text near the first mention of `address` in `text` (for the command the
// reply answered); empty when it is not mentioned.
absl::string_view Around(absl::string_view text, absl::string_view address) {
  if (address.empty()) return "";
  size_t pos = FindCi(text.substr(0, kMaxBodyTextOctets), address);
  if (pos == absl::string_view::npos) return "";
  return text.substr(pos, 600);
}

// `extra_text`: the human-readable part (used when the diagnostic says
// nothing); `context`: text near this recipient's mention in it.
void Classify(BounceRecipient* r, absl::string_view extra_text,
              absl::string_view context) {
  std::string action = Lower(r->action);
  if (action == "delivered" || action == "relayed" || action == "expanded" ||
      action == "deliverable") {
    r->reason = Reason::kDelivered;
    r->bounce_class = BounceClass::kNone;
    r->rule = absl::StrCat("dsn:action:", action);
    return;
  }
  // A non-standard bounce's diagnostic is often its context, trimmed: the
  // context's phrases (matched with white space folded) then need no
  // second look.
  bool context_is_diagnostic =
      !context.empty() && absl::StripAsciiWhitespace(context) == r->diagnostic;
  r->diagnostic = CollapseSpace(r->diagnostic);
  std::optional<FoundStatusCodes> near_codes;
  if (r->diagnostic.empty() && !context.empty()) {
    // No Diagnostic-Code: the human-readable part's text about this
    // recipient, when it carries a reply code.
    std::string near = CollapseSpace(context);
    FoundStatusCodes codes = FindStatusCodesInText(near);
    if (codes.reply_code || codes.enhanced) {
      r->diagnostic = std::move(near);
      near_codes = codes;
      context_is_diagnostic = true;
    }
  }
  FoundStatusCodes found =
      near_codes ? *near_codes : FindStatusCodesInText(r->diagnostic);
  std::optional<EnhancedStatusCode> status;
  {
    absl::string_view s = absl::StripAsciiWhitespace(r->status);
    s = s.substr(0, s.find_first_of(" \t("));
    absl::StatusOr<EnhancedStatusCode> parsed = ParseEnhancedStatusCode(s);
    if (parsed.ok()) status = *parsed;
  }
  std::optional<EnhancedStatusCode> enhanced = found.enhanced;
  int code = 0;
  if (found.reply_code) {
    code = *found.reply_code;
    r->reply_code = code;
  }
  if (code == 0) {
    int klass = enhanced ? enhanced->klass : status ? status->klass : 0;
    if (klass == 0) klass = action == "delayed" ? 4 : 5;
    code = klass * 100 + 50;
  }
  if (!enhanced || enhanced->klass != code / 100) {
    if (status && status->klass == code / 100) enhanced = status;
  }
  // A 4xx reply or status inside a failed DSN: the MTA gave up retrying.
  const bool transient_failure =
      action == "failed" && (code / 100 == 4 || (status && status->klass == 4));
  int classify_code = code;
  if (code / 100 == 2) classify_code = 550;  // a "success" in a failure report
  // The human-readable part with its white space collapsed, made only if
  // the diagnostic is empty (the body rules and SaysExpired() fold white
  // space themselves and read extra_text as it is).
  const absl::string_view extra_window = extra_text.substr(0, 16 * 1024);
  std::string collapsed_extra;
  absl::string_view text = r->diagnostic;
  if (text.empty()) {
    collapsed_extra = CollapseSpace(extra_window);
    text = collapsed_extra;
  }
  const TranscriptHit transcript = FindTranscript(extra_text, r->address);
  const std::string& command = transcript.command;
  ClassifyOptions options;
  if (SaysSessionStage(r->diagnostic) ||
      (!context_is_diagnostic && SaysSessionStage(context)) ||
      command == "MAIL" || command == "EHLO" || command == "HELO" ||
      (command.empty() && transcript.greeting_refused)) {
    options.stage = Stage::kSession;
  }
  ReplyClassification c = ClassifyReply(classify_code, enhanced, text, options);
  // A generic X.7.0/X.7.1 taken from the DSN Status only (the receiver's
  // reply carries a code but no enhanced code) is the reporting MTA's
  // guess; the receiver's own words, read without it, decide when they are
  // precise ("553 Invalid recipient"). Sender-side and reputation wording
  // still wins there (those rules come first), and the vetoes below apply.
  if (!found.enhanced && found.reply_code && enhanced && status &&
      enhanced->subject == 7 &&
      (enhanced->detail == 0 || enhanced->detail == 1) &&
      absl::StartsWith(c.rule, "enhanced:")) {
    ReplyClassification own =
        ClassifyReply(classify_code, std::nullopt, text, options);
    if (absl::StartsWith(own.rule, "text:")) {
      c = own;
      c.rule = absl::StrCat("dsn:status_guess_ignored,", own.rule);
    }
  }
  r->reason = c.reason;
  r->bounce_class = c.bounce_class;
  r->rule = c.rule;
  // Generic enhanced codes ("other" details, and X.7.1 which receivers use
  // for any refusal) leave room for the bounce-body rules too.
  const bool generic_enhanced =
      enhanced && absl::StartsWith(r->rule, "enhanced:") &&
      (enhanced->detail == 0 ||
       (enhanced->subject == 7 && enhanced->detail == 1));
  if (r->reason == Reason::kUnknown || IsGenericRule(r->rule) ||
      generic_enhanced) {
    std::string rule;
    std::optional<Reason> body = BodyRuleReason(text, &rule);
    if (!body && !r->diagnostic.empty() &&
        !absl::StripAsciiWhitespace(extra_window).empty()) {
      body = BodyRuleReason(extra_window, &rule);
    }
    // A body rule may not turn a policy (subject 7) code hard.
    if (body && !((options.stage == Stage::kSession ||
                   (enhanced && enhanced->subject == 7)) &&
                  ClassOfReason(*body) == BounceClass::kHard)) {
      r->reason = *body;
      r->bounce_class = ClassOfReason(*body);
      r->rule = rule;
    }
  }
  // Reputation, spam, rate or sender wording in the receiver's text vetoes a
  // hard result that came from an address-subject code (receivers and
  // reporting MTAs put 5.1.x on blocklist refusals too).
  // Only the reply's own words (the start of the diagnostic) count here.
  if (ClassOfReason(r->reason) == BounceClass::kHard &&
      !r->diagnostic.empty()) {
    ReplyClassification text_only =
        ClassifyReply(classify_code, std::nullopt,
                      absl::string_view(r->diagnostic).substr(0, 512), options);
    static constexpr const char* kVetoRules[] = {"text:virus",
                                                 "text:sender_rejected",
                                                 "text:blocklist",
                                                 "text:spam",
                                                 "text:message_auth",
                                                 "text:blocked",
                                                 "text:too_many_recipients",
                                                 "text:rate"};
    for (const char* rule : kVetoRules) {
      if (text_only.rule == rule) {
        r->reason = text_only.reason;
        r->bounce_class = text_only.bounce_class;
        r->rule = absl::StrCat("dsn:sender_side_text,", text_only.rule);
        break;
      }
    }
  }
  // A security/policy code quoted later in the diagnostic (a relay quoting
  // the receiver's "550 5.7.1 ...") vetoes a hard result, as a subject-7
  // code does in ClassifyReply().
  if (ClassOfReason(r->reason) == BounceClass::kHard) {
    std::optional<EnhancedStatusCode> policy = FindPolicyCode(r->diagnostic);
    if (policy && !(policy->detail == 17 || policy->detail == 18)) {
      ReplyClassification again = ClassifyReply(policy->klass * 100 + 50,
                                                policy, r->diagnostic, options);
      r->reason = again.reason;
      r->bounce_class = again.bounce_class;
      r->rule = absl::StrCat("dsn:quoted_policy_code,", again.rule);
    }
  }
  if (ClassOfReason(r->reason) == BounceClass::kHard) {
    // "Mailbox disabled" (X.2.1) names an existing mailbox.
    const bool specific_code =
        enhanced && !(enhanced->subject == 0 && enhanced->detail == 0) &&
        absl::StartsWith(r->rule, "enhanced:");
    if (enhanced && enhanced->subject == 2 && enhanced->detail == 1 &&
        absl::StrContains(Lower(r->status), "disabled")) {
      r->reason = Reason::kSuspended;
      r->bounce_class = BounceClass::kSoft;
      r->rule = absl::StrCat("dsn:mailbox_disabled,", r->rule);
    } else if (!specific_code &&
               (command == "DATA" || SaysAfterData(r->diagnostic) ||
                (!context_is_diagnostic && SaysAfterData(context))) &&
               !SaysMailboxDoesNotExist(r->diagnostic) &&
               (context_is_diagnostic || !SaysMailboxDoesNotExist(context))) {
      // Refused after DATA: the address passed RCPT TO.
      r->reason = Reason::kContentRejected;
      r->bounce_class = BounceClass::kSoft;
      r->rule = absl::StrCat("dsn:after_data,", r->rule);
    }
  }
  // "550 : User unknown" with the address slot left empty: the wording of
  // carrier domain filters (the address exists, the filter refused the
  // sender), not a nonexistent mailbox, unless an X.1.x code says so.
  if (r->reason == Reason::kUserUnknown &&
      !(enhanced && enhanced->subject == 1) &&
      !(status && status->subject == 1) && SaysEmptyAddressUnknown(text)) {
    r->reason = Reason::kContentRejected;
    r->bounce_class = BounceClass::kSoft;
    r->rule = absl::StrCat("dsn:empty_address_unknown,", r->rule);
  }
  // A local delivery program that failed (procmail could not create the
  // mailbox file, a command died): a system error on the receiving side,
  // whatever address-status code the MTA mapped its exit status to.
  if (SaysLocalDeliveryFailed(r->diagnostic)) {
    r->reason = Reason::kSystemError;
    r->bounce_class = BounceClass::kSoft;
    r->rule = absl::StrCat("dsn:local_delivery_failed,", r->rule);
  }
  // A "recipient" that is a pipe to a program (Exim's "pipe to |...",
  // Final-Recipient "|/path"): the local delivery program failed, a system
  // error on the receiving side whatever code the MTA put on it.
  if ((r->reason == Reason::kUnknown || IsGenericRule(r->rule)) &&
      absl::StartsWith(absl::StripLeadingAsciiWhitespace(r->address), "|")) {
    r->reason = Reason::kSystemError;
    r->bounce_class = BounceClass::kSoft;
    r->rule = absl::StrCat("dsn:pipe_failed,", r->rule);
  }
  // A reply to a session command (greeting, EHLO, MAIL FROM) refused us,
  // not the recipient: a vague or policy result there is a block of the
  // sender. So is "suspended": no mailbox state is known before RCPT TO
  // (Postfix's "delivery temporarily suspended: ... refused to talk to me"
  // is about the destination refusing us).
  if (options.stage == Stage::kSession &&
      (r->reason == Reason::kPolicy || r->reason == Reason::kUnknown ||
       r->reason == Reason::kSuspended || IsGenericRule(r->rule))) {
    r->reason = Reason::kBlocked;
    r->bounce_class = BounceClass::kSoft;
    r->rule = absl::StrCat("dsn:session_refusal,", r->rule);
  }
  // "Host not found, try again": a temporary DNS failure (Postfix words
  // SERVFAIL so), not a nonexistent domain.
  if (r->reason == Reason::kHostUnknown &&
      // Not "check the domain and try again" (advice, not a DNS result).
      absl::StrContains(Lower(r->diagnostic), "not found, try again")) {
    r->reason = Reason::kNetworkError;
    r->bounce_class = BounceClass::kSoft;
    r->rule = absl::StrCat("dsn:dns_try_again,", r->rule);
  }
  // The MTA retried until its queue lifetime ran out: expired, whatever
  // network trouble caused the retries.
  // A delay warning ("could not be delivered for 2 hours, will retry") has
  // not run out of anything yet: its cause stays the reason.
  if (action != "delayed" &&
      (r->reason == Reason::kNetworkError || r->reason == Reason::kUnknown ||
       r->reason == Reason::kSystemError || IsGenericRule(r->rule)) &&
      (SaysExpired(extra_window) ||
       (transient_failure && r->reason == Reason::kNetworkError &&
        absl::StrContains(Lower(r->diagnostic), "timed out")))) {
    r->reason = Reason::kExpired;
    r->bounce_class = BounceClass::kSoft;
    r->rule = absl::StrCat("dsn:expired,", r->rule);
  }
  if (transient_failure || action == "delayed") {
    if (r->reason == Reason::kUnknown || r->reason == Reason::kSystemError ||
        IsGenericRule(r->rule)) {
      r->reason = Reason::kExpired;
      r->rule = absl::StrCat("dsn:gave_up,", r->rule);
    } else if (r->reason == Reason::kHostUnknown) {
      // A transient DNS failure, not a nonexistent domain.
      r->reason = Reason::kNetworkError;
      r->rule = absl::StrCat("dsn:transient_dns,", r->rule);
    }
    r->bounce_class = BounceClass::kSoft;
  }
  if (r->bounce_class == BounceClass::kNone &&
      r->reason != Reason::kDelivered) {
    r->bounce_class = ClassOfReason(r->reason);
  }
}

// ---------------------------------------------------------------------------
// DSN.

bool IsRecipientField(absl::string_view name) {
  // Most fields of a report are none of these: the first byte rules them
  // out without string comparisons.
  if (name.empty() || absl::string_view("faosdrlwx").find(name[0]) ==
                          absl::string_view::npos) {
    return false;
  }
  return name == "final-recipient" || name == "original-recipient" ||
         name == "action" || name == "status" || name == "diagnostic-code" ||
         name == "remote-mta" || name == "last-attempt-date" ||
         name == "will-retry-until" || name == "final-log-id" ||
         name == "x-actual-recipient";
}

void ParseDsn(absl::string_view text, BounceReport* report) {
  std::vector<Field> fields = ParseFields(text, 4096);
  std::optional<BounceRecipient> current;
  int current_block = -1;
  auto flush = [&]() {
    if (current &&
        (!current->address.empty() || !current->status.empty() ||
         !current->diagnostic.empty()) &&
        report->recipients.size() < kMaxBounceRecipients) {
      report->recipients.push_back(std::move(*current));
    }
    current.reset();
  };
  for (const Field& f : fields) {
    // Compared as a view: a length test first, no strlen per comparison.
    const absl::string_view name = f.name;
    if (name == "reporting-mta" && report->reporting_mta.empty()) {
      report->reporting_mta = StripType(f.value);
      continue;
    }
    if (!IsRecipientField(name)) continue;
    bool starts = name == "final-recipient" || name == "original-recipient";
    if (current &&
        ((starts && f.block != current_block) ||
         (name == "final-recipient" && !current->address.empty()) ||
         (name == "original-recipient" &&
          !current->original_recipient.empty()))) {
      flush();
    }
    if (!current) {
      current.emplace();
      current_block = f.block;
    }
    if (name == "final-recipient") {
      current->address = NormalizeAddress(f.value);
    } else if (name == "original-recipient") {
      current->original_recipient = NormalizeAddress(f.value);
    } else if (name == "action") {
      std::string a = Lower(absl::StripAsciiWhitespace(f.value));
      current->action = a.substr(0, a.find_first_of(" \t("));
    } else if (name == "status") {
      current->status = std::string(absl::StripAsciiWhitespace(f.value));
    } else if (name == "diagnostic-code") {
      current->diagnostic = StripType(f.value);
    } else if (name == "remote-mta") {
      current->remote_mta = StripType(f.value);
    }
  }
  flush();
  for (BounceRecipient& r : report->recipients) {
    if (r.address.empty()) r.address = r.original_recipient;
  }
}

// ---------------------------------------------------------------------------
// Non-standard bounces.

constexpr const char* kBounceSubjects[] = {
    "undelivered mail",
    "undeliverable",
    "delivery status notification",
    "mail delivery failed",
    "mail delivery failure",
    "delivery failure",
    "failure notice",
    "returned mail",
    "delivery failed",
    "non remis",
    "nondeliverable",
    "non-deliverable",
    "not delivered",
    "could not be delivered",
    "delivery notification",
    "mail system error",
    "message delivery failure",
    "undeliverable mail",
    "delivery problem",
    "mail could not be delivered",
    "warning: could not send message",
    "permanent delivery failure",
    "delivery has failed",
    "delivery final failure",
    "mail failure",
    "failed delivery",
    "rejected:",
    "unzustellbar",
    "nicht zustellbar",
    "returned to sender",
    "delayed mail",
    "warning: message",
    "delivery delayed",
    "message not delivered",
    "error sending message",
    "fallo en la entrega",
};

constexpr const char* kAutoReplySubjects[] = {
    "out of office",   "out of the office",   "auto reply",    "auto-reply",
    "autoreply",       "automatic reply",     "vacation",      "away from",
    "absence",         "abwesenheit",         "auto response", "autoresponse",
    "respuesta autom", "réponse automatique", "i am away",     "on leave",
};

bool SenderLooksLikeDaemon(absl::string_view from) {
  std::string lower = Lower(from);
  return lower.find("mailer-daemon") != std::string::npos ||
         lower.find("mailer_daemon") != std::string::npos ||
         lower.find("mail-daemon") != std::string::npos ||
         lower.find("postmaster@") != std::string::npos ||
         lower.find("mail delivery subsystem") != std::string::npos ||
         lower.find("mail delivery system") != std::string::npos ||
         lower.find("maildaemon") != std::string::npos;
}

bool SubjectLooksLikeBounce(absl::string_view subject) {
  std::string lower = Lower(subject);
  for (const char* s : kBounceSubjects) {
    if (lower.find(s) != std::string::npos) return true;
  }
  return false;
}

// Where the returned copy of the original message starts in a plain body.
size_t ReturnedMessageStart(absl::string_view body) {
  // Markers first, then header lines that begin a block of returned
  // headers ("Received: ", "Return-Path: ") at a line start after some
  // text. ("----- The following addresses had permanent fatal errors"
  // precedes Sendmail's failed addresses; it is not a copy marker.)
  static constexpr absl::string_view kCopyMarkers =
      "below this line is a copy of the message|"
      "------ this is a copy of the message|"
      "----- original message follows|"
      "original message follows|"
      "----- original message -----|"
      "------ original message|"
      "----- unsent message below|"
      "---- the original message|"
      "--- original message|"
      "message headers follow|"
      "the headers of your message follow|"
      "original message headers|"
      "----- message header follows|"
      "----- original message header|"
      "------ the header of the original|"
      "original message header|"
      "your original message follows|"
      "copy of your message|"
      "included is the original message|"
      "a copy of the original message";
  static constexpr absl::string_view kHeaderMarkers =
      "\nreturn-path: |\nreceived: from |\nreceived: (|\ndkim-signature: ";
  // Copy markers first, then header markers (from kHeaderMarkersFrom on).
  static const size_t kHeaderMarkersFrom =
      PhraseMatcher(kCopyMarkers, PhraseMatcher::Options()).size();
  static const PhraseMatcher* const markers = new PhraseMatcher(
      absl::StrCat(kCopyMarkers, "|", kHeaderMarkers),
      PhraseMatcher::Options());
  // Only the first occurrence of each marker counts, and only after the
  // text's start (a header marker: after its first 80 bytes).
  std::vector<bool> seen(markers->size(), false);
  size_t best = body.size();
  markers->Scan(body, [&](size_t pos, size_t index) {
    if (seen[index]) return true;
    seen[index] = true;
    const bool header = index >= kHeaderMarkersFrom;
    if (header ? pos > 80 : pos > 0) {
      best = pos;
      return false;
    }
    return true;
  });
  return best;
}

// Google Groups answers a posting it refuses (the group does not exist or
// the sender may not post to it) with a localised text and no reply code;
// the language-independent signs are the googlegroups.com recipient and
// the groups.google.com help link. Either way the sender was refused, not
// a mailbox found missing: blocked, soft. Only a vague result is replaced.
void MailingListRefusal(absl::string_view text, BounceRecipient* r) {
  if (!(r->reason == Reason::kUnknown || IsGenericRule(r->rule))) return;
  if (!absl::EndsWithIgnoreCase(r->address, "@googlegroups.com")) return;
  if (!ContainsCi(text.substr(0, 16 * 1024), "groups.google.com")) return;
  r->reason = Reason::kBlocked;
  r->bounce_class = BounceClass::kSoft;
  r->rule = absl::StrCat("list:posting_refused,", r->rule);
}

void ParseNonStandard(const Collected& c, absl::string_view from_header,
                      absl::string_view to_header, BounceReport* report) {
  absl::string_view section(c.body_text);
  std::string html_body;
  size_t returned_start = c.body_returned_start;
  if (absl::StripAsciiWhitespace(section).empty() && !HtmlText(c).empty()) {
    html_body = HtmlToText(HtmlText(c));
    section = html_body;
    returned_start = ReturnedMessageStart(section);
  }
  section = section.substr(0, returned_start);
  // A delay warning rather than a failure.
  static const PhraseMatcher* const delay_phrases = new PhraseMatcher(
      "warning message only|has been delayed|will be retried|"
      "delivery attempts will continue|still trying",
      PhraseMatcher::Options());
  const bool delayed = delay_phrases->AnyIn(section);

  std::vector<std::string> exclude;
  for (const AddressHit& h : FindAddresses(from_header, 8)) {
    exclude.push_back(Lower(h.address));
  }
  for (const AddressHit& h : FindAddresses(to_header, 8)) {
    exclude.push_back(Lower(h.address));
  }
  bool allow_system = false;
  auto excluded = [&](absl::string_view a) {
    if (IsVerpAddress(a)) return true;
    if (IsSystemLocalPart(a) &&
        !(allow_system && !absl::StartsWithIgnoreCase(a, "mailer") &&
          !absl::StartsWithIgnoreCase(a, "bounce"))) {
      return true;
    }
    std::string lower = Lower(a);
    return std::find(exclude.begin(), exclude.end(), lower) != exclude.end();
  };

  // Recipients: X-Failed-Recipients (Exim), else addresses in the text.
  std::vector<std::string> rcpts;
  std::string failed = TopHeader(c, "x-failed-recipients");
  for (const AddressHit& h : FindAddresses(failed, kMaxBounceRecipients)) {
    if (std::find(rcpts.begin(), rcpts.end(), h.address) == rcpts.end()) {
      rcpts.push_back(h.address);
    }
  }
  std::vector<AddressHit> hits = FindAddresses(section, 4096);
  // Drop hits on lines that are header fields or message ids. System
  // mailboxes (postmaster@, ...) count only when nothing else is named.
  std::vector<AddressHit> kept;
  auto keep_hits = [&]() {
    for (const AddressHit& h : hits) {
      size_t line_start = section.rfind('\n', h.pos);
      line_start = line_start == absl::string_view::npos ? 0 : line_start + 1;
      std::string prefix =
          Lower(section.substr(line_start, h.pos - line_start));
      absl::string_view p = absl::StripLeadingAsciiWhitespace(prefix);
      if (absl::StartsWith(p, "message-id") || absl::StartsWith(p, "from:") ||
          absl::StartsWith(p, "reply-to") || absl::StartsWith(p, "sender:") ||
          absl::StartsWith(p, "return-path") ||
          absl::StartsWith(p, "received") ||
          absl::StartsWith(p, "in-reply-to") ||
          absl::StartsWith(p, "references") ||
          prefix.find("mail from:") != std::string::npos ||
          prefix.find("message-id") != std::string::npos ||
          prefix.find("sent by") != std::string::npos) {
        continue;
      }
      // A message id "<...@...>" preceded by "id" is not an address.
      if (h.pos >= 4 && section[h.pos - 1] == '<' &&
          ContainsCi(section.substr(h.pos - 4, 3), "id")) {
        continue;
      }
      if (excluded(h.address)) continue;
      kept.push_back(h);
    }
  };
  keep_hits();
  if (kept.empty() && rcpts.empty()) {
    allow_system = true;
    keep_hits();
  }
  if (rcpts.empty()) {
    for (const AddressHit& h : kept) {
      if (rcpts.size() >= kMaxBounceRecipients) break;
      bool seen = false;
      for (const std::string& r : rcpts) {
        if (absl::EqualsIgnoreCase(r, h.address)) seen = true;
      }
      if (!seen) rcpts.push_back(h.address);
    }
  }
  if (rcpts.empty()) {
    // A bounce that names nobody: one entry without an address.
    BounceRecipient r;
    r.diagnostic =
        std::string(absl::StripAsciiWhitespace(section.substr(0, 2048)));
    r.action = delayed ? "delayed" : "failed";
    Classify(&r, section, section);
    report->recipients.push_back(std::move(r));
    return;
  }
  for (size_t i = 0; i < rcpts.size(); ++i) {
    BounceRecipient r;
    r.address = rcpts[i];
    // The text from this recipient's first mention up to the first mention
    // of another recipient after it.
    size_t begin = absl::string_view::npos;
    for (const AddressHit& h : kept) {
      if (absl::EqualsIgnoreCase(h.address, r.address)) {
        begin = h.pos;
        break;
      }
    }
    std::string segment;
    if (begin != absl::string_view::npos) {
      size_t end = section.size();
      for (const AddressHit& h : kept) {
        if (h.pos > begin && !absl::EqualsIgnoreCase(h.address, r.address)) {
          end = h.pos;
          break;
        }
      }
      end = std::min(end, begin + 4096);
      // Include the two lines before the mention (the command an MTA's
      // transcript names), without reaching back into another recipient's.
      size_t floor = 0;
      for (const AddressHit& h : kept) {
        if (h.pos < begin && !absl::EqualsIgnoreCase(h.address, r.address)) {
          floor = h.end;
        }
      }
      size_t from = begin;
      for (int lines = 0; lines < 3 && from > floor; ++lines) {
        size_t nl = section.rfind('\n', from - 1);
        if (nl == absl::string_view::npos || nl < floor) {
          from = floor;
          break;
        }
        from = nl;
      }
      segment = std::string(section.substr(from, end - from));
    }
    FoundStatusCodes found = FindStatusCodesInText(segment);
    if (!found.reply_code && !found.enhanced) {
      segment = std::string(section.substr(0, 8192));
      found = FindStatusCodesInText(segment);
    }
    r.diagnostic = std::string(absl::StripAsciiWhitespace(segment));
    // A transcript's reply to this recipient's command is the receiver's own
    // words; the rest of the text may be about other hosts or attempts.
    TranscriptHit transcript = FindTranscript(section, r.address);
    if (FindStatusCodesInText(transcript.reply).reply_code) {
      r.diagnostic = std::move(transcript.reply);
    } else if (!found.reply_code && !found.enhanced) {
      // A gateway that gives no code at all ("unable to deliver to
      // <rcpt>") and returns, as the message, the upstream MTA's failure
      // report for the same recipient: that report's transcript holds the
      // receiver's reply. Only a transcript reply naming this very address
      // is read; the rest of a returned message is the sender's content.
      TranscriptHit upstream = FindTranscript(ReturnedText(c), r.address);
      if (ContainsCi(upstream.reply, r.address) &&
          FindStatusCodesInText(upstream.reply).reply_code) {
        r.diagnostic = std::move(upstream.reply);
        segment = r.diagnostic;
      }
    }
    if (r.diagnostic.size() > 2048) r.diagnostic.resize(2048);
    r.action = delayed ? "delayed" : "failed";
    Classify(&r, section, segment);
    MailingListRefusal(section, &r);
    report->recipients.push_back(std::move(r));
  }
}

// ---------------------------------------------------------------------------
// Amazon SES notifications delivered by mail (an SNS e-mail subscription):
// a JSON document with "notificationType" Bounce, Complaint or Delivery.
// A minimal reader: only the fields used here, strings without nesting.

// Where the JSON value of `"key":` starts in `text`, or npos.
size_t JsonValueStart(absl::string_view text, absl::string_view key) {
  std::string quoted = absl::StrCat("\"", key, "\"");
  size_t pos = text.find(quoted);
  if (pos == absl::string_view::npos) return pos;
  pos += quoted.size();
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  if (pos >= text.size() || text[pos] != ':') return absl::string_view::npos;
  ++pos;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  return pos < text.size() ? pos : absl::string_view::npos;
}

// The string at text[pos] (which must be '"'), unescaped; `end` is set past
// it.
std::string JsonStringAt(absl::string_view text, size_t pos, size_t* end) {
  std::string out;
  *end = pos;
  if (pos >= text.size() || text[pos] != '"') return out;
  for (size_t i = pos + 1; i < text.size() && out.size() < 4096; ++i) {
    char ch = text[i];
    if (ch == '"') {
      *end = i + 1;
      return out;
    }
    if (ch == '\\' && i + 1 < text.size()) {
      char e = text[++i];
      out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      continue;
    }
    out.push_back(ch);
  }
  *end = text.size();
  return out;
}

std::string JsonString(absl::string_view text, absl::string_view key) {
  size_t pos = JsonValueStart(text, key);
  if (pos == absl::string_view::npos) return "";
  size_t end;
  return JsonStringAt(text, pos, &end);
}

// The bracketed value ('[' or '{') at text[pos], brackets balanced outside
// strings; empty when unbalanced.
absl::string_view JsonBracketedAt(absl::string_view text, size_t pos) {
  if (pos >= text.size() || (text[pos] != '[' && text[pos] != '{')) return "";
  int depth = 0;
  bool in_string = false;
  for (size_t i = pos; i < text.size(); ++i) {
    char ch = text[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > 16) return "";
    } else if (ch == ']' || ch == '}') {
      if (--depth == 0) return text.substr(pos, i - pos + 1);
    }
  }
  return "";
}

// The elements of a JSON array: objects or strings (other kinds skipped).
std::vector<std::string> JsonArrayItems(absl::string_view text,
                                        absl::string_view key) {
  std::vector<std::string> items;
  size_t pos = JsonValueStart(text, key);
  if (pos == absl::string_view::npos) return items;
  absl::string_view array = JsonBracketedAt(text, pos);
  if (array.size() < 2 || array[0] != '[') return items;
  for (size_t i = 1;
       i + 1 < array.size() && items.size() < kMaxBounceRecipients;) {
    char ch = array[i];
    if (ch == '{') {
      absl::string_view obj = JsonBracketedAt(array, i);
      if (obj.empty()) break;
      items.emplace_back(obj);
      i += obj.size();
    } else if (ch == '"') {
      size_t end;
      items.push_back(JsonStringAt(array, i, &end));
      i = end;
    } else {
      ++i;
    }
  }
  return items;
}

// Fills `report` from an SES notification in `body`; false when the body is
// not one.
bool ParseSesNotification(absl::string_view body, BounceReport* report) {
  if (body.find("\"notificationType\"") == absl::string_view::npos) {
    return false;
  }
  // SNS mail wraps long lines ("!" + newline + space, or a plain fold).
  std::string json;
  json.reserve(std::min<size_t>(body.size(), kMaxBodyTextOctets));
  body = body.substr(0, kMaxBodyTextOctets);
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r') continue;
    if (body[i] == '!' && i + 2 < body.size() && body[i + 1] == '\n' &&
        body[i + 2] == ' ') {
      i += 2;
      continue;
    }
    if (body[i] == '\n') {
      if (i + 1 < body.size() && body[i + 1] == ' ') ++i;
      continue;
    }
    json.push_back(body[i]);
  }
  absl::string_view start(json);
  start = start.substr(std::min(start.size(), start.find('{')));
  const std::string type = Lower(JsonString(start, "notificationType"));
  if (type == "bounce") {
    size_t pos = JsonValueStart(start, "bounce");
    absl::string_view bounce =
        pos == absl::string_view::npos ? "" : JsonBracketedAt(start, pos);
    const bool transient =
        Lower(JsonString(bounce, "bounceType")) == "transient";
    for (const std::string& item :
         JsonArrayItems(bounce, "bouncedRecipients")) {
      BounceRecipient r;
      r.address = NormalizeAddress(JsonString(item, "emailAddress"));
      r.action = Lower(JsonString(item, "action"));
      if (r.action.empty()) r.action = transient ? "delayed" : "failed";
      r.status = JsonString(item, "status");
      r.diagnostic = StripType(JsonString(item, "diagnosticCode"));
      Classify(&r, "", "");
      report->recipients.push_back(std::move(r));
    }
    report->kind = BounceKind::kDsn;
  } else if (type == "complaint") {
    size_t pos = JsonValueStart(start, "complaint");
    absl::string_view complaint =
        pos == absl::string_view::npos ? "" : JsonBracketedAt(start, pos);
    std::string feedback = JsonString(complaint, "complaintFeedbackType");
    for (const std::string& item :
         JsonArrayItems(complaint, "complainedRecipients")) {
      BounceRecipient r;
      r.address = NormalizeAddress(JsonString(item, "emailAddress"));
      r.feedback_type = feedback;
      r.reason = Reason::kComplaint;
      r.bounce_class = BounceClass::kNone;
      r.rule = "ses:complaint";
      report->recipients.push_back(std::move(r));
    }
    report->kind = BounceKind::kArf;
  } else if (type == "delivery") {
    size_t pos = JsonValueStart(start, "delivery");
    absl::string_view delivery =
        pos == absl::string_view::npos ? "" : JsonBracketedAt(start, pos);
    for (const std::string& item : JsonArrayItems(delivery, "recipients")) {
      BounceRecipient r;
      r.address = NormalizeAddress(item);
      r.action = "delivered";
      r.reason = Reason::kDelivered;
      r.bounce_class = BounceClass::kNone;
      r.rule = "ses:delivery";
      report->recipients.push_back(std::move(r));
    }
    report->kind = BounceKind::kDsn;
  }
  if (report->recipients.empty()) {
    report->kind = BounceKind::kNone;
    return false;
  }
  report->is_bounce = true;
  return true;
}

bool ListRefusedPost(const Collected& c, absl::string_view from,
                     absl::string_view to, BounceReport* report) {
  const bool list_headers = !TopHeader(c, "list-id").empty() ||
                            !TopHeader(c, "x-ml-name").empty() ||
                            !TopHeader(c, "x-mlserver").empty() ||
                            !TopHeader(c, "mailing-list").empty() ||
                            !TopHeader(c, "list-subscribe").empty();
  if (!list_headers) return false;
  std::vector<AddressHit> from_hits = FindAddresses(from, 1);
  if (from_hits.empty()) return false;
  std::string from_local =
      Lower(from_hits[0].address.substr(0, from_hits[0].address.find('@')));
  bool admin = false;
  for (const char* p : {"admin", "owner", "request", "-ctl", "bounce",
                        "mailman", "majordomo", "listserv", "fml"}) {
    if (absl::StrContains(from_local, p)) admin = true;
  }
  if (!admin) return false;
  absl::string_view head = absl::string_view(c.body_text).substr(0, 2048);
  bool refused = false;
  for (const char* p :
       {"you are not a member", "are not a member of", "not allowed to post",
        "non-member posts", "only members may post", "members-only list"}) {
    if (ContainsCi(head, p)) refused = true;
  }
  if (!refused) return false;
  std::vector<std::string> exclude;
  for (const AddressHit& h : FindAddresses(from, 8)) {
    exclude.push_back(Lower(h.address));
  }
  for (const AddressHit& h : FindAddresses(to, 8)) {
    exclude.push_back(Lower(h.address));
  }
  for (const AddressHit& h : FindAddresses(head, 32)) {
    if (std::find(exclude.begin(), exclude.end(), Lower(h.address)) !=
        exclude.end()) {
      continue;
    }
    BounceRecipient r;
    r.address = NormalizeAddress(h.address);
    r.action = "failed";
    r.diagnostic = std::string(absl::StripAsciiWhitespace(head.substr(0, 512)));
    r.reason = Reason::kBlocked;
    r.bounce_class = BounceClass::kSoft;
    r.rule = "list:non_member_post";
    report->recipients.push_back(std::move(r));
    report->is_bounce = true;
    report->kind = BounceKind::kNonStandard;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// ARF.

// One entry per Original-Rcpt-To (RFC 5965 allows several); else the
// recipient named in the returned message.
void ParseArf(const Collected& c, BounceReport* report) {
  std::string feedback_type;
  std::vector<std::string> addresses;
  for (const std::string& text : c.feedback_reports) {
    for (const Field& f : ParseFields(text, 512)) {
      if (f.name == "feedback-type" && feedback_type.empty()) {
        feedback_type = Lower(absl::StripAsciiWhitespace(f.value));
      } else if ((f.name == "original-rcpt-to" ||
                  f.name == "removal-recipient") &&
                 addresses.size() < kMaxBounceRecipients) {
        std::string a = NormalizeAddress(f.value);
        if (!a.empty() && std::find(addresses.begin(), addresses.end(), a) ==
                              addresses.end()) {
          addresses.push_back(a);
        }
      } else if (f.name == "reporting-mta" && report->reporting_mta.empty()) {
        report->reporting_mta = StripType(f.value);
      }
    }
  }
  if (addresses.empty()) {
    std::vector<AddressHit> hits = FindAddresses(c.returned_rcpt, 1);
    if (hits.empty()) hits = FindAddresses(c.returned_to, 1);
    addresses.push_back(hits.empty() ? "" : hits[0].address);
  }
  if (feedback_type.empty()) feedback_type = "abuse";
  for (const std::string& a : addresses) {
    BounceRecipient r;
    r.address = a;
    r.feedback_type = feedback_type;
    r.reason = Reason::kComplaint;
    r.bounce_class = BounceClass::kNone;
    r.rule = "arf";
    report->recipients.push_back(std::move(r));
  }
}

}  // namespace

absl::string_view BounceKindName(BounceKind kind) {
  switch (kind) {
    case BounceKind::kNone:
      return "none";
    case BounceKind::kDsn:
      return "dsn";
    case BounceKind::kArf:
      return "arf";
    case BounceKind::kAutoReply:
      return "auto_reply";
    case BounceKind::kNonStandard:
      return "non_standard";
  }
  return "none";
}

absl::StatusOr<BounceReport> ParseBounce(absl::string_view raw_message) {
  if (raw_message.empty()) {
    return absl::InvalidArgumentError("bounce.empty: no bytes");
  }
  if (raw_message.size() > kMaxBounceOctets) {
    return absl::InvalidArgumentError("bounce.too_long: over 25 MiB");
  }
  BounceReport report;
  Collected c;

  const MimeEntity message = ReadMimeEntity(raw_message, kMaxEntityFields);
  c.top_headers = message.fields;
  Walk(message, TextPlain(), 0, false, &c);

  const std::string from = TopHeader(c, "from");
  const std::string to = TopHeader(c, "to");
  report.subject = TopHeader(c, "subject");

  // VERP address of the bounce itself.
  for (const char* name :
       {"delivered-to", "x-original-to", "envelope-to", "to"}) {
    for (const MimeField& f : c.top_headers) {
      if (!absl::EqualsIgnoreCase(f.name, name) ||
          !report.verp_address.empty()) {
        continue;
      }
      for (const AddressHit& h : FindAddresses(HeaderText(f.raw_value), 8)) {
        if (IsVerpAddress(h.address)) {
          report.verp_address = h.address;
          break;
        }
      }
    }
  }
  report.original_message_id = c.returned_message_id;
  report.deliverd_id = c.returned_deliverd_id;

  if (c.delivery_status.empty()) {
    c.delivery_status = std::move(c.nested_delivery_status);
  }
  // A multipart whose boundaries are missing yields no parts: fall back to
  // the raw body after the top-level header.
  if (c.body_text.empty() && c.delivery_status.empty() &&
      c.feedback_reports.empty() && HtmlText(c).empty()) {
    absl::string_view raw = raw_message;
    size_t split = raw.find("\n\n");
    size_t split_crlf = raw.find("\r\n\r\n");
    if (split_crlf != absl::string_view::npos &&
        (split == absl::string_view::npos || split_crlf < split)) {
      split = split_crlf;
    }
    if (split != absl::string_view::npos) {
      AppendBounded(&c.body_text, raw.substr(split));
    }
  }
  // DSN fields in a plain body (a report whose MIME structure is broken).
  if (c.delivery_status.empty() && c.feedback_reports.empty()) {
    const absl::string_view body(c.body_text);
    // The first line starting "Final-Recipient:", else the first starting
    // "Original-Recipient:" (one pass over the line starts).
    size_t final_at = absl::string_view::npos;
    size_t original_at = absl::string_view::npos;
    for (size_t nl = body.find('\n'); nl != absl::string_view::npos;
         nl = body.find('\n', nl + 1)) {
      const absl::string_view rest = body.substr(nl + 1);
      if (absl::StartsWithIgnoreCase(rest, "final-recipient:")) {
        final_at = nl;
        break;
      }
      if (original_at == absl::string_view::npos &&
          absl::StartsWithIgnoreCase(rest, "original-recipient:")) {
        original_at = nl;
      }
    }
    size_t pos = final_at != absl::string_view::npos ? final_at : original_at;
    if (pos != absl::string_view::npos &&
        FindCi(body.substr(pos), "\naction:") != absl::string_view::npos) {
      // The last Reporting-MTA before the recipient fields.
      size_t start = pos;
      const absl::string_view before = body.substr(0, pos);
      for (size_t from = 0;;) {
        size_t found = FindCi(before.substr(from), "\nreporting-mta:");
        if (found == absl::string_view::npos) break;
        start = from + found;
        from = start + 1;
      }
      c.delivery_status.push_back(std::string(body.substr(start)));
    }
  }
  c.body_returned_start = ReturnedMessageStart(c.body_text);

  if (report.original_message_id.empty() || report.deliverd_id.empty()) {
    // Returned headers quoted in a plain body.
    absl::string_view body(c.body_text);
    size_t start = c.body_returned_start;
    if (start < body.size()) {
      size_t nl = body.find('\n', start);
      if (nl != absl::string_view::npos) {
        Collected tmp;
        absl::string_view rest = body.substr(nl + 1);
        // Skip blank lines before the headers.
        while (!rest.empty() &&
               (rest.front() == '\n' || rest.front() == '\r')) {
          rest.remove_prefix(1);
        }
        NoteReturnedHeaders(rest, &tmp);
        if (report.original_message_id.empty()) {
          report.original_message_id = tmp.returned_message_id;
        }
        if (report.deliverd_id.empty())
          report.deliverd_id = tmp.returned_deliverd_id;
        if (c.returned_to.empty()) c.returned_to = tmp.returned_to;
      }
    }
  }

  // Last resort: "Message-ID:" / "X-Deliverd-Id:" lines quoted anywhere in
  // the body (indented or not).
  if (report.original_message_id.empty() || report.deliverd_id.empty()) {
    for (absl::string_view line : absl::StrSplit(c.body_text, '\n')) {
      line = absl::StripLeadingAsciiWhitespace(line);
      if (report.original_message_id.empty() &&
          absl::StartsWithIgnoreCase(line, "message-id:")) {
        std::string id = StripAngles(line.substr(strlen("message-id:")));
        if (id.find('@') != std::string::npos && id.size() < 1000) {
          report.original_message_id = id;
        }
      } else if (report.deliverd_id.empty() &&
                 absl::StartsWithIgnoreCase(line, "x-deliverd-id:")) {
        report.deliverd_id = std::string(absl::StripAsciiWhitespace(
            line.substr(strlen("x-deliverd-id:")).substr(0, 256)));
      }
    }
  }

  // Feedback reports; also the older non-ARF complaint format that returns
  // the message under a "complaint about message from ..." subject.
  if (c.report_type == "feedback-report" || !c.feedback_reports.empty() ||
      (c.has_returned_message &&
       absl::StartsWith(Lower(absl::StripAsciiWhitespace(report.subject)),
                        "complaint about message"))) {
    report.is_bounce = true;
    report.kind = BounceKind::kArf;
    ParseArf(c, &report);
    return report;
  }
  if (!c.delivery_status.empty()) {
    for (const std::string& text : c.delivery_status) {
      ParseDsn(text, &report);
    }
    if (!report.recipients.empty()) {
      report.is_bounce = true;
      report.kind = BounceKind::kDsn;
      const absl::string_view context = absl::string_view(c.body_text).substr(
          0, std::min<size_t>(c.body_text.size(), c.body_returned_start));
      for (BounceRecipient& r : report.recipients) {
        Classify(&r, context, Around(context, r.address));
      }
      return report;
    }
  }

  if (ParseSesNotification(c.body_text, &report)) return report;

  const bool daemon = SenderLooksLikeDaemon(from);
  const bool bounce_subject = SubjectLooksLikeBounce(report.subject);
  const bool failed_header = !TopHeader(c, "x-failed-recipients").empty();
  // A message that returns another (a message/rfc822 part) and says, before
  // it, that it "could not be delivered to:" someone: a bounce from a sender
  // and subject we do not know (carrier gateways send from no-reply@ with a
  // localised subject).
  const bool returned_with_failure =
      !daemon && !bounce_subject && !failed_header && c.has_returned_message &&
      ContainsCi(absl::string_view(c.body_text)
                     .substr(0, std::min<size_t>(
                                    c.body_returned_start, 8192)),
                 "could not be delivered to:");
  if (daemon || bounce_subject || failed_header || returned_with_failure ||
      c.report_type == "delivery-status") {
    report.is_bounce = true;
    report.kind = BounceKind::kNonStandard;
    ParseNonStandard(c, from, to, &report);
    return report;
  }

  // A mailing list's server refusing a post from a non-member (fml,
  // Mailman, Majordomo wording), sent from the list's administrative
  // address: the list refused the sender. One entry for the list address
  // named in the text (the sender excluded), reason blocked.
  if (ListRefusedPost(c, from, to, &report)) return report;

  std::string auto_submitted = Lower(TopHeader(c, "auto-submitted"));
  std::string lower_subject = Lower(report.subject);
  bool auto_reply = absl::StartsWith(auto_submitted, "auto-replied") ||
                    !TopHeader(c, "x-autoreply").empty() ||
                    !TopHeader(c, "x-autorespond").empty() ||
                    !TopHeader(c, "x-autoreply-from").empty() ||
                    Lower(TopHeader(c, "precedence")) == "auto_reply";
  for (const char* s : kAutoReplySubjects) {
    if (lower_subject.find(s) != std::string::npos) auto_reply = true;
  }
  if (auto_reply) {
    report.is_bounce = true;
    report.kind = BounceKind::kAutoReply;
    BounceRecipient r;
    std::vector<AddressHit> hits = FindAddresses(from, 1);
    if (!hits.empty()) r.address = hits[0].address;
    r.reason = Reason::kAutoReply;
    r.bounce_class = BounceClass::kNone;
    r.rule = "auto_reply";
    report.recipients.push_back(std::move(r));
    return report;
  }
  return report;
}

}  // namespace deliverd::hygiene::bounce
