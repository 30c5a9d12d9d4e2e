#include "client/output.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/enum_names.h"
#include "client/text.h"
#include "google/protobuf/util/json_util.h"

namespace deliverd::client {
namespace {
constexpr absl::string_view kMessagesPrefix = "messages/";
}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = false;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::StrCat(
        "{\"error\":", JsonString(std::string(status.message())), "}");
  }
  return json;
}

void PrintJsonLine(std::ostream& out,
                   const google::protobuf::Message& message) {
  out << ToJson(message) << '\n';
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string RpcErrorLine(absl::string_view command, const grpc::Status& status,
                         bool have_api_key) {
  std::string line = absl::StrCat("deliverctl: ", command, ": ",
                                  StatusCodeName(status.error_code()), ": ",
                                  SanitizeForTerminal(status.error_message()));
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
      !have_api_key) {
    absl::StrAppend(&line,
                    " (no API key: use --api-key, --api-key-file, "
                    "$DELIVERD_API_KEY or ./data/api-key)");
  }
  return line;
}

std::string ItemErrorText(const v1::ItemError& error) {
  if (error.field().empty()) return error.message();
  return absl::StrCat(error.field(), ": ", error.message());
}

std::string MailboxText(const v1::EmailAddress& mailbox) {
  if (mailbox.display_name().empty()) return mailbox.address();
  return absl::StrCat(mailbox.display_name(), " <", mailbox.address(), ">");
}

std::string SmtpReplyText(const v1::SmtpReply& reply) {
  std::string text;
  if (reply.code() != 0) absl::StrAppend(&text, reply.code());
  if (!reply.enhanced_code().empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", reply.enhanced_code());
  }
  if (!reply.text().empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", reply.text());
  }
  if (!reply.remote_host().empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", "(", reply.remote_host(),
                    ")");
  }
  return text;
}

namespace {

std::string JoinDetail(absl::string_view detail, const v1::SmtpReply& reply) {
  std::string reply_text = SmtpReplyText(reply);
  if (detail.empty()) return reply_text;
  if (reply_text.empty()) return std::string(detail);
  return absl::StrCat(detail, "; ", reply_text);
}

}  // namespace

std::string RecipientDetailText(const v1::Recipient& recipient) {
  return JoinDetail(recipient.detail(), recipient.last_reply());
}

std::string EventDetailText(const v1::Event& event) {
  return JoinDetail(event.detail(), event.reply());
}

std::string BareMessageId(absl::string_view name) {
  absl::ConsumePrefix(&name, kMessagesPrefix);
  return std::string(name);
}

std::string MessageResourceName(absl::string_view id_or_name) {
  if (absl::StartsWith(id_or_name, kMessagesPrefix)) {
    return std::string(id_or_name);
  }
  return absl::StrCat(kMessagesPrefix, id_or_name);
}

std::string MessageIdOf(const v1::Message& message) {
  if (!message.id().empty()) return message.id();
  return BareMessageId(message.name());
}

std::string OrDash(absl::string_view text) {
  return text.empty() ? "-" : std::string(text);
}

}  // namespace deliverd::client
