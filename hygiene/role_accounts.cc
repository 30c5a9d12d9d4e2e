#include "hygiene/role_accounts.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "hygiene/data/embedded_data.h"

namespace deliverd::hygiene {
namespace {

// Sorted, de-duplicated keys of data/role_accounts.txt.
const std::vector<std::string>& RoleKeys() {
  static const auto* const kKeys = [] {
    auto* keys = new std::vector<std::string>();
    for (absl::string_view entry :
         embedded::DataEntries(embedded::role_accounts())) {
      std::string key = RoleAccountKey(entry);
      if (!key.empty()) keys->push_back(std::move(key));
    }
    std::sort(keys->begin(), keys->end());
    keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
    return keys;
  }();
  return *kKeys;
}

// Keys by first octet and length: bit min(length, 63) of filter[first] is
// set when some key starts with `first` and has that length. Most local
// parts are ruled out by it without a search.
const std::array<uint64_t, 256>& KeyFilter() {
  static const auto* const kFilter = [] {
    auto* filter = new std::array<uint64_t, 256>();
    for (const std::string& key : RoleKeys()) {
      (*filter)[static_cast<unsigned char>(key.front())] |=
          uint64_t{1} << std::min<size_t>(key.size(), 63);
    }
    return filter;
  }();
  return *kFilter;
}

// Longer than any entry: no need to build a key for it.
constexpr size_t kMaxLocalPart = 256;

}  // namespace

std::string RoleAccountKey(absl::string_view local_part) {
  if (local_part.size() >= 2 && local_part.front() == '"' &&
      local_part.back() == '"') {
    local_part = local_part.substr(1, local_part.size() - 2);
  }
  local_part = local_part.substr(0, local_part.find('+'));
  std::string key;
  key.reserve(local_part.size());
  for (char c : local_part) {
    if (c == '.' || c == '-' || c == '_') continue;
    key.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

bool IsRoleAccount(absl::string_view local_part) {
  if (local_part.empty() || local_part.size() > kMaxLocalPart) return false;
  // RoleAccountKey's rules, into a stack buffer: no allocation per call.
  if (local_part.size() >= 2 && local_part.front() == '"' &&
      local_part.back() == '"') {
    local_part = local_part.substr(1, local_part.size() - 2);
  }
  char buffer[kMaxLocalPart];
  size_t n = 0;
  for (char c : local_part) {
    if (c == '+') break;
    if (c == '.' || c == '-' || c == '_') continue;
    buffer[n++] = absl::ascii_tolower(static_cast<unsigned char>(c));
  }
  if (n == 0) return false;
  const uint64_t lengths = KeyFilter()[static_cast<unsigned char>(buffer[0])];
  if ((lengths & (uint64_t{1} << std::min<size_t>(n, 63))) == 0) return false;
  const absl::string_view key(buffer, n);
  const auto& keys = RoleKeys();
  return std::binary_search(
      keys.begin(), keys.end(), key,
      [](absl::string_view a, absl::string_view b) { return a < b; });
}

}  // namespace deliverd::hygiene
