#include "server/api/send_validation.h"

#include "server/store/sha256.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "hygiene/address.h"

namespace deliverd::api {
namespace {

constexpr size_t kMaxDisplayName = 256;
constexpr size_t kMaxSubject = 998;
constexpr size_t kMaxHeaderName = 76;
constexpr size_t kMaxHeaderValue = 998;
constexpr int kMaxHeaders = 50;
constexpr int kMaxAttachments = 100;
constexpr int kMaxTags = 10;
constexpr size_t kMaxTagLength = 64;
constexpr int kMaxMetadata = 20;
constexpr size_t kMaxMetadataKey = 64;
constexpr size_t kMaxMetadataValue = 1024;
constexpr size_t kMaxFilename = 255;

absl::Status Invalid(absl::string_view prefix, absl::string_view field,
                     absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(prefix, field, ": ", reason));
}

bool IsLabelChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

// RFC 5322 field names: printable ASCII except colon.
bool IsFieldName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxHeaderName) return false;
  for (char c : name) {
    if (c < 33 || c > 126 || c == ':') return false;
  }
  return true;
}

// Headers deliverd writes itself; letting callers set them would allow
// contradictory or spoofed structure.
bool IsReservedHeader(absl::string_view name) {
  static const std::set<std::string>* const kReserved =
      new std::set<std::string>{
          "from",        "to",           "cc",          "bcc",
          "subject",     "date",         "message-id",  "mime-version",
          "reply-to",    "sender",       "return-path", "x-deliverd-id",
          "received",    "dkim-signature"};
  std::string lower = absl::AsciiStrToLower(name);
  if (kReserved->count(lower) > 0) return true;
  return lower.rfind("content-", 0) == 0;
}

// A MIME type: token "/" token.
bool IsMimeType(absl::string_view type) {
  size_t slash = type.find('/');
  if (slash == absl::string_view::npos || slash == 0 ||
      slash + 1 == type.size() || type.size() > 255) {
    return false;
  }
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (i == slash) continue;
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$&-^_.+").find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

bool IsValidDisplayName(absl::string_view name) {
  return !HasLineBreakOrNul(name) && name.size() <= kMaxDisplayName;
}

absl::Status CheckDisplayName(absl::string_view prefix, absl::string_view field,
                              absl::string_view name) {
  if (HasLineBreakOrNul(name)) {
    return Invalid(prefix, field, "must not contain CR, LF or NUL");
  }
  if (name.size() > kMaxDisplayName) {
    return Invalid(prefix, field,
                   absl::StrCat("longer than ", kMaxDisplayName, " bytes"));
  }
  return absl::OkStatus();
}

// A mailbox field's name, "content.from" or "content.to[3]", spelled out
// only when there is an error to name it in (most Sends have none, and the
// strings were a fifth of validating one).
struct MailboxField {
  absl::string_view list;  // "content.from", "content.to", ...
  int index = -1;          // the position in a repeated field, or -1

  std::string Name(absl::string_view member) const {
    if (index < 0) return absl::StrCat(list, ".", member);
    return absl::StrCat(list, "[", index, "].", member);
  }
};

absl::StatusOr<hygiene::ParsedAddress> CheckMailbox(
    absl::string_view prefix, const MailboxField& field,
    const v1::EmailAddress& mailbox) {
  if (mailbox.address().empty()) {
    return Invalid(prefix, field.Name("address"), "required");
  }
  absl::StatusOr<hygiene::ParsedAddress> parsed =
      hygiene::ParseAddress(mailbox.address());
  if (!parsed.ok()) {
    return Invalid(prefix, field.Name("address"), parsed.status().message());
  }
  if (!IsValidDisplayName(mailbox.display_name())) {
    return CheckDisplayName(prefix, field.Name("display_name"),
                            mailbox.display_name());
  }
  return parsed;
}

std::string RequestHash(const v1::SendRequest& request) {
  v1::SendRequest copy = request;
  copy.clear_request_id();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return store::Sha256(bytes);
}

}  // namespace

bool IsLabel(absl::string_view text, size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  for (char c : text) {
    if (!IsLabelChar(c)) return false;
  }
  return true;
}

bool HasLineBreakOrNul(absl::string_view text) {
  return text.find_first_of(absl::string_view("\r\n\0", 3)) !=
         absl::string_view::npos;
}

absl::Status ValidateRequestId(absl::string_view request_id,
                               absl::string_view field) {
  if (request_id.size() > 128) {
    return Invalid("", field, "longer than 128 characters");
  }
  for (char c : request_id) {
    if (c < 33 || c > 126) {
      return Invalid("", field, "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidatedSend> ValidateSend(const v1::SendRequest& request,
                                           const SendLimits& limits,
                                           absl::string_view prefix,
                                           absl::Time now) {
  ValidatedSend out;
  store::Message& m = out.message;
  if (!request.request_id().empty()) {  // empty: none, always valid
    if (absl::Status s = ValidateRequestId(request.request_id(),
                                           absl::StrCat(prefix, "request_id"));
        !s.ok()) {
      return s;
    }
  }
  m.request_id = request.request_id();
  if (!request.has_content()) return Invalid(prefix, "content", "required");
  const v1::MessageContent& c = request.content();

  if (!c.has_from()) return Invalid(prefix, "content.from", "required");
  absl::StatusOr<hygiene::ParsedAddress> from =
      CheckMailbox(prefix, {"content.from"}, c.from());
  if (!from.ok()) return from.status();
  m.from_address = from->normalized;
  m.from_name = c.from().display_name();

  int recipient_count = c.to_size() + c.cc_size() + c.bcc_size();
  if (recipient_count == 0) {
    return Invalid(prefix, "content.to", "at least one recipient is required");
  }
  if (recipient_count > limits.max_recipients) {
    return Invalid(prefix, "content.to",
                   absl::StrCat(recipient_count, " recipients exceed the limit of ",
                                limits.max_recipients));
  }
  std::set<std::string> seen;
  auto add_recipients =
      [&](const google::protobuf::RepeatedPtrField<v1::EmailAddress>& list,
          absl::string_view name, store::RecipientKind kind) -> absl::Status {
    for (int i = 0; i < list.size(); ++i) {
      absl::StatusOr<hygiene::ParsedAddress> parsed =
          CheckMailbox(prefix, {name, i}, list[i]);
      if (!parsed.ok()) return parsed.status();
      // The same mailbox twice would be delivered twice; keep the first.
      if (!seen.insert(absl::AsciiStrToLower(parsed->normalized)).second) {
        continue;
      }
      store::Recipient r;
      r.address = parsed->normalized;
      r.kind = kind;
      m.recipients.push_back(std::move(r));
    }
    return absl::OkStatus();
  };
  if (absl::Status s =
          add_recipients(c.to(), "content.to", store::RecipientKind::kTo);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          add_recipients(c.cc(), "content.cc", store::RecipientKind::kCc);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          add_recipients(c.bcc(), "content.bcc", store::RecipientKind::kBcc);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < c.reply_to_size(); ++i) {
    absl::StatusOr<hygiene::ParsedAddress> parsed =
        CheckMailbox(prefix, {"content.reply_to", i}, c.reply_to(i));
    if (!parsed.ok()) return parsed.status();
  }

  if (HasLineBreakOrNul(c.subject())) {
    return Invalid(prefix, "content.subject", "must not contain CR, LF or NUL");
  }
  if (c.subject().size() > kMaxSubject) {
    return Invalid(prefix, "content.subject",
                   absl::StrCat("longer than ", kMaxSubject, " bytes"));
  }
  m.subject = c.subject();
  if (c.text_body().empty() && c.html_body().empty()) {
    return Invalid(prefix, "content.text_body",
                   "text_body or html_body is required");
  }
  if (c.text_body().find('\0') != std::string::npos) {
    return Invalid(prefix, "content.text_body", "must not contain NUL");
  }
  if (c.html_body().find('\0') != std::string::npos) {
    return Invalid(prefix, "content.html_body", "must not contain NUL");
  }

  if (c.headers_size() > kMaxHeaders) {
    return Invalid(prefix, "content.headers",
                   absl::StrCat("more than ", kMaxHeaders, " headers"));
  }
  int64_t size = c.subject().size() + c.text_body().size() +
                 c.html_body().size() + 1024;
  for (int i = 0; i < c.headers_size(); ++i) {
    const v1::Header& h = c.headers(i);
    std::string field = absl::StrCat("content.headers[", i, "]");
    if (!IsFieldName(h.name())) {
      return Invalid(prefix, absl::StrCat(field, ".name"),
                     "not a valid header field name (printable ASCII without "
                     "spaces or colons, at most 76 characters)");
    }
    if (IsReservedHeader(h.name())) {
      return Invalid(prefix, absl::StrCat(field, ".name"),
                     absl::StrCat(h.name(), " is set by deliverd and cannot be "
                                            "given as an extra header"));
    }
    if (HasLineBreakOrNul(h.value())) {
      return Invalid(prefix, absl::StrCat(field, ".value"),
                     "must not contain CR, LF or NUL");
    }
    if (h.value().size() > kMaxHeaderValue) {
      return Invalid(prefix, absl::StrCat(field, ".value"),
                     absl::StrCat("longer than ", kMaxHeaderValue, " bytes"));
    }
    size += h.name().size() + h.value().size() + 4;
  }

  if (c.attachments_size() > kMaxAttachments) {
    return Invalid(prefix, "content.attachments",
                   absl::StrCat("more than ", kMaxAttachments, " attachments"));
  }
  for (int i = 0; i < c.attachments_size(); ++i) {
    const v1::Attachment& a = c.attachments(i);
    std::string field = absl::StrCat("content.attachments[", i, "]");
    if (a.filename().empty()) {
      return Invalid(prefix, absl::StrCat(field, ".filename"), "required");
    }
    if (HasLineBreakOrNul(a.filename()) || a.filename().size() > kMaxFilename) {
      return Invalid(prefix, absl::StrCat(field, ".filename"),
                     "must not contain CR, LF or NUL and be at most 255 bytes");
    }
    if (!a.content_type().empty() &&
        (!IsMimeType(a.content_type()) ||
         absl::StartsWithIgnoreCase(a.content_type(), "multipart/") ||
         absl::StartsWithIgnoreCase(a.content_type(), "message/"))) {
      return Invalid(prefix, absl::StrCat(field, ".content_type"),
                     "must be a MIME type (type/subtype), not multipart/* or "
                     "message/*");
    }
    if (HasLineBreakOrNul(a.content_id()) || a.content_id().size() > 255) {
      return Invalid(prefix, absl::StrCat(field, ".content_id"),
                     "must not contain CR, LF or NUL and be at most 255 bytes");
    }
    // Base64 grows content by a third, plus line breaks.
    size += static_cast<int64_t>(a.content().size()) * 137 / 100 + 256;
  }
  if (size > limits.max_message_bytes) {
    return Invalid(prefix, "content",
                   absl::StrCat("message of about ", size,
                                " bytes exceeds the limit of ",
                                limits.max_message_bytes));
  }
  m.size_bytes = size;

  if (request.tags_size() > kMaxTags) {
    return Invalid(prefix, "tags", absl::StrCat("more than ", kMaxTags, " tags"));
  }
  for (int i = 0; i < request.tags_size(); ++i) {
    if (!IsLabel(request.tags(i), kMaxTagLength)) {
      return Invalid(prefix, absl::StrCat("tags[", i, "]"),
                     "must be 1-64 characters of A-Z a-z 0-9 _ . : -");
    }
    m.tags.push_back(request.tags(i));
  }
  if (request.metadata_size() > kMaxMetadata) {
    return Invalid(prefix, "metadata",
                   absl::StrCat("more than ", kMaxMetadata, " entries"));
  }
  for (const auto& [key, value] : request.metadata()) {
    if (!IsLabel(key, kMaxMetadataKey)) {
      return Invalid(prefix, absl::StrCat("metadata[", key, "]"),
                     "keys must be 1-64 characters of A-Z a-z 0-9 _ . : -");
    }
    if (value.size() > kMaxMetadataValue) {
      return Invalid(prefix, absl::StrCat("metadata[", key, "]"),
                     "values must be at most 1024 bytes");
    }
  }
  if (!request.metadata().empty()) {
    v1::SendRequest holder;
    *holder.mutable_metadata() = request.metadata();
    holder.SerializeToString(&m.metadata);
  }
  if (!request.stream().empty() && !IsLabel(request.stream(), kMaxTagLength)) {
    return Invalid(prefix, "stream",
                   "must be 1-64 characters of A-Z a-z 0-9 _ . : -");
  }
  m.stream = request.stream();
  if (!request.list().empty()) {
    if (!IsLabel(request.list(), kMaxTagLength)) {
      return Invalid(prefix, "list",
                     "must be 1-64 characters of A-Z a-z 0-9 _ . : -");
    }
    if (!request.stream().empty() && request.stream() != request.list()) {
      return Invalid(prefix, "stream",
                     "a list message's stream is its list: leave it empty or "
                     "set it to the list");
    }
    if (c.to_size() != 1 || c.cc_size() != 0 || c.bcc_size() != 0) {
      return Invalid(prefix, "content.to",
                     "a list message goes to exactly one subscriber (one to, "
                     "no cc or bcc), so its unsubscribe link is theirs; send "
                     "one message per subscriber");
    }
    for (int i = 0; i < c.headers_size(); ++i) {
      std::string name = absl::AsciiStrToLower(c.headers(i).name());
      if (name == "list-unsubscribe" || name == "list-unsubscribe-post") {
        return Invalid(prefix, absl::StrCat("content.headers[", i, "].name"),
                       absl::StrCat(c.headers(i).name(),
                                    " is set by deliverd for list messages"));
      }
    }
    m.stream = request.list();
    out.list = request.list();
  }

  if (request.has_send_time()) {
    const auto& ts = request.send_time();
    if (ts.nanos() < 0 || ts.nanos() > 999999999 || ts.seconds() < 0) {
      return Invalid(prefix, "send_time", "not a valid timestamp");
    }
    absl::Time at = absl::FromUnixSeconds(ts.seconds()) +
                    absl::Nanoseconds(ts.nanos());
    if (at > now + limits.max_schedule_ahead) {
      return Invalid(prefix, "send_time", "more than 30 days ahead");
    }
    out.send_time = at;
  }

  c.SerializeToString(&m.content);
  if (!request.request_id().empty()) out.request_hash = RequestHash(request);
  return out;
}

}  // namespace deliverd::api
