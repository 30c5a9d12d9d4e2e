#include "server/delivery/return_path.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace deliverd::delivery {
namespace {
constexpr absl::string_view kPrefix = "bounce+";
}  // namespace

std::string ReturnPathFor(const ReturnPathOptions& options,
                          absl::string_view from_address,
                          absl::string_view message_id) {
  if (!options.verp) return std::string(from_address);
  absl::string_view domain = options.domain;
  if (domain.empty()) {
    size_t at = from_address.rfind('@');
    if (at == absl::string_view::npos) return std::string(from_address);
    domain = from_address.substr(at + 1);
  }
  return absl::StrCat(kPrefix, message_id, "@", domain);
}

std::optional<std::string> ParseMessageId(absl::string_view text) {
  if (text.size() != 28 || !absl::StartsWithIgnoreCase(text, "m_")) {
    return std::nullopt;
  }
  std::string id = absl::StrCat("m_", absl::AsciiStrToLower(text.substr(2)));
  for (char c : id.substr(2)) {
    // Crockford base32 as our ids spell it: digits and lower-case letters
    // except i, l, o, u.
    if (!absl::ascii_isdigit(c) &&
        !(absl::ascii_islower(c) && c != 'i' && c != 'l' && c != 'o' &&
          c != 'u')) {
      return std::nullopt;
    }
  }
  return id;
}

std::optional<std::string> MessageIdFromReturnPath(absl::string_view address) {
  size_t at = address.rfind('@');
  if (at == absl::string_view::npos) return std::nullopt;
  absl::string_view local = address.substr(0, at);
  if (!absl::StartsWithIgnoreCase(local, kPrefix)) return std::nullopt;
  local.remove_prefix(kPrefix.size());
  return ParseMessageId(local);
}

}  // namespace deliverd::delivery
