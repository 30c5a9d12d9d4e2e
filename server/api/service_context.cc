#include "server/api/service_context.h"

namespace deliverd::api {

std::string FieldOfError(absl::string_view message) {
  size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return "";
  absl::string_view field = message.substr(0, colon);
  // Field paths have no spaces; anything else is prose.
  if (field.find(' ') != absl::string_view::npos) return "";
  return std::string(field);
}

}  // namespace deliverd::api
