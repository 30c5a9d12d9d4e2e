#include "server/alerts/webhook_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace deliverd::alerts {
namespace {

constexpr absl::string_view kScheme = "v1=";

std::string HmacHex(absl::string_view secret, absl::string_view timestamp,
                    absl::string_view body) {
  const std::string input = absl::StrCat(timestamp, ".", body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(),
       digest, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string WebhookTimestamp(absl::Time time) {
  return absl::StrCat(absl::ToUnixSeconds(time));
}

std::string SignWebhook(absl::string_view secret, absl::string_view timestamp,
                        absl::string_view body) {
  return absl::StrCat(kScheme, HmacHex(secret, timestamp, body));
}

absl::Status VerifyWebhookSignature(absl::string_view secret,
                                    absl::string_view timestamp_header,
                                    absl::string_view signature_header,
                                    absl::string_view body, absl::Time now,
                                    absl::Duration tolerance) {
  const absl::string_view timestamp =
      absl::StripAsciiWhitespace(timestamp_header);
  int64_t seconds = 0;
  if (timestamp.empty() ||
      !std::all_of(timestamp.begin(), timestamp.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(timestamp, &seconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWebhookTimestampHeader, " is not Unix seconds"));
  }
  const std::string expected = HmacHex(secret, timestamp, body);
  bool any_v1 = false;
  bool valid = false;
  for (absl::string_view part : absl::StrSplit(signature_header, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!absl::ConsumePrefix(&part, kScheme)) continue;
    any_v1 = true;
    const std::string given = absl::AsciiStrToLower(part);
    if (given.size() == expected.size() &&
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0) {
      valid = true;
    }
  }
  if (!any_v1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWebhookSignatureHeader, " has no v1 signature"));
  }
  if (!valid) return absl::UnauthenticatedError("webhook signature mismatch");
  // Checked after the MAC, so that the time in the message is authentic.
  const absl::Time signed_at = absl::FromUnixSeconds(seconds);
  if (absl::AbsDuration(now - signed_at) > tolerance) {
    return absl::UnauthenticatedError(absl::StrCat(
        "webhook timestamp ", timestamp, " is outside the tolerance of ",
        absl::FormatDuration(tolerance), " (replayed or clock skew)"));
  }
  return absl::OkStatus();
}

}  // namespace deliverd::alerts
