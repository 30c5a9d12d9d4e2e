#include "hygiene/role_accounts.h"

#include <algorithm>
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
  const std::string key = RoleAccountKey(local_part);
  if (key.empty()) return false;
  const auto& keys = RoleKeys();
  return std::binary_search(keys.begin(), keys.end(), key);
}

}  // namespace deliverd::hygiene
