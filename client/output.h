// Output conventions shared by all commands: JSON lines, the RPC error line,
// and short text forms of API values used in tables.
//
// Contract:
//   - JSON: protobuf's JSON mapping (lowerCamel field names, enum names,
//     RFC 3339 timestamps, int64 as strings), compact, one object per line.
//     Single-resource commands print the RPC's response; list commands print
//     one response per page (so nextPageToken is there); batch commands and
//     streams print one object per item. Every line parses on its own
//     (`jq` and JSON Lines readers work unchanged).
//   - RPC errors: exactly one line
//     "deliverctl: <command>: <CODE_NAME>: <message>" on stderr, exit 1.
//   - Text forms are not sanitized here; tables and line printers do that.
#ifndef DELIVERD_CLIENT_OUTPUT_H_
#define DELIVERD_CLIENT_OUTPUT_H_

#include <grpcpp/grpcpp.h>

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "deliverd/v1/common.pb.h"
#include "deliverd/v1/messages.pb.h"
#include "google/protobuf/message.h"

namespace deliverd::client {

// The compact JSON of `message`, or on the (practically impossible) failure
// of the encoder, a JSON object {"error": "..."} so a line is still JSON.
std::string ToJson(const google::protobuf::Message& message);

// ToJson plus '\n'.
void PrintJsonLine(std::ostream& out, const google::protobuf::Message& message);

// A JSON string literal (quoted and escaped) for the few hand-built objects.
std::string JsonString(absl::string_view text);

// The error line for a failed RPC (without the trailing newline). When the
// server says UNAUTHENTICATED and no key was configured, the line says how
// to give one, since that is by far the most likely cause.
std::string RpcErrorLine(absl::string_view command, const grpc::Status& status,
                         bool have_api_key);

// "field: message", or just "message" when the error names no field.
std::string ItemErrorText(const v1::ItemError& error);

// "Name <addr>" or "addr".
std::string MailboxText(const v1::EmailAddress& mailbox);

// "550 5.1.1 User unknown (mx.example.com)"; empty for an unset reply.
std::string SmtpReplyText(const v1::SmtpReply& reply);

// A recipient's detail and last reply, joined by "; ".
std::string RecipientDetailText(const v1::Recipient& recipient);

// An event's detail and reply, joined by "; ".
std::string EventDetailText(const v1::Event& event);

// "messages/m_1" -> "m_1"; a bare id stays as it is.
std::string BareMessageId(absl::string_view name);

// "m_1" -> "messages/m_1"; a resource name stays as it is.
std::string MessageResourceName(absl::string_view id_or_name);

// A message's id (its `id`, or the id part of `name` if `id` is empty).
std::string MessageIdOf(const v1::Message& message);

// `text`, or "-" when it is empty, so table columns never look shifted.
std::string OrDash(absl::string_view text);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_OUTPUT_H_
