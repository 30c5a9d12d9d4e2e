#include "server/alerts/twilio_payload.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/alerts/truncate.h"

namespace deliverd::alerts {

std::string FormEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string TwilioSmsText(const Alert& alert) {
  std::string text = absl::StrCat(
      "[", absl::AsciiStrToUpper(AlertSeverityName(alert.severity)), "] ",
      TruncateUtf8(alert.title, kMaxTitleBytes));
  if (!alert.tenant.empty()) {
    absl::StrAppend(&text, " (", TruncateUtf8(alert.tenant, kMaxTenantBytes),
                    ")");
  }
  if (!alert.what_happened.empty()) {
    absl::StrAppend(&text, "\n",
                    TruncateUtf8(alert.what_happened, kMaxWhatHappenedBytes));
  }
  if (AlertMessageCount(alert) > 0) {
    absl::StrAppend(&text, "\nMessages (", AlertMessageCount(alert),
                    "): ", RenderMessageIds(alert));
  }
  if (!alert.what_to_do.empty()) {
    absl::StrAppend(&text, "\nWhat to do: ",
                    TruncateUtf8(alert.what_to_do, kMaxWhatToDoBytes));
  }
  return TruncateUtf8(text, kTwilioMaxBodyBytes);
}

absl::StatusOr<HttpRequest> BuildTwilioRequest(const TwilioChannel& channel,
                                               absl::string_view to,
                                               const Alert& alert) {
  if (channel.account_sid.empty() ||
      !std::all_of(channel.account_sid.begin(), channel.account_sid.end(),
                   [](char c) { return absl::ascii_isalnum(c); })) {
    return absl::InvalidArgumentError(
        "Twilio account sid must be non-empty and alphanumeric");
  }
  if (to.empty()) {
    return absl::InvalidArgumentError("SMS recipient is empty");
  }
  absl::string_view base = channel.base_url;
  while (absl::ConsumeSuffix(&base, "/")) {
  }
  HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat(base, "/2010-04-01/Accounts/", channel.account_sid,
                             "/Messages.json");
  request.headers = {
      {"Authorization", absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(
                                                   channel.account_sid, ":",
                                                   channel.auth_token)))},
      {"Content-Type", "application/x-www-form-urlencoded"},
  };
  request.body =
      absl::StrCat("To=", FormEncode(to), "&From=", FormEncode(channel.from),
                   "&Body=", FormEncode(TwilioSmsText(alert)));
  return request;
}

}  // namespace deliverd::alerts
