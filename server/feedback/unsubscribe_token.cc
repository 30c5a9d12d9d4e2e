#include "server/feedback/unsubscribe_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/delivery/return_path.h"
#include "server/store/file_util.h"

namespace deliverd::feedback {
namespace {

constexpr size_t kMacHexDigits = 24;
constexpr absl::string_view kPurpose = "deliverd list-unsubscribe v1\n";

std::string Mac(absl::string_view secret, absl::string_view message_id) {
  std::string input = absl::StrCat(kPurpose, message_id);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(),
       digest, &length);
  return absl::BytesToHexString(absl::string_view(
                                    reinterpret_cast<const char*>(digest),
                                    length))
      .substr(0, kMacHexDigits);
}

}  // namespace

std::string MakeUnsubscribeToken(absl::string_view secret,
                                 absl::string_view message_id) {
  return absl::StrCat(message_id, ".", Mac(secret, message_id));
}

absl::StatusOr<std::string> VerifyUnsubscribeToken(absl::string_view secret,
                                                   absl::string_view token) {
  size_t dot = token.rfind('.');
  if (dot == absl::string_view::npos) {
    return absl::InvalidArgumentError("not an unsubscribe token");
  }
  std::optional<std::string> id = delivery::ParseMessageId(token.substr(0, dot));
  if (!id.has_value()) {
    return absl::InvalidArgumentError("the token names no message");
  }
  std::string given = absl::AsciiStrToLower(token.substr(dot + 1));
  std::string want = Mac(secret, *id);
  if (given.size() != want.size() ||
      CRYPTO_memcmp(given.data(), want.data(), want.size()) != 0) {
    return absl::InvalidArgumentError("the token's signature does not match");
  }
  return *id;
}

std::string UnsubscribeMailbox(absl::string_view token,
                               absl::string_view domain) {
  return absl::StrCat(kUnsubscribeLocalPrefix, token, "@", domain);
}

std::optional<std::string> TokenFromUnsubscribeMailbox(
    absl::string_view address) {
  address = absl::StripAsciiWhitespace(address);
  if (absl::StartsWith(address, "<")) address.remove_prefix(1);
  if (absl::EndsWith(address, ">")) address.remove_suffix(1);
  size_t at = address.rfind('@');
  if (at == absl::string_view::npos) return std::nullopt;
  absl::string_view local = address.substr(0, at);
  if (!absl::StartsWithIgnoreCase(local, kUnsubscribeLocalPrefix)) {
    return std::nullopt;
  }
  local.remove_prefix(kUnsubscribeLocalPrefix.size());
  if (local.empty()) return std::nullopt;
  return std::string(local);
}

std::vector<std::pair<std::string, std::string>> ListUnsubscribeHeaders(
    const ListUnsubscribeConfig& config, absl::string_view message_id,
    absl::string_view from_domain) {
  std::string token = MakeUnsubscribeToken(config.secret, message_id);
  absl::string_view domain =
      config.mailto_domain.empty() ? from_domain : config.mailto_domain;
  std::string value = absl::StrCat("<mailto:", UnsubscribeMailbox(token, domain),
                                   "?subject=unsubscribe>");
  std::vector<std::pair<std::string, std::string>> headers;
  if (config.https_url.empty()) {
    headers.emplace_back("List-Unsubscribe", value);
    return headers;
  }
  const char* joiner =
      config.https_url.find('?') == std::string::npos ? "?" : "&";
  absl::StrAppend(&value, ", <", config.https_url, joiner, "token=", token,
                  ">");
  headers.emplace_back("List-Unsubscribe", value);
  headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  return headers;
}

std::optional<std::string> UnsubscribeTokenInHeaders(absl::string_view raw) {
  raw = raw.substr(0, 64 * 1024);
  size_t end = raw.find("\n\n");
  size_t crlf_end = raw.find("\r\n\r\n");
  if (crlf_end != absl::string_view::npos && crlf_end < end) end = crlf_end;
  if (end != absl::string_view::npos) raw = raw.substr(0, end);
  // Unfolded header fields, in order.
  std::vector<std::string> fields;
  for (absl::string_view line : absl::StrSplit(raw, '\n')) {
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') &&
        !fields.empty()) {
      absl::StrAppend(&fields.back(), " ", absl::StripAsciiWhitespace(line));
    } else {
      fields.emplace_back(line);
    }
  }
  for (absl::string_view wanted :
       {"delivered-to", "x-original-to", "envelope-to", "to"}) {
    for (const std::string& field : fields) {
      size_t colon = field.find(':');
      if (colon == std::string::npos ||
          !absl::EqualsIgnoreCase(
              absl::StripAsciiWhitespace(
                  absl::string_view(field).substr(0, colon)),
              wanted)) {
        continue;
      }
      for (absl::string_view piece :
           absl::StrSplit(absl::string_view(field).substr(colon + 1),
                          absl::ByAnyChar(", "), absl::SkipEmpty())) {
        size_t open = piece.find('<');
        if (open != absl::string_view::npos) piece.remove_prefix(open);
        if (std::optional<std::string> token =
                TokenFromUnsubscribeMailbox(piece)) {
          return token;
        }
      }
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::string> LoadOrCreateUnsubscribeSecret(
    const std::string& path) {
  absl::StatusOr<std::string> existing = store::ReadSmallFile(path, 4096);
  if (existing.ok()) {
    std::string secret(absl::StripAsciiWhitespace(*existing));
    if (secret.size() < 32) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": an unsubscribe secret needs at least 32 characters"));
    }
    return secret;
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("no randomness for the unsubscribe secret");
  }
  std::string secret = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  if (absl::Status s = store::WritePrivateFile(path, secret + "\n"); !s.ok()) {
    return s;
  }
  return secret;
}

}  // namespace deliverd::feedback
