#include "client/message_requests.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/enum_names.h"
#include "client/flag_values.h"
#include "client/output.h"
#include "client/text.h"
#include "client/times.h"
#include "google/protobuf/util/json_util.h"

namespace deliverd::client {
namespace {

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// proto3 strings must be UTF-8; without this check a Latin-1 file would
// fail much later as an opaque serialization error.
absl::Status CheckUtf8(absl::string_view what, absl::string_view value) {
  if (IsValidUtf8(value)) return absl::OkStatus();
  return Invalid(absl::StrCat(what, " is not valid UTF-8"));
}

// The body from --NAME or --NAME-file (not both); empty when neither.
absl::StatusOr<std::string> ReadBody(const ParsedCommandLine& args,
                                     absl::string_view name,
                                     const FileReader& read_file) {
  const std::string file_flag = absl::StrCat(name, "-file");
  const std::optional<std::string> inline_body = args.Get(name);
  const std::optional<std::string> file = args.Get(file_flag);
  if (inline_body.has_value() && file.has_value()) {
    return Invalid(
        absl::StrCat("give --", name, " or --", file_flag, ", not both"));
  }
  if (inline_body.has_value()) {
    if (absl::Status s = CheckUtf8(absl::StrCat("--", name), *inline_body);
        !s.ok()) {
      return s;
    }
    return *inline_body;
  }
  if (!file.has_value()) return std::string();
  absl::StatusOr<std::string> contents = read_file(*file);
  if (!contents.ok()) {
    return Invalid(absl::StrCat("cannot read --", file_flag, " ",
                                contents.status().message()));
  }
  if (absl::Status s =
          CheckUtf8(absl::StrCat("--", file_flag, " ", *file), *contents);
      !s.ok()) {
    return s;
  }
  return contents;
}

template <typename AddFn>
void AddMailboxes(const std::vector<std::string>& addresses, AddFn add) {
  for (const std::string& address : addresses) add()->set_address(address);
}

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.find_last_of('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string ContentTypeForFilename(absl::string_view filename) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {"pdf", "application/pdf"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
      {"txt", "text/plain"},
      {"csv", "text/csv"},
      {"htm", "text/html"},
      {"html", "text/html"},
      {"ics", "text/calendar"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"docx",
       "application/vnd.openxmlformats-officedocument."
       "wordprocessingml.document"},
      {"xlsx",
       "application/vnd.openxmlformats-officedocument."
       "spreadsheetml.sheet"},
  };
  const size_t dot = filename.find_last_of('.');
  if (dot == absl::string_view::npos) return "";
  const std::string extension = absl::AsciiStrToLower(filename.substr(dot + 1));
  for (const auto& [ext, type] : kTypes) {
    if (extension == ext) return type;
  }
  return "";
}

absl::StatusOr<v1::SendRequest> BuildSendRequest(const ParsedCommandLine& args,
                                                 const FileReader& read_file) {
  v1::SendRequest request;
  v1::MessageContent& content = *request.mutable_content();

  content.mutable_from()->set_address(args.GetOr("from", ""));
  if (std::optional<std::string> name = args.Get("from-name")) {
    if (absl::Status s = CheckUtf8("--from-name", *name); !s.ok()) return s;
    content.mutable_from()->set_display_name(*name);
  }
  AddMailboxes(args.GetAll("to"), [&] { return content.add_to(); });
  AddMailboxes(args.GetAll("cc"), [&] { return content.add_cc(); });
  AddMailboxes(args.GetAll("bcc"), [&] { return content.add_bcc(); });
  AddMailboxes(args.GetAll("reply-to"), [&] { return content.add_reply_to(); });
  if (content.to_size() + content.cc_size() + content.bcc_size() == 0) {
    return Invalid("give at least one recipient (--to, --cc or --bcc)");
  }

  const std::string subject = args.GetOr("subject", "");
  if (absl::Status s = CheckUtf8("--subject", subject); !s.ok()) return s;
  content.set_subject(subject);

  // Two bodies from stdin would leave the second one empty.
  int stdin_readers = 0;
  for (const char* flag : {"text-file", "html-file"}) {
    if (args.GetOr(flag, "") == "-") ++stdin_readers;
  }
  if (stdin_readers > 1) {
    return Invalid("only one of --text-file and --html-file can be - (stdin)");
  }
  absl::StatusOr<std::string> text = ReadBody(args, "text", read_file);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::string> html = ReadBody(args, "html", read_file);
  if (!html.ok()) return html.status();
  if (!args.Has("text") && !args.Has("text-file") && !args.Has("html") &&
      !args.Has("html-file")) {
    return Invalid("give a body: --text, --text-file, --html or --html-file");
  }
  content.set_text_body(*std::move(text));
  content.set_html_body(*std::move(html));

  for (const std::string& path : args.GetAll("attach")) {
    if (path == "-") {
      return Invalid("--attach needs a file name (an attachment needs one)");
    }
    absl::StatusOr<std::string> bytes = read_file(path);
    if (!bytes.ok()) {
      return Invalid(
          absl::StrCat("cannot read --attach ", bytes.status().message()));
    }
    v1::Attachment& attachment = *content.add_attachments();
    attachment.set_filename(std::string(Basename(path)));
    attachment.set_content_type(ContentTypeForFilename(Basename(path)));
    attachment.set_content(*std::move(bytes));
  }

  for (const std::string& text_header : args.GetAll("header")) {
    absl::StatusOr<std::pair<std::string, std::string>> header =
        ParseHeader(text_header);
    if (!header.ok()) return header.status();
    if (absl::Status s = CheckUtf8("--header", header->second); !s.ok()) {
      return s;
    }
    v1::Header& out = *content.add_headers();
    out.set_name(header->first);
    out.set_value(header->second);
  }

  for (const std::string& tag : args.GetAll("tag")) request.add_tags(tag);
  for (const std::string& text_meta : args.GetAll("meta")) {
    absl::StatusOr<std::pair<std::string, std::string>> kv =
        ParseKeyValue("meta", text_meta);
    if (!kv.ok()) return kv.status();
    if (absl::Status s = CheckUtf8("--meta", text_meta); !s.ok()) return s;
    if (!request.mutable_metadata()->insert({kv->first, kv->second}).second) {
      return Invalid(
          absl::StrCat("--meta key \"", kv->first, "\" given more than once"));
    }
  }
  request.set_stream(args.GetOr("stream", ""));
  request.set_request_id(args.GetOr("request-id", ""));
  if (std::optional<std::string> send_at = args.Get("send-at")) {
    absl::StatusOr<absl::Time> time = ParseAbsoluteTime(*send_at);
    if (!time.ok()) {
      return Invalid(absl::StrCat("--send-at: ", time.status().message()));
    }
    *request.mutable_send_time() = ToTimestamp(*time);
  }
  return request;
}

absl::StatusOr<std::vector<v1::SendRequest>> ParseSendBatch(
    absl::string_view contents) {
  std::vector<v1::SendRequest> requests;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);  // Also drops a CRLF's CR.
    if (line.empty()) continue;
    v1::SendRequest request;
    auto status = google::protobuf::util::JsonStringToMessage(
        std::string(line), &request, options);
    if (!status.ok()) {
      return Invalid(absl::StrCat(
          "line ", line_number,
          ": not a SendRequest in JSON: ", std::string(status.message())));
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

absl::StatusOr<v1::ListMessagesRequest> BuildListMessagesRequest(
    const ParsedCommandLine& args, absl::Time now) {
  v1::ListMessagesRequest request;
  for (const std::string& name : args.GetAll("status")) {
    absl::StatusOr<int> status =
        ParseEnumCliName(v1::MessageStatus_descriptor(), name, "status");
    if (!status.ok()) return status.status();
    request.add_statuses(static_cast<v1::MessageStatus>(*status));
  }
  request.set_recipient(args.GetOr("recipient", ""));
  request.set_sender(args.GetOr("sender", ""));
  request.set_tag(args.GetOr("tag", ""));
  std::optional<absl::Time> since, until;
  if (std::optional<std::string> text = args.Get("since")) {
    absl::StatusOr<absl::Time> time = ParsePastTime(*text, now);
    if (!time.ok()) {
      return Invalid(absl::StrCat("--since: ", time.status().message()));
    }
    since = *time;
    *request.mutable_start_time() = ToTimestamp(*time);
  }
  if (std::optional<std::string> text = args.Get("until")) {
    absl::StatusOr<absl::Time> time = ParsePastTime(*text, now);
    if (!time.ok()) {
      return Invalid(absl::StrCat("--until: ", time.status().message()));
    }
    until = *time;
    *request.mutable_end_time() = ToTimestamp(*time);
  }
  if (since.has_value() && until.has_value() && *since >= *until) {
    return Invalid("--since must be before --until");
  }
  if (std::optional<std::string> text = args.Get("limit")) {
    absl::StatusOr<int64_t> limit = ParseIntFlag("limit", *text, 1, 1000);
    if (!limit.ok()) return limit.status();
    request.set_page_size(static_cast<int32_t>(*limit));
  }
  request.set_page_token(args.GetOr("page-token", ""));
  return request;
}

absl::StatusOr<v1::ResendRequest> BuildResendRequest(
    const ParsedCommandLine& args) {
  v1::ResendRequest request;
  for (const std::string& id : args.positionals) {
    request.add_names(MessageResourceName(id));
  }
  const bool override_suppression = args.GetBool("override-suppression");
  const std::optional<std::string> reason = args.Get("reason");
  if (override_suppression &&
      (!reason.has_value() || absl::StripAsciiWhitespace(*reason).empty())) {
    return Invalid(
        "--override-suppression needs --reason TEXT (it is "
        "recorded on the new message)");
  }
  if (!override_suppression && reason.has_value()) {
    return Invalid("--reason is only used with --override-suppression");
  }
  request.set_override_suppression(override_suppression);
  request.set_override_reason(reason.value_or(""));
  request.set_request_id(args.GetOr("request-id", ""));
  // One idempotency key cannot cover several calls.
  if (!request.request_id().empty() && request.names_size() > kMaxBatchItems) {
    return Invalid(absl::StrCat("--request-id works with at most ",
                                kMaxBatchItems, " messages per call"));
  }
  return request;
}

absl::StatusOr<v1::WatchEventsRequest> BuildWatchRequest(
    const ParsedCommandLine& args) {
  v1::WatchEventsRequest request;
  request.set_after_cursor(args.GetOr("after", ""));
  request.set_from_beginning(args.GetBool("from-beginning"));
  if (!request.after_cursor().empty() && request.from_beginning()) {
    return Invalid("give --after or --from-beginning, not both");
  }
  if (std::optional<std::string> id = args.Get("message")) {
    request.set_message(MessageResourceName(*id));
  }
  request.set_tag(args.GetOr("tag", ""));
  for (const std::string& name : args.GetAll("type")) {
    absl::StatusOr<int> type =
        ParseEnumCliName(v1::EventType_descriptor(), name, "event type");
    if (!type.ok()) return type.status();
    request.add_types(static_cast<v1::EventType>(*type));
  }
  if (std::optional<std::string> count = args.Get("count")) {
    absl::StatusOr<int64_t> n = ParseIntFlag("count", *count, 1, 1000000000);
    if (!n.ok()) return n.status();
  }
  return request;
}

}  // namespace deliverd::client
