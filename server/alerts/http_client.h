// Blocking HTTP requests for the alert channels.
//
// HttpClient is the interface the sender uses (tests substitute a fake);
// CurlHttpClient implements it with libcurl: one easy handle per request,
// so one client may be used from any number of threads. It sets
//   - connect and total timeouts (CURLOPT_CONNECTTIMEOUT_MS,
//   CURLOPT_TIMEOUT_MS),
//   - CURLOPT_NOSIGNAL (no SIGALRM in a threaded server),
//   - no redirects followed (a 3xx is returned as the status),
//   - only http and https,
//   - TLS peer and host verification on (unless options say otherwise; for
//     tests only), with an optional CA bundle.
// curl_global_init runs once per process, on first use (thread-safe).
//
// Result: the HTTP response (any status, including 4xx/5xx) or a transport
// error: UNAVAILABLE for refused/reset connections, name resolution failures
// and timeouts (the message says which), FAILED_PRECONDITION for TLS
// certificate problems, INVALID_ARGUMENT for a malformed or non-HTTP URL,
// INTERNAL otherwise. Error messages never contain the URL (webhook URLs
// are secrets) — only its scheme and host.
#ifndef DELIVERD_SERVER_ALERTS_HTTP_CLIENT_H_
#define DELIVERD_SERVER_ALERTS_HTTP_CLIENT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/alerts/http_request.h"

namespace deliverd::alerts {

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct HttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration timeout = absl::Seconds(15);  // whole request
  bool verify_tls = true;
  std::string ca_file;  // empty: the system's bundle
  size_t max_response_body = 16 * 1024;
  std::string user_agent = "deliverd-alerts/1";
};

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(HttpClientOptions options = {});
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  const HttpClientOptions options_;
};

// "https://hooks.slack.com" for "https://hooks.slack.com/services/T/B/X":
// where a request went, without the secret path or credentials. The input
// itself when it has no "://".
std::string RedactUrl(absl::string_view url);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_HTTP_CLIENT_H_
