#include "server/alerts/http_request.h"

#include <utility>

#include "absl/strings/match.h"

namespace deliverd::alerts {
namespace {

std::optional<std::string> Find(
    const std::vector<std::pair<std::string, std::string>>& headers,
    absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> HttpRequest::Header(absl::string_view name) const {
  return Find(headers, name);
}

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  return Find(headers, name);
}

HttpRequest JsonPost(absl::string_view url, std::string json) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::string(url);
  request.headers = {{"Content-Type", "application/json"}};
  request.body = std::move(json);
  return request;
}

}  // namespace deliverd::alerts
