#include "server/feedback/provider_events.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "hygiene/bounce/reason.h"
#include "hygiene/bounce/reply_classifier.h"
#include "hygiene/bounce/smtp_reply.h"

namespace deliverd::feedback {
namespace {

using ::deliverd::hygiene::bounce::BounceClass;
using ::deliverd::hygiene::bounce::ClassifyReply;
using ::deliverd::hygiene::bounce::ClassOfReason;
using ::deliverd::hygiene::bounce::EnhancedStatusCode;
using ::deliverd::hygiene::bounce::Outcome;
using ::deliverd::hygiene::bounce::Reason;
using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

#define DELIVERD_PE_CONCAT_INNER(a, b) a##b
#define DELIVERD_PE_CONCAT(a, b) DELIVERD_PE_CONCAT_INNER(a, b)
#define DELIVERD_PE_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return tmp.status();           \
  lhs = std::move(*tmp)
// ASSIGN_OR_RETURN for this file only.
#define PE_ASSIGN_OR_RETURN(lhs, expr) \
  DELIVERD_PE_ASSIGN_IMPL(DELIVERD_PE_CONCAT(pe_tmp_, __LINE__), lhs, expr)
#define PE_RETURN_IF_ERROR(expr)             \
  do {                                       \
    absl::Status pe_status_ = (expr);        \
    if (!pe_status_.ok()) return pe_status_; \
  } while (false)

constexpr size_t kMaxExcerpt = 120;
constexpr size_t kMaxAddressOctets = 512;

// A short, escaped excerpt of untrusted text for error messages.
std::string Excerpt(absl::string_view s) {
  bool cut = s.size() > kMaxExcerpt;
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMaxExcerpt)),
                      cut ? "...\"" : "\"");
}

// Reads fields of a parsed JSON object, producing errors that name the
// provider and the field path.
class Reader {
 public:
  explicit Reader(absl::string_view provider) : provider_(provider) {}

  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(provider_, " event: ", message));
  }

  absl::string_view provider() const { return provider_; }

  // The value of `key`, or nullptr when absent or JSON null.
  static const Value* Find(const Struct* s, absl::string_view key) {
    if (s == nullptr) return nullptr;
    auto it = s->fields().find(std::string(key));
    if (it == s->fields().end()) return nullptr;
    if (it->second.kind_case() == Value::kNullValue ||
        it->second.kind_case() == Value::KIND_NOT_SET) {
      return nullptr;
    }
    return &it->second;
  }

  absl::StatusOr<std::string> OptString(const Struct* s, absl::string_view key,
                                        absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return std::string();
    if (v->kind_case() != Value::kStringValue) {
      return TypeError(path, key, "a string");
    }
    return v->string_value();
  }

  absl::StatusOr<std::string> ReqString(const Struct* s, absl::string_view key,
                                        absl::string_view path) const {
    PE_ASSIGN_OR_RETURN(std::string value, OptString(s, key, path));
    if (value.empty()) {
      return Error(absl::StrCat("missing required field ", Join(path, key)));
    }
    return value;
  }

  // A string, or a number rendered as text (integers without a fraction).
  absl::StatusOr<std::string> OptScalarText(const Struct* s,
                                            absl::string_view key,
                                            absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return std::string();
    if (v->kind_case() == Value::kStringValue) return v->string_value();
    if (v->kind_case() == Value::kNumberValue) {
      double d = v->number_value();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e18) {
        return absl::StrCat(static_cast<int64_t>(d));
      }
      return absl::StrFormat("%.17g", d);
    }
    return TypeError(path, key, "a string or a number");
  }

  absl::StatusOr<std::optional<double>> OptNumber(
      const Struct* s, absl::string_view key, absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return std::optional<double>();
    if (v->kind_case() != Value::kNumberValue) {
      return TypeError(path, key, "a number");
    }
    return std::optional<double>(v->number_value());
  }

  // A number, or a string holding an integer (some providers quote codes).
  absl::StatusOr<int> OptCode(const Struct* s, absl::string_view key,
                              absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return 0;
    if (v->kind_case() == Value::kNumberValue) {
      double d = v->number_value();
      if (!std::isfinite(d) || d < 0 || d > 1e6) return 0;
      return static_cast<int>(d);
    }
    if (v->kind_case() == Value::kStringValue) {
      int code = 0;
      if (absl::SimpleAtoi(v->string_value(), &code) && code > 0 &&
          code < 1000000) {
        return code;
      }
      return 0;
    }
    return TypeError(path, key, "a number");
  }

  absl::StatusOr<bool> OptBool(const Struct* s, absl::string_view key,
                               absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return false;
    if (v->kind_case() != Value::kBoolValue) {
      return TypeError(path, key, "a boolean");
    }
    return v->bool_value();
  }

  absl::StatusOr<const Struct*> OptObject(const Struct* s,
                                          absl::string_view key,
                                          absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return static_cast<const Struct*>(nullptr);
    if (v->kind_case() != Value::kStructValue) {
      return TypeError(path, key, "an object");
    }
    return &v->struct_value();
  }

  absl::StatusOr<const Struct*> ReqObject(const Struct* s,
                                          absl::string_view key,
                                          absl::string_view path) const {
    PE_ASSIGN_OR_RETURN(const Struct* obj, OptObject(s, key, path));
    if (obj == nullptr) {
      return Error(absl::StrCat("missing required object ", Join(path, key)));
    }
    return obj;
  }

  absl::StatusOr<const ListValue*> OptList(const Struct* s,
                                           absl::string_view key,
                                           absl::string_view path) const {
    const Value* v = Find(s, key);
    if (v == nullptr) return static_cast<const ListValue*>(nullptr);
    if (v->kind_case() != Value::kListValue) {
      return TypeError(path, key, "an array");
    }
    if (static_cast<size_t>(v->list_value().values_size()) >
        kMaxProviderItems) {
      return Error(absl::StrCat(Join(path, key), " has more than ",
                                kMaxProviderItems, " elements"));
    }
    return &v->list_value();
  }

  // A non-empty array.
  absl::StatusOr<const ListValue*> ReqList(const Struct* s,
                                           absl::string_view key,
                                           absl::string_view path) const {
    PE_ASSIGN_OR_RETURN(const ListValue* list, OptList(s, key, path));
    if (list == nullptr || list->values_size() == 0) {
      return Error(absl::StrCat("missing required field ", Join(path, key),
                                " (a non-empty array)"));
    }
    return list;
  }

  static std::string Join(absl::string_view path, absl::string_view key) {
    if (path.empty()) return std::string(key);
    return absl::StrCat(path, ".", key);
  }

 private:
  absl::Status TypeError(absl::string_view path, absl::string_view key,
                         absl::string_view expected) const {
    return Error(
        absl::StrCat("field ", Join(path, key), " must be ", expected));
  }

  std::string provider_;
};

// Providers nest a few levels; protobuf 3.21's parser takes time
// quadratic in the nesting depth of arrays (seconds at a few thousand
// levels), so deeper input is refused before it is parsed.
constexpr int kMaxJsonDepth = 32;

// False when `json` nests arrays/objects deeper than kMaxJsonDepth. Strings
// (double- or single-quoted: protobuf's parser accepts both) are skipped.
// Conservative: may over-count on invalid input, never under-counts.
bool NestingWithinLimit(absl::string_view json) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// Parses JSON text into a Value (object, array or scalar).
absl::StatusOr<Value> ParseJson(const Reader& r, absl::string_view text,
                                absl::string_view what) {
  if (text.size() > kMaxProviderBodyBytes) {
    return r.Error(absl::StrCat(what, " is larger than ", kMaxProviderBodyBytes,
                                " bytes"));
  }
  if (absl::StripAsciiWhitespace(text).empty()) {
    return r.Error(absl::StrCat(what, " is empty"));
  }
  if (!NestingWithinLimit(text)) {
    return r.Error(
        absl::StrCat(what, " nests deeper than ", kMaxJsonDepth, " levels"));
  }
  Value value;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(text),
                                                            &value, options);
  if (!status.ok()) {
    std::string message(status.message().data(), status.message().size());
    return r.Error(
        absl::StrCat(what, " is not valid JSON: ", Excerpt(message)));
  }
  return value;
}

// The address with spaces and <> removed and the domain lower-cased.
absl::StatusOr<std::string> NormalizeRecipient(const Reader& r,
                                               absl::string_view raw,
                                               absl::string_view field) {
  absl::string_view s = absl::StripAsciiWhitespace(raw);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') {
    s = absl::StripAsciiWhitespace(s.substr(1, s.size() - 2));
  }
  if (s.empty()) {
    return r.Error(absl::StrCat("missing recipient (", field, ")"));
  }
  if (s.size() > kMaxAddressOctets) {
    return r.Error(absl::StrCat("recipient (", field, ") is too long"));
  }
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return r.Error(
          absl::StrCat("recipient (", field, ") contains a control character"));
    }
  }
  size_t at = s.rfind('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 == s.size()) {
    return r.Error(absl::StrCat("recipient (", field,
                                ") is not an address: ", Excerpt(s)));
  }
  return absl::StrCat(s.substr(0, at + 1),
                      absl::AsciiStrToLower(s.substr(at + 1)));
}

std::string StripMessageId(absl::string_view id) {
  absl::string_view s = absl::StripAsciiWhitespace(id);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(absl::StripAsciiWhitespace(s));
}

absl::Time ParseIsoTime(absl::string_view text) {
  std::string s(absl::StripAsciiWhitespace(text));
  if (s.empty()) return absl::InfinitePast();
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return t;
  // Without a zone: taken as UTC.
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S", s, absl::UTCTimeZone(), &t,
                      &err)) {
    return t;
  }
  return absl::InfinitePast();
}

absl::Time FromUnixSeconds(std::optional<double> seconds) {
  // Up to the year 9999; 0 and negatives are "unknown".
  if (!seconds.has_value() || !std::isfinite(*seconds) || *seconds <= 0 ||
      *seconds >= 253402300800.0) {
    return absl::InfinitePast();
  }
  return absl::FromUnixMicros(
      static_cast<int64_t>(std::llround(*seconds * 1e6)));
}

// ---------------------------------------------------------------------------
// Classification.

// What the receiver said, as far as the provider reports it.
struct Evidence {
  int reply_code = 0;  // 200-599 or 0
  std::optional<EnhancedStatusCode> enhanced;
  std::string text;
};

// `status_field`: a provider's separate enhanced status ("5.1.1"), which wins
// over codes found in the text. `code_field`: a separate reply code (0 if
// none). `text`: the diagnostic.
Evidence GatherEvidence(absl::string_view status_field, int code_field,
                        absl::string_view text) {
  Evidence e;
  e.text = std::string(text);
  hygiene::bounce::FoundStatusCodes found =
      hygiene::bounce::FindStatusCodesInText(text);
  auto parsed = hygiene::bounce::ParseEnhancedStatusCode(
      absl::StripAsciiWhitespace(status_field));
  if (parsed.ok() &&
      (parsed->klass == 2 || parsed->klass == 4 || parsed->klass == 5)) {
    e.enhanced = *parsed;
  } else {
    e.enhanced = found.enhanced;
  }
  if (code_field >= 200 && code_field <= 599) {
    e.reply_code = code_field;
  } else if (found.reply_code.has_value()) {
    e.reply_code = *found.reply_code;
  }
  if (e.reply_code == 0 && e.enhanced.has_value()) {
    e.reply_code = e.enhanced->klass * 100 + 50;
  }
  return e;
}

// The provider's own judgment.
struct Hint {
  Reason reason = Reason::kUnknown;  // used when the classifier cannot tell
  bool temporary = false;            // class soft whatever the reason
  bool never_hard = false;           // a block: hard becomes blocked/soft
  // Reply code assumed when the evidence has none (550 for "permanent", 450
  // for "temporary", 0 for "do not classify text without a code").
  int default_code = 0;
};

struct Verdict {
  Reason reason = Reason::kUnknown;
  BounceClass bounce_class = BounceClass::kSoft;
};

// Bounces and delays: combines the classifier's result with the hint as the
// header describes.
Verdict Decide(const Evidence& e, const Hint& hint) {
  Verdict v;
  int code = e.reply_code != 0 ? e.reply_code : hint.default_code;
  bool decided = false;
  if (code >= 200 && code <= 599) {
    auto c = ClassifyReply(code, e.enhanced, e.text);
    if (c.outcome != Outcome::kAccepted && c.reason != Reason::kUnknown) {
      v.reason = c.reason;
      v.bounce_class = c.bounce_class;
      decided = true;
    }
  }
  if (!decided) {
    v.reason = hint.reason;
    v.bounce_class = ClassOfReason(hint.reason);
  }
  if (hint.temporary && v.bounce_class == BounceClass::kHard) {
    v.bounce_class = BounceClass::kSoft;
  }
  if (hint.never_hard && (v.bounce_class == BounceClass::kHard ||
                          ClassOfReason(v.reason) == BounceClass::kHard ||
                          v.reason == Reason::kUnknown)) {
    v.reason = Reason::kBlocked;
    v.bounce_class = BounceClass::kSoft;
  }
  if (v.bounce_class == BounceClass::kHard &&
      ClassOfReason(v.reason) != BounceClass::kHard) {
    v.bounce_class = BounceClass::kSoft;
  }
  if (v.bounce_class == BounceClass::kNone) v.bounce_class = BounceClass::kSoft;
  // A classifier can say "delivered"/"complaint" only for odd input; a
  // bounce is neither.
  if (v.reason == Reason::kDelivered || v.reason == Reason::kComplaint ||
      v.reason == Reason::kAutoReply) {
    v.reason = Reason::kUnknown;
  }
  return v;
}

void ApplyEvidence(const Evidence& e, FeedbackItem* item) {
  item->reply_code = e.reply_code;
  if (e.enhanced.has_value()) item->status = e.enhanced->ToString();
  item->diagnostic = e.text;
}

// A bounce (or delay) item from evidence and hint.
void FillBounce(FeedbackKind kind, const Evidence& e, const Hint& hint,
                FeedbackItem* item) {
  item->kind = kind;
  ApplyEvidence(e, item);
  Verdict v = Decide(e, hint);
  item->reason = v.reason;
  item->bounce_class =
      kind == FeedbackKind::kDelayed ? BounceClass::kSoft : v.bounce_class;
  if (item->action.empty()) {
    item->action = kind == FeedbackKind::kDelayed ? "delayed" : "failed";
  }
}

// The provider refused to send because of its own suppression list.
void FillProviderSuppression(absl::string_view diagnostic, FeedbackItem* item) {
  item->kind = FeedbackKind::kBounce;
  item->reason = Reason::kPolicy;
  item->bounce_class = BounceClass::kSoft;
  item->action = "failed";
  item->diagnostic = std::string(diagnostic);
}

void FillComplaint(absl::string_view feedback_type, FeedbackItem* item) {
  item->kind = FeedbackKind::kComplaint;
  item->reason = Reason::kComplaint;
  item->bounce_class = BounceClass::kNone;
  item->feedback_type =
      feedback_type.empty() ? "abuse" : std::string(feedback_type);
}

void FillDelivered(const Evidence& e, FeedbackItem* item) {
  item->kind = FeedbackKind::kDelivered;
  item->reason = Reason::kDelivered;
  item->bounce_class = BounceClass::kNone;
  item->action = "delivered";
  ApplyEvidence(e, item);
}

void FillEngagement(FeedbackKind kind, FeedbackItem* item) {
  item->kind = kind;
  item->reason = Reason::kUnknown;
  item->bounce_class = BounceClass::kNone;
}

void FillUnsubscribe(absl::string_view list, FeedbackItem* item) {
  item->kind = FeedbackKind::kUnsubscribe;
  item->reason = Reason::kUnknown;
  item->bounce_class = BounceClass::kNone;
  item->list = std::string(list);
}

// ---------------------------------------------------------------------------
// Amazon SES.

struct SesContext {
  std::string sns_message_id;
  MessageRef ref;
  absl::Time mail_time = absl::InfinitePast();
  std::vector<std::string> destinations;  // raw
};

absl::StatusOr<SesContext> ReadSesMail(const Reader& r, const Struct* n) {
  SesContext ctx;
  PE_ASSIGN_OR_RETURN(const Struct* mail, r.OptObject(n, "mail", ""));
  if (mail == nullptr) return ctx;
  PE_ASSIGN_OR_RETURN(ctx.ref.verp_address,
                      r.OptString(mail, "source", "mail"));
  PE_ASSIGN_OR_RETURN(std::string ts, r.OptString(mail, "timestamp", "mail"));
  ctx.mail_time = ParseIsoTime(ts);
  PE_ASSIGN_OR_RETURN(const ListValue* headers,
                      r.OptList(mail, "headers", "mail"));
  if (headers != nullptr) {
    for (const Value& h : headers->values()) {
      if (h.kind_case() != Value::kStructValue) {
        return r.Error("mail.headers elements must be objects");
      }
      PE_ASSIGN_OR_RETURN(
          std::string name,
          r.OptString(&h.struct_value(), "name", "mail.headers"));
      PE_ASSIGN_OR_RETURN(
          std::string value,
          r.OptString(&h.struct_value(), "value", "mail.headers"));
      if (absl::EqualsIgnoreCase(name, "Message-ID") &&
          ctx.ref.rfc822_message_id.empty()) {
        ctx.ref.rfc822_message_id = StripMessageId(value);
      } else if (absl::EqualsIgnoreCase(name, "X-Deliverd-Id") &&
                 ctx.ref.deliverd_id.empty()) {
        ctx.ref.deliverd_id = std::string(absl::StripAsciiWhitespace(value));
      }
    }
  }
  if (ctx.ref.rfc822_message_id.empty()) {
    PE_ASSIGN_OR_RETURN(const Struct* common,
                        r.OptObject(mail, "commonHeaders", "mail"));
    PE_ASSIGN_OR_RETURN(std::string id,
                        r.OptString(common, "messageId", "mail.commonHeaders"));
    ctx.ref.rfc822_message_id = StripMessageId(id);
  }
  if (ctx.ref.deliverd_id.empty()) {
    PE_ASSIGN_OR_RETURN(const Struct* tags, r.OptObject(mail, "tags", "mail"));
    PE_ASSIGN_OR_RETURN(const ListValue* ids,
                        r.OptList(tags, "deliverd_id", "mail.tags"));
    if (ids != nullptr && ids->values_size() > 0 &&
        ids->values(0).kind_case() == Value::kStringValue) {
      ctx.ref.deliverd_id = ids->values(0).string_value();
    }
  }
  PE_ASSIGN_OR_RETURN(const ListValue* dest,
                      r.OptList(mail, "destination", "mail"));
  if (dest != nullptr) {
    for (const Value& d : dest->values()) {
      if (d.kind_case() != Value::kStringValue) {
        return r.Error("mail.destination elements must be strings");
      }
      ctx.destinations.push_back(d.string_value());
    }
  }
  return ctx;
}

FeedbackItem NewSesItem(const SesContext& ctx) {
  FeedbackItem item;
  item.source = "ses";
  item.ref = ctx.ref;
  item.time = ctx.mail_time;
  return item;
}

void SetSesEventId(const SesContext& ctx, absl::string_view feedback_id,
                   FeedbackItem* item) {
  if (!feedback_id.empty()) {
    item->event_id = absl::StrCat(feedback_id, ":", item->recipient);
  } else if (!ctx.sns_message_id.empty()) {
    item->event_id = absl::StrCat(ctx.sns_message_id, ":", item->recipient);
  }
}

Hint SesBounceHint(absl::string_view type, absl::string_view subtype) {
  Hint hint;
  if (type == "Permanent") {
    hint.default_code = 550;
  } else if (type == "Transient") {
    hint.temporary = true;
    hint.default_code = 450;
  }
  if (subtype == "NoEmail") {
    hint.reason = Reason::kUserUnknown;
  } else if (subtype == "MailboxFull") {
    hint.reason = Reason::kMailboxFull;
  } else if (subtype == "MessageTooLarge") {
    hint.reason = Reason::kMessageTooLarge;
  } else if (subtype == "ContentRejected" || subtype == "AttachmentRejected") {
    hint.reason = Reason::kContentRejected;
  }
  return hint;
}

absl::Status ParseSesBounce(const Reader& r, const SesContext& ctx,
                            const Struct* n, std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(const Struct* b, r.ReqObject(n, "bounce", ""));
  PE_ASSIGN_OR_RETURN(std::string type, r.OptString(b, "bounceType", "bounce"));
  PE_ASSIGN_OR_RETURN(std::string subtype,
                      r.OptString(b, "bounceSubType", "bounce"));
  PE_ASSIGN_OR_RETURN(std::string feedback_id,
                      r.OptString(b, "feedbackId", "bounce"));
  PE_ASSIGN_OR_RETURN(std::string ts, r.OptString(b, "timestamp", "bounce"));
  PE_ASSIGN_OR_RETURN(std::string remote,
                      r.OptString(b, "remoteMtaIp", "bounce"));
  PE_ASSIGN_OR_RETURN(const ListValue* recipients,
                      r.ReqList(b, "bouncedRecipients", "bounce"));
  const bool suppressed =
      subtype == "Suppressed" || subtype == "OnAccountSuppressionList";
  Hint hint = SesBounceHint(type, subtype);
  for (const Value& rv : recipients->values()) {
    if (rv.kind_case() != Value::kStructValue) {
      return r.Error("bounce.bouncedRecipients elements must be objects");
    }
    const Struct* rs = &rv.struct_value();
    constexpr absl::string_view kPath = "bounce.bouncedRecipients";
    PE_ASSIGN_OR_RETURN(std::string email,
                        r.ReqString(rs, "emailAddress", kPath));
    PE_ASSIGN_OR_RETURN(std::string action, r.OptString(rs, "action", kPath));
    PE_ASSIGN_OR_RETURN(std::string status, r.OptString(rs, "status", kPath));
    PE_ASSIGN_OR_RETURN(std::string diag,
                        r.OptString(rs, "diagnosticCode", kPath));
    FeedbackItem item = NewSesItem(ctx);
    PE_ASSIGN_OR_RETURN(item.recipient,
                        NormalizeRecipient(r, email, "emailAddress"));
    if (!ts.empty()) item.time = ParseIsoTime(ts);
    item.remote_host = remote;
    if (suppressed) {
      FillProviderSuppression(
          diag.empty() ? absl::StrCat("ses: ", type, "/", subtype) : diag,
          &item);
      Evidence e = GatherEvidence(status, 0, diag);
      item.reply_code = e.reply_code;
      if (e.enhanced.has_value()) item.status = e.enhanced->ToString();
    } else {
      item.action = action;
      Evidence e = GatherEvidence(status, 0, diag);
      FillBounce(FeedbackKind::kBounce, e, hint, &item);
      if (diag.empty()) {
        item.diagnostic = absl::StrCat("ses: ", type, "/", subtype);
      }
    }
    SetSesEventId(ctx, feedback_id, &item);
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status ParseSesComplaint(const Reader& r, const SesContext& ctx,
                               const Struct* n,
                               std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(const Struct* c, r.ReqObject(n, "complaint", ""));
  PE_ASSIGN_OR_RETURN(std::string feedback_type,
                      r.OptString(c, "complaintFeedbackType", "complaint"));
  PE_ASSIGN_OR_RETURN(std::string subtype,
                      r.OptString(c, "complaintSubType", "complaint"));
  PE_ASSIGN_OR_RETURN(std::string feedback_id,
                      r.OptString(c, "feedbackId", "complaint"));
  PE_ASSIGN_OR_RETURN(std::string ts, r.OptString(c, "timestamp", "complaint"));
  PE_ASSIGN_OR_RETURN(const ListValue* recipients,
                      r.ReqList(c, "complainedRecipients", "complaint"));
  for (const Value& rv : recipients->values()) {
    if (rv.kind_case() != Value::kStructValue) {
      return r.Error("complaint.complainedRecipients elements must be objects");
    }
    PE_ASSIGN_OR_RETURN(std::string email,
                        r.ReqString(&rv.struct_value(), "emailAddress",
                                    "complaint.complainedRecipients"));
    FeedbackItem item = NewSesItem(ctx);
    PE_ASSIGN_OR_RETURN(item.recipient,
                        NormalizeRecipient(r, email, "emailAddress"));
    if (!ts.empty()) item.time = ParseIsoTime(ts);
    if (subtype == "OnAccountSuppressionList") {
      FillProviderSuppression("ses: complaint/OnAccountSuppressionList", &item);
    } else {
      FillComplaint(feedback_type, &item);
    }
    SetSesEventId(ctx, feedback_id, &item);
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status ParseSesDelivery(const Reader& r, const SesContext& ctx,
                              const Struct* n, std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(const Struct* d, r.ReqObject(n, "delivery", ""));
  PE_ASSIGN_OR_RETURN(std::string ts, r.OptString(d, "timestamp", "delivery"));
  PE_ASSIGN_OR_RETURN(std::string response,
                      r.OptString(d, "smtpResponse", "delivery"));
  PE_ASSIGN_OR_RETURN(std::string remote,
                      r.OptString(d, "remoteMtaIp", "delivery"));
  PE_ASSIGN_OR_RETURN(const ListValue* recipients,
                      r.ReqList(d, "recipients", "delivery"));
  Evidence e = GatherEvidence("", 0, response);
  for (const Value& rv : recipients->values()) {
    if (rv.kind_case() != Value::kStringValue) {
      return r.Error("field delivery.recipients elements must be strings");
    }
    FeedbackItem item = NewSesItem(ctx);
    PE_ASSIGN_OR_RETURN(
        item.recipient,
        NormalizeRecipient(r, rv.string_value(), "delivery.recipients"));
    if (!ts.empty()) item.time = ParseIsoTime(ts);
    FillDelivered(e, &item);
    item.remote_host = remote;
    SetSesEventId(ctx, "", &item);
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

Reason SesDelayReason(absl::string_view delay_type) {
  if (delay_type == "MailboxFull") return Reason::kMailboxFull;
  if (delay_type == "SpamDetected") return Reason::kSpamDetected;
  if (delay_type == "IPFailure") return Reason::kBlocked;
  if (delay_type == "SendingDeferral") return Reason::kRateLimited;
  if (delay_type == "TransientCommunicationFailure") {
    return Reason::kNetworkError;
  }
  if (delay_type == "InternalFailure" || delay_type == "RecipientServerError" ||
      delay_type == "BYOIPHostNameLookupUnavailable") {
    return Reason::kSystemError;
  }
  return Reason::kUnknown;
}

absl::Status ParseSesDelay(const Reader& r, const SesContext& ctx,
                           const Struct* n, std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(const Struct* d, r.ReqObject(n, "deliveryDelay", ""));
  PE_ASSIGN_OR_RETURN(std::string delay_type,
                      r.OptString(d, "delayType", "deliveryDelay"));
  PE_ASSIGN_OR_RETURN(std::string ts,
                      r.OptString(d, "timestamp", "deliveryDelay"));
  PE_ASSIGN_OR_RETURN(const ListValue* recipients,
                      r.ReqList(d, "delayedRecipients", "deliveryDelay"));
  Hint hint;
  hint.temporary = true;
  hint.default_code = 450;
  hint.reason = SesDelayReason(delay_type);
  for (const Value& rv : recipients->values()) {
    if (rv.kind_case() != Value::kStructValue) {
      return r.Error(
          "deliveryDelay.delayedRecipients elements must be objects");
    }
    const Struct* rs = &rv.struct_value();
    constexpr absl::string_view kPath = "deliveryDelay.delayedRecipients";
    PE_ASSIGN_OR_RETURN(std::string email,
                        r.ReqString(rs, "emailAddress", kPath));
    PE_ASSIGN_OR_RETURN(std::string status, r.OptString(rs, "status", kPath));
    PE_ASSIGN_OR_RETURN(std::string diag,
                        r.OptString(rs, "diagnosticCode", kPath));
    FeedbackItem item = NewSesItem(ctx);
    PE_ASSIGN_OR_RETURN(item.recipient,
                        NormalizeRecipient(r, email, "emailAddress"));
    if (!ts.empty()) item.time = ParseIsoTime(ts);
    FillBounce(FeedbackKind::kDelayed, GatherEvidence(status, 0, diag), hint,
               &item);
    if (diag.empty()) item.diagnostic = absl::StrCat("ses: delay/", delay_type);
    SetSesEventId(ctx, "", &item);
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

// The first (or every) mail.destination as recipients.
absl::StatusOr<std::vector<std::string>> SesDestinations(const Reader& r,
                                                         const SesContext& ctx,
                                                         bool first_only) {
  if (ctx.destinations.empty()) {
    return r.Error("missing recipient (mail.destination)");
  }
  std::vector<std::string> out;
  for (const std::string& d : ctx.destinations) {
    PE_ASSIGN_OR_RETURN(std::string rcpt,
                        NormalizeRecipient(r, d, "mail.destination"));
    out.push_back(std::move(rcpt));
    if (first_only) break;
  }
  return out;
}

absl::Status ParseSesEngagement(const Reader& r, const SesContext& ctx,
                                const Struct* n, bool click,
                                std::vector<FeedbackItem>* out) {
  absl::string_view key = click ? "click" : "open";
  PE_ASSIGN_OR_RETURN(const Struct* o, r.ReqObject(n, key, ""));
  PE_ASSIGN_OR_RETURN(std::string ts, r.OptString(o, "timestamp", key));
  std::string link;
  if (click) {
    PE_ASSIGN_OR_RETURN(link, r.OptString(o, "link", key));
  }
  PE_ASSIGN_OR_RETURN(std::vector<std::string> rcpts,
                      SesDestinations(r, ctx, /*first_only=*/true));
  FeedbackItem item = NewSesItem(ctx);
  item.recipient = rcpts.front();
  if (!ts.empty()) item.time = ParseIsoTime(ts);
  FillEngagement(click ? FeedbackKind::kClick : FeedbackKind::kOpen, &item);
  item.url = link;
  SetSesEventId(ctx, "", &item);
  out->push_back(std::move(item));
  return absl::OkStatus();
}

absl::Status ParseSesReject(const Reader& r, const SesContext& ctx,
                            const Struct* n, std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(const Struct* rej, r.OptObject(n, "reject", ""));
  PE_ASSIGN_OR_RETURN(std::string why, r.OptString(rej, "reason", "reject"));
  PE_ASSIGN_OR_RETURN(std::vector<std::string> rcpts,
                      SesDestinations(r, ctx, /*first_only=*/false));
  for (std::string& rcpt : rcpts) {
    FeedbackItem item = NewSesItem(ctx);
    item.recipient = std::move(rcpt);
    item.kind = FeedbackKind::kBounce;
    item.reason = Reason::kVirus;
    item.bounce_class = BounceClass::kSoft;
    item.action = "failed";
    item.diagnostic = absl::StrCat("ses: reject: ", why);
    SetSesEventId(ctx, "", &item);
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status ParseSesSubscription(const Reader& r, const SesContext& ctx,
                                  const Struct* n,
                                  std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(const Struct* s, r.ReqObject(n, "subscription", ""));
  PE_ASSIGN_OR_RETURN(std::string ts,
                      r.OptString(s, "timestamp", "subscription"));
  PE_ASSIGN_OR_RETURN(const Struct* prefs,
                      r.OptObject(s, "newTopicPreferences", "subscription"));
  constexpr absl::string_view kPath = "subscription.newTopicPreferences";
  PE_ASSIGN_OR_RETURN(bool all, r.OptBool(prefs, "unsubscribeAll", kPath));
  std::vector<std::string> lists;
  if (all) {
    lists.push_back("");
  } else {
    PE_ASSIGN_OR_RETURN(const ListValue* topics,
                        r.OptList(prefs, "topicSubscriptionStatus", kPath));
    if (topics != nullptr) {
      for (const Value& t : topics->values()) {
        if (t.kind_case() != Value::kStructValue) {
          return r.Error(absl::StrCat(
              kPath, ".topicSubscriptionStatus elements must be objects"));
        }
        PE_ASSIGN_OR_RETURN(std::string name,
                            r.OptString(&t.struct_value(), "topicName", kPath));
        PE_ASSIGN_OR_RETURN(
            std::string status,
            r.OptString(&t.struct_value(), "subscriptionStatus", kPath));
        if (status == "OptOut" && !name.empty()) lists.push_back(name);
      }
    }
  }
  if (lists.empty()) return absl::OkStatus();
  PE_ASSIGN_OR_RETURN(std::vector<std::string> rcpts,
                      SesDestinations(r, ctx, /*first_only=*/true));
  for (const std::string& list : lists) {
    FeedbackItem item = NewSesItem(ctx);
    item.recipient = rcpts.front();
    if (!ts.empty()) item.time = ParseIsoTime(ts);
    FillUnsubscribe(list, &item);
    SetSesEventId(ctx, "", &item);
    if (!item.event_id.empty() && !list.empty()) {
      absl::StrAppend(&item.event_id, ":", list);
    }
    out->push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FeedbackItem>> ParseSesNotification(
    const Reader& r, const Struct* n, std::string sns_message_id) {
  PE_ASSIGN_OR_RETURN(std::string type, r.OptString(n, "notificationType", ""));
  if (type.empty()) {
    PE_ASSIGN_OR_RETURN(type, r.OptString(n, "eventType", ""));
  }
  if (type.empty()) {
    return r.Error(
        "missing required field notificationType or eventType (not an SES "
        "notification)");
  }
  std::vector<FeedbackItem> out;
  if (type == "Send" || type == "Rendering Failure" ||
      type == "AmazonSnsSubscriptionSucceeded") {
    return out;
  }
  PE_ASSIGN_OR_RETURN(SesContext ctx, ReadSesMail(r, n));
  ctx.sns_message_id = std::move(sns_message_id);
  absl::Status status;
  if (type == "Bounce") {
    status = ParseSesBounce(r, ctx, n, &out);
  } else if (type == "Complaint") {
    status = ParseSesComplaint(r, ctx, n, &out);
  } else if (type == "Delivery") {
    status = ParseSesDelivery(r, ctx, n, &out);
  } else if (type == "DeliveryDelay") {
    status = ParseSesDelay(r, ctx, n, &out);
  } else if (type == "Open") {
    status = ParseSesEngagement(r, ctx, n, /*click=*/false, &out);
  } else if (type == "Click") {
    status = ParseSesEngagement(r, ctx, n, /*click=*/true, &out);
  } else if (type == "Reject") {
    status = ParseSesReject(r, ctx, n, &out);
  } else if (type == "Subscription") {
    status = ParseSesSubscription(r, ctx, n, &out);
  } else {
    return r.Error(absl::StrCat("unsupported event type ", Excerpt(type)));
  }
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<FeedbackItem>> ParseSes(absl::string_view body) {
  Reader r("ses");
  PE_ASSIGN_OR_RETURN(Value top, ParseJson(r, body, "body"));
  if (top.kind_case() != Value::kStructValue) {
    return r.Error("body must be a JSON object");
  }
  const Struct* obj = &top.struct_value();
  PE_ASSIGN_OR_RETURN(std::string sns_type, r.OptString(obj, "Type", ""));
  if (sns_type.empty()) return ParseSesNotification(r, obj, "");
  if (sns_type == "SubscriptionConfirmation") {
    PE_ASSIGN_OR_RETURN(std::string url, r.OptString(obj, "SubscribeURL", ""));
    return r.Error(absl::StrCat(
        "this is an SNS SubscriptionConfirmation, not a notification: confirm "
        "the subscription by visiting its SubscribeURL ",
        Excerpt(url), " (deliverd does not fetch it)"));
  }
  if (sns_type == "UnsubscribeConfirmation") {
    return std::vector<FeedbackItem>();
  }
  if (sns_type != "Notification") {
    return r.Error(
        absl::StrCat("unsupported SNS message Type ", Excerpt(sns_type)));
  }
  PE_ASSIGN_OR_RETURN(std::string message_id,
                      r.OptString(obj, "MessageId", ""));
  PE_ASSIGN_OR_RETURN(std::string message, r.ReqString(obj, "Message", ""));
  PE_ASSIGN_OR_RETURN(Value inner, ParseJson(r, message, "SNS Message"));
  if (inner.kind_case() != Value::kStructValue) {
    return r.Error("SNS Message must be a JSON object");
  }
  return ParseSesNotification(r, &inner.struct_value(), message_id);
}

// ---------------------------------------------------------------------------
// Mailgun.

absl::StatusOr<std::vector<FeedbackItem>> ParseMailgun(absl::string_view body) {
  Reader r("mailgun");
  PE_ASSIGN_OR_RETURN(Value top, ParseJson(r, body, "body"));
  if (top.kind_case() != Value::kStructValue) {
    return r.Error("body must be a JSON object");
  }
  const Struct* ev = &top.struct_value();
  PE_ASSIGN_OR_RETURN(const Struct* inner, r.OptObject(ev, "event-data", ""));
  std::string path;
  if (inner != nullptr) {
    ev = inner;
    path = "event-data";
  }
  PE_ASSIGN_OR_RETURN(std::string event, r.ReqString(ev, "event", path));
  std::vector<FeedbackItem> out;
  if (event == "accepted" || event == "stored" || event == "rejected" ||
      absl::StartsWith(event, "list_member")) {
    return out;
  }
  FeedbackItem item;
  item.source = "mailgun";
  PE_ASSIGN_OR_RETURN(std::string rcpt, r.OptString(ev, "recipient", path));
  PE_ASSIGN_OR_RETURN(
      item.recipient,
      NormalizeRecipient(r, rcpt, Reader::Join(path, "recipient")));
  PE_ASSIGN_OR_RETURN(item.event_id, r.OptString(ev, "id", path));
  PE_ASSIGN_OR_RETURN(std::optional<double> ts,
                      r.OptNumber(ev, "timestamp", path));
  item.time = FromUnixSeconds(ts);
  // ref
  PE_ASSIGN_OR_RETURN(const Struct* uv,
                      r.OptObject(ev, "user-variables", path));
  std::string uv_path = Reader::Join(path, "user-variables");
  PE_ASSIGN_OR_RETURN(item.ref.deliverd_id,
                      r.OptScalarText(uv, "deliverd_id", uv_path));
  PE_ASSIGN_OR_RETURN(const Struct* msg, r.OptObject(ev, "message", path));
  std::string msg_path = Reader::Join(path, "message");
  PE_ASSIGN_OR_RETURN(const Struct* headers,
                      r.OptObject(msg, "headers", msg_path));
  PE_ASSIGN_OR_RETURN(
      std::string message_id,
      r.OptString(headers, "message-id", Reader::Join(msg_path, "headers")));
  item.ref.rfc822_message_id = StripMessageId(message_id);
  PE_ASSIGN_OR_RETURN(const Struct* envelope,
                      r.OptObject(ev, "envelope", path));
  PE_ASSIGN_OR_RETURN(
      item.ref.verp_address,
      r.OptString(envelope, "sender", Reader::Join(path, "envelope")));
  // delivery-status
  PE_ASSIGN_OR_RETURN(const Struct* ds,
                      r.OptObject(ev, "delivery-status", path));
  std::string ds_path = Reader::Join(path, "delivery-status");
  PE_ASSIGN_OR_RETURN(int code, r.OptCode(ds, "code", ds_path));
  PE_ASSIGN_OR_RETURN(std::string enhanced,
                      r.OptString(ds, "enhanced-code", ds_path));
  PE_ASSIGN_OR_RETURN(std::string ds_message,
                      r.OptString(ds, "message", ds_path));
  PE_ASSIGN_OR_RETURN(std::string ds_description,
                      r.OptString(ds, "description", ds_path));
  PE_ASSIGN_OR_RETURN(item.remote_host, r.OptString(ds, "mx-host", ds_path));
  std::string text = ds_message;
  if (!ds_description.empty() && ds_description != ds_message) {
    text = text.empty() ? ds_description
                        : absl::StrCat(ds_message, "\n", ds_description);
  }

  if (event == "delivered") {
    FillDelivered(GatherEvidence(enhanced, code, text), &item);
  } else if (event == "failed") {
    PE_ASSIGN_OR_RETURN(std::string severity,
                        r.OptString(ev, "severity", path));
    PE_ASSIGN_OR_RETURN(std::string reason, r.OptString(ev, "reason", path));
    if (absl::StartsWith(reason, "suppress-")) {
      FillProviderSuppression(
          text.empty() ? absl::StrCat("mailgun: ", reason) : text, &item);
      if (code >= 200 && code <= 599) item.reply_code = code;
    } else {
      Hint hint;
      bool temporary = severity == "temporary";
      hint.temporary = temporary;
      hint.default_code = temporary ? 450 : 550;
      if (reason == "old") hint.reason = Reason::kExpired;
      if (reason == "espblock") {
        hint.reason = Reason::kBlocked;
        hint.never_hard = true;
      }
      FillBounce(temporary ? FeedbackKind::kDelayed : FeedbackKind::kBounce,
                 GatherEvidence(enhanced, code, text), hint, &item);
      if (item.diagnostic.empty() && !reason.empty()) {
        item.diagnostic = absl::StrCat("mailgun: ", reason);
      }
    }
  } else if (event == "complained") {
    FillComplaint("", &item);
  } else if (event == "unsubscribed") {
    PE_ASSIGN_OR_RETURN(const Struct* ml,
                        r.OptObject(ev, "mailing-list", path));
    PE_ASSIGN_OR_RETURN(
        std::string list,
        r.OptString(ml, "address", Reader::Join(path, "mailing-list")));
    FillUnsubscribe(list, &item);
  } else if (event == "opened") {
    FillEngagement(FeedbackKind::kOpen, &item);
  } else if (event == "clicked") {
    FillEngagement(FeedbackKind::kClick, &item);
    PE_ASSIGN_OR_RETURN(item.url, r.OptString(ev, "url", path));
  } else {
    return r.Error(absl::StrCat("unsupported event type ", Excerpt(event)));
  }
  out.push_back(std::move(item));
  return out;
}

// ---------------------------------------------------------------------------
// Postmark.

// The literal text of a top-level number member `key` of a JSON object, or
// "" when absent or not a number. `json` has already been validated by the
// JSON parser; this scanner only has to find the member, never validate.
std::string RawTopLevelNumber(absl::string_view json, absl::string_view key) {
  size_t i = 0;
  const size_t n = json.size();
  auto skip_ws = [&] {
    while (i < n && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' ||
                     json[i] == '\r')) {
      ++i;
    }
  };
  // Skips a string starting at json[i] == '"'; returns its raw contents.
  auto skip_string = [&]() -> absl::string_view {
    size_t start = ++i;
    while (i < n && json[i] != '"') {
      if (json[i] == '\\') ++i;
      ++i;
    }
    absl::string_view raw = json.substr(start, std::min(i, n) - start);
    if (i < n) ++i;
    return raw;
  };
  skip_ws();
  if (i >= n || json[i] != '{') return "";
  ++i;
  while (i < n) {
    skip_ws();
    if (i >= n || json[i] != '"') return "";
    absl::string_view name = skip_string();
    skip_ws();
    if (i >= n || json[i] != ':') return "";
    ++i;
    skip_ws();
    if (i >= n) return "";
    if (name == key) {
      size_t start = i;
      while (i < n &&
             (absl::ascii_isdigit(static_cast<unsigned char>(json[i])) ||
              json[i] == '-' || json[i] == '+' || json[i] == '.' ||
              json[i] == 'e' || json[i] == 'E')) {
        ++i;
      }
      return std::string(json.substr(start, i - start));
    }
    // Skip the value.
    int depth = 0;
    while (i < n) {
      char c = json[i];
      if (c == '"') {
        skip_string();
        if (depth == 0) break;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return "";  // end of the object
        --depth;
        if (depth == 0) {
          ++i;
          break;
        }
      } else if (depth == 0 && c == ',') {
        break;
      }
      ++i;
    }
    skip_ws();
    if (i < n && json[i] == ',') {
      ++i;
      continue;
    }
    return "";
  }
  return "";
}

struct PostmarkBounceMap {
  absl::string_view type;
  enum Action {
    kBounceHint,   // kBounce with hint reason (classifier first)
    kBounceSoft,   // kBounce, temporary hint
    kDelay,        // kDelayed
    kBlock,        // kBounce, never hard
    kSuppression,  // provider suppression
    kAutoReply,
    kComplaint,
    kUnsubscribe,
    kSkip,
  } action;
  Reason reason;
};

constexpr PostmarkBounceMap kPostmarkBounces[] = {
    {"HardBounce", PostmarkBounceMap::kBounceHint, Reason::kUserUnknown},
    {"BadEmailAddress", PostmarkBounceMap::kBounceHint, Reason::kUserUnknown},
    {"SoftBounce", PostmarkBounceMap::kBounceSoft, Reason::kUnknown},
    {"Transient", PostmarkBounceMap::kDelay, Reason::kUnknown},
    {"DnsError", PostmarkBounceMap::kDelay, Reason::kNetworkError},
    {"SpamNotification", PostmarkBounceMap::kBounceSoft, Reason::kSpamDetected},
    {"VirusNotification", PostmarkBounceMap::kBounceSoft, Reason::kVirus},
    {"Blocked", PostmarkBounceMap::kBlock, Reason::kBlocked},
    {"DMARCPolicy", PostmarkBounceMap::kBounceSoft, Reason::kSecurityError},
    {"AddressChange", PostmarkBounceMap::kBounceHint, Reason::kHasMoved},
    {"ManuallyDeactivated", PostmarkBounceMap::kSuppression, Reason::kPolicy},
    {"AutoResponder", PostmarkBounceMap::kAutoReply, Reason::kAutoReply},
    {"ChallengeVerification", PostmarkBounceMap::kAutoReply,
     Reason::kAutoReply},
    {"SpamComplaint", PostmarkBounceMap::kComplaint, Reason::kComplaint},
    {"Unsubscribe", PostmarkBounceMap::kUnsubscribe, Reason::kUnknown},
    {"SMTPApiError", PostmarkBounceMap::kBounceSoft, Reason::kSystemError},
    {"InboundError", PostmarkBounceMap::kBounceSoft, Reason::kSystemError},
    {"TemplateRenderingFailed", PostmarkBounceMap::kBounceSoft,
     Reason::kSystemError},
    {"Subscribe", PostmarkBounceMap::kSkip, Reason::kUnknown},
    {"OpenRelayTest", PostmarkBounceMap::kSkip, Reason::kUnknown},
};

absl::StatusOr<std::vector<FeedbackItem>> ParsePostmark(
    absl::string_view body) {
  Reader r("postmark");
  PE_ASSIGN_OR_RETURN(Value top, ParseJson(r, body, "body"));
  if (top.kind_case() != Value::kStructValue) {
    return r.Error("body must be a JSON object");
  }
  const Struct* ev = &top.struct_value();
  PE_ASSIGN_OR_RETURN(std::string record, r.ReqString(ev, "RecordType", ""));
  std::vector<FeedbackItem> out;
  FeedbackItem item;
  item.source = "postmark";
  PE_ASSIGN_OR_RETURN(const Struct* metadata, r.OptObject(ev, "Metadata", ""));
  PE_ASSIGN_OR_RETURN(item.ref.deliverd_id,
                      r.OptScalarText(metadata, "deliverd_id", "Metadata"));
  // Validate ID's type, then take its digits from the raw text.
  PE_ASSIGN_OR_RETURN(std::string id_text, r.OptScalarText(ev, "ID", ""));
  if (const Value* id = Reader::Find(ev, "ID");
      id != nullptr && id->kind_case() == Value::kNumberValue) {
    std::string raw = RawTopLevelNumber(body, "ID");
    if (!raw.empty()) id_text = raw;
  }
  PE_ASSIGN_OR_RETURN(std::string details, r.OptString(ev, "Details", ""));
  PE_ASSIGN_OR_RETURN(std::string description,
                      r.OptString(ev, "Description", ""));

  auto read_recipient = [&](absl::string_view primary,
                            absl::string_view fallback) -> absl::Status {
    PE_ASSIGN_OR_RETURN(std::string rcpt, r.OptString(ev, primary, ""));
    absl::string_view field = primary;
    if (rcpt.empty() && !fallback.empty()) {
      PE_ASSIGN_OR_RETURN(rcpt, r.OptString(ev, fallback, ""));
      field = fallback;
    }
    PE_ASSIGN_OR_RETURN(item.recipient, NormalizeRecipient(r, rcpt, field));
    return absl::OkStatus();
  };
  auto read_time = [&](absl::string_view key) -> absl::Status {
    PE_ASSIGN_OR_RETURN(std::string ts, r.OptString(ev, key, ""));
    item.time = ParseIsoTime(ts);
    return absl::OkStatus();
  };

  if (record == "Bounce" || record == "SpamComplaint") {
    PE_RETURN_IF_ERROR(read_recipient("Email", "Recipient"));
    PE_RETURN_IF_ERROR(read_time("BouncedAt"));
    item.event_id = id_text;
    PE_ASSIGN_OR_RETURN(std::string type, r.OptString(ev, "Type", ""));
    if (record == "SpamComplaint") type = "SpamComplaint";
    const PostmarkBounceMap* map = nullptr;
    for (const auto& m : kPostmarkBounces) {
      if (m.type == type) map = &m;
    }
    std::string text = details.empty() ? description : details;
    Evidence e = GatherEvidence("", 0, details);
    Hint hint;
    FeedbackKind kind = FeedbackKind::kBounce;
    if (map == nullptr) {  // Unknown and types Postmark adds later
      hint.temporary = false;
      FillBounce(kind, e, hint, &item);
      if (item.diagnostic.empty()) item.diagnostic = text;
    } else {
      switch (map->action) {
        case PostmarkBounceMap::kSkip:
          return out;
        case PostmarkBounceMap::kComplaint:
          FillComplaint("", &item);
          item.diagnostic = details;
          break;
        case PostmarkBounceMap::kUnsubscribe:
          FillUnsubscribe("", &item);
          break;
        case PostmarkBounceMap::kAutoReply:
          item.kind = FeedbackKind::kAutoReply;
          item.reason = Reason::kAutoReply;
          item.bounce_class = BounceClass::kNone;
          item.diagnostic = text;
          break;
        case PostmarkBounceMap::kSuppression:
          FillProviderSuppression(
              text.empty() ? absl::StrCat("postmark: ", type) : text, &item);
          break;
        case PostmarkBounceMap::kDelay:
          kind = FeedbackKind::kDelayed;
          hint.temporary = true;
          hint.reason = map->reason;
          FillBounce(kind, e, hint, &item);
          break;
        case PostmarkBounceMap::kBlock:
          hint.never_hard = true;
          hint.reason = map->reason;
          FillBounce(kind, e, hint, &item);
          break;
        case PostmarkBounceMap::kBounceSoft:
          hint.temporary = true;
          hint.reason = map->reason;
          FillBounce(kind, e, hint, &item);
          break;
        case PostmarkBounceMap::kBounceHint:
          hint.reason = map->reason;
          hint.default_code = 550;
          FillBounce(kind, e, hint, &item);
          break;
      }
      if (item.diagnostic.empty()) {
        item.diagnostic =
            text.empty() ? absl::StrCat("postmark: ", type) : text;
      }
    }
  } else if (record == "Delivery") {
    PE_RETURN_IF_ERROR(read_recipient("Recipient", "Email"));
    PE_RETURN_IF_ERROR(read_time("DeliveredAt"));
    FillDelivered(GatherEvidence("", 0, details), &item);
  } else if (record == "Open") {
    PE_RETURN_IF_ERROR(read_recipient("Recipient", "Email"));
    PE_RETURN_IF_ERROR(read_time("ReceivedAt"));
    FillEngagement(FeedbackKind::kOpen, &item);
  } else if (record == "Click") {
    PE_RETURN_IF_ERROR(read_recipient("Recipient", "Email"));
    PE_RETURN_IF_ERROR(read_time("ReceivedAt"));
    FillEngagement(FeedbackKind::kClick, &item);
    PE_ASSIGN_OR_RETURN(item.url, r.OptString(ev, "OriginalLink", ""));
  } else if (record == "SubscriptionChange") {
    PE_ASSIGN_OR_RETURN(bool suppress, r.OptBool(ev, "SuppressSending", ""));
    PE_ASSIGN_OR_RETURN(std::string why,
                        r.OptString(ev, "SuppressionReason", ""));
    PE_RETURN_IF_ERROR(read_recipient("Recipient", "Email"));
    PE_RETURN_IF_ERROR(read_time("ChangedAt"));
    if (!suppress) return out;  // reactivation: no feedback kind for it
    if (why == "HardBounce") {
      FillProviderSuppression("postmark: suppressed after a hard bounce",
                              &item);
    } else if (why == "SpamComplaint") {
      FillComplaint("", &item);
    } else {
      // ManualSuppression, and reasons Postmark may add: the safe side.
      FillUnsubscribe("", &item);
    }
  } else {
    return r.Error(
        absl::StrCat("unsupported event type (RecordType) ", Excerpt(record)));
  }
  out.push_back(std::move(item));
  return out;
}

// ---------------------------------------------------------------------------
// SendGrid.

Hint SendGridBounceHint(absl::string_view type,
                        absl::string_view classification) {
  Hint hint;
  hint.default_code = 550;
  if (type == "blocked") hint.never_hard = true;
  if (classification == "Invalid Address") {
    hint.reason = Reason::kUserUnknown;
  } else if (classification == "Reputation") {
    hint.reason = Reason::kBlocked;
    hint.never_hard = true;
  } else if (classification == "Content") {
    hint.reason = Reason::kContentRejected;
  } else if (classification == "Frequency or Volume Too High") {
    hint.reason = Reason::kRateLimited;
  } else if (classification == "Technical") {
    hint.reason = Reason::kSystemError;
  } else if (classification == "Mailbox Unavailable") {
    hint.reason = Reason::kSuspended;
  }
  return hint;
}

absl::Status ParseSendGridEvent(const Reader& r, const Struct* ev,
                                const std::string& path,
                                std::vector<FeedbackItem>* out) {
  PE_ASSIGN_OR_RETURN(std::string event, r.ReqString(ev, "event", path));
  if (event == "processed" || event == "group_resubscribe") {
    return absl::OkStatus();
  }
  static constexpr absl::string_view kKnown[] = {
      "delivered",   "deferred",          "bounce", "dropped", "spamreport",
      "unsubscribe", "group_unsubscribe", "open",   "click"};
  bool known = false;
  for (absl::string_view k : kKnown) known = known || k == event;
  if (!known) {
    return r.Error(
        absl::StrCat(path, ": unsupported event type ", Excerpt(event)));
  }
  FeedbackItem item;
  item.source = "sendgrid";
  PE_ASSIGN_OR_RETURN(std::string email, r.OptString(ev, "email", path));
  PE_ASSIGN_OR_RETURN(
      item.recipient,
      NormalizeRecipient(r, email, Reader::Join(path, "email")));
  PE_ASSIGN_OR_RETURN(std::optional<double> ts,
                      r.OptNumber(ev, "timestamp", path));
  item.time = FromUnixSeconds(ts);
  PE_ASSIGN_OR_RETURN(item.event_id, r.OptString(ev, "sg_event_id", path));
  PE_ASSIGN_OR_RETURN(std::string smtp_id, r.OptString(ev, "smtp-id", path));
  item.ref.rfc822_message_id = StripMessageId(smtp_id);
  PE_ASSIGN_OR_RETURN(item.ref.deliverd_id,
                      r.OptScalarText(ev, "deliverd_id", path));
  PE_ASSIGN_OR_RETURN(std::string reason, r.OptString(ev, "reason", path));
  PE_ASSIGN_OR_RETURN(std::string status, r.OptString(ev, "status", path));
  PE_ASSIGN_OR_RETURN(std::string response, r.OptString(ev, "response", path));

  if (event == "delivered") {
    FillDelivered(GatherEvidence(status, 0, response), &item);
  } else if (event == "deferred") {
    Hint hint;
    hint.temporary = true;
    hint.default_code = 450;
    std::string text = response.empty() ? reason : response;
    FillBounce(FeedbackKind::kDelayed, GatherEvidence(status, 0, text), hint,
               &item);
  } else if (event == "bounce") {
    PE_ASSIGN_OR_RETURN(std::string type, r.OptString(ev, "type", path));
    PE_ASSIGN_OR_RETURN(std::string classification,
                        r.OptString(ev, "bounce_classification", path));
    FillBounce(FeedbackKind::kBounce, GatherEvidence(status, 0, reason),
               SendGridBounceHint(type, classification), &item);
  } else if (event == "dropped") {
    FillProviderSuppression(reason.empty()
                                ? "sendgrid: dropped"
                                : absl::StrCat("sendgrid: dropped: ", reason),
                            &item);
    if (absl::StrContains(absl::AsciiStrToLower(reason), "spam content")) {
      item.reason = Reason::kSpamDetected;
    }
  } else if (event == "spamreport") {
    FillComplaint("", &item);
  } else if (event == "unsubscribe") {
    FillUnsubscribe("", &item);
  } else if (event == "group_unsubscribe") {
    PE_ASSIGN_OR_RETURN(std::string group,
                        r.OptScalarText(ev, "asm_group_id", path));
    FillUnsubscribe(group, &item);
  } else if (event == "open") {
    FillEngagement(FeedbackKind::kOpen, &item);
  } else if (event == "click") {
    FillEngagement(FeedbackKind::kClick, &item);
    PE_ASSIGN_OR_RETURN(item.url, r.OptString(ev, "url", path));
  }
  out->push_back(std::move(item));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FeedbackItem>> ParseSendGrid(
    absl::string_view body) {
  Reader r("sendgrid");
  PE_ASSIGN_OR_RETURN(Value top, ParseJson(r, body, "body"));
  std::vector<FeedbackItem> out;
  if (top.kind_case() == Value::kStructValue) {
    PE_RETURN_IF_ERROR(
        ParseSendGridEvent(r, &top.struct_value(), "event", &out));
    return out;
  }
  if (top.kind_case() != Value::kListValue) {
    return r.Error("body must be a JSON array of events");
  }
  const ListValue& list = top.list_value();
  if (static_cast<size_t>(list.values_size()) > kMaxProviderItems) {
    return r.Error(
        absl::StrCat("more than ", kMaxProviderItems, " events in one body"));
  }
  for (int i = 0; i < list.values_size(); ++i) {
    std::string path = absl::StrCat("[", i, "]");
    if (list.values(i).kind_case() != Value::kStructValue) {
      return r.Error(absl::StrCat(path, " must be an object"));
    }
    PE_RETURN_IF_ERROR(
        ParseSendGridEvent(r, &list.values(i).struct_value(), path, &out));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<FeedbackItem>> ParseProviderEvent(
    absl::string_view provider, absl::string_view body) {
  std::string name =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(provider));
  if (name != "ses" && name != "mailgun" && name != "postmark" &&
      name != "sendgrid") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown provider ", Excerpt(provider),
                     " (expected ses, mailgun, postmark or sendgrid)"));
  }
  if (body.size() > kMaxProviderBodyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " event: body of ", body.size(),
        " bytes is larger than the limit of ", kMaxProviderBodyBytes));
  }
  absl::StatusOr<std::vector<FeedbackItem>> items;
  if (name == "ses") {
    items = ParseSes(body);
  } else if (name == "mailgun") {
    items = ParseMailgun(body);
  } else if (name == "postmark") {
    items = ParsePostmark(body);
  } else {
    items = ParseSendGrid(body);
  }
  if (items.ok() && items->size() > kMaxProviderItems) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " event: more than ", kMaxProviderItems, " items"));
  }
  return items;
}

}  // namespace deliverd::feedback
