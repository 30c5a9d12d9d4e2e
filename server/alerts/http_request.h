// The HTTP request a channel sends (built by the payload builders, sent by
// HttpClient) and the response it gets back.
//
// Header names in HttpResponse are lower-cased; HttpRequest headers are sent
// as given. Plain data; thread-safe.
#ifndef DELIVERD_SERVER_ALERTS_HTTP_REQUEST_H_
#define DELIVERD_SERVER_ALERTS_HTTP_REQUEST_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::alerts {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of the first header named `name` (case-insensitive).
  std::optional<std::string> Header(absl::string_view name) const;
};

// A POST of `json` (already serialized) to `url`, as every webhook channel
// sends it.
HttpRequest JsonPost(absl::string_view url, std::string json);

struct HttpResponse {
  int status_code = 0;
  // Lower-cased names, in arrival order (final response only).
  std::vector<std::pair<std::string, std::string>> headers;
  // The start of the body (HttpClientOptions::max_response_body bytes).
  std::string body;

  std::optional<std::string> Header(absl::string_view name) const;
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_HTTP_REQUEST_H_
