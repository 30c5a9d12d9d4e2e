// Where deliverctl connects and with which API key: resolves the defaults of
// the connection-related global flags.
//
// Contract (first match wins):
//   server:  --server, else $DELIVERD_SERVER, else 127.0.0.1:7420.
//   API key: --api-key, else --api-key-file PATH, else $DELIVERD_API_KEY,
//            else ./data/api-key when that file exists (the file deliverd
//            writes on its first start, so deliverctl works out of the box
//            next to a local server), else no key (the server will answer
//            UNAUTHENTICATED, and the error line says how to give one).
//   Explicit flags beat the environment: a user who types --api-key-file
//   means that file even with DELIVERD_API_KEY exported in the shell.
//   Giving both --api-key and --api-key-file is an error. Empty environment
//   variables count as unset. Key files are trimmed of surrounding
//   whitespace (a trailing newline is normal). An unreadable or empty key
//   file, or a key with characters a header value cannot carry, is an error
//   (exit 2) rather than a silent fallback to another key.
//   timeout: --timeout, else 30 s; `timeout_explicit` tells watch whether
//   the user asked for a deadline (streams otherwise have none).
#ifndef DELIVERD_CLIENT_SETTINGS_H_
#define DELIVERD_CLIENT_SETTINGS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/files.h"
#include "client/flags.h"

namespace deliverd::client {

inline constexpr absl::string_view kDefaultServer = "127.0.0.1:7420";
inline constexpr absl::string_view kDefaultKeyFile = "data/api-key";
inline constexpr absl::string_view kServerEnv = "DELIVERD_SERVER";
inline constexpr absl::string_view kApiKeyEnv = "DELIVERD_API_KEY";

// The outside world settings depend on, injectable for tests.
struct Environment {
  std::function<std::optional<std::string>(absl::string_view name)> get_env;
  FileReader read_file;

  // getenv() and the file system.
  static Environment Real();
};

struct ConnectionSettings {
  std::string server;
  std::string api_key;         // Empty: send no authorization metadata.
  std::string api_key_source;  // "--api-key", "./data/api-key", ... or "".
  absl::Duration timeout = absl::Seconds(30);
  bool timeout_explicit = false;
  std::string dns;  // Empty: the system resolver.
};

absl::StatusOr<ConnectionSettings> ResolveConnectionSettings(
    const GlobalOptions& global, const Environment& env);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_SETTINGS_H_
