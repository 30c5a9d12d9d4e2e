// deliverd's configuration: built-in defaults, then an optional config file
// (`--config FILE`), then command-line flags, each overriding the last.
//
// The file has one `key = value` per line (keys are the flag names without
// the dashes), `#` starts a comment. Unknown keys, malformed lines and bad
// values are errors that name the line or flag; nothing is silently ignored.
#ifndef DELIVERD_SERVER_CONFIG_H_
#define DELIVERD_SERVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace deliverd {

struct Config {
  std::string listen = "127.0.0.1:7420";
  std::string data_dir = "data";
  // "sqlite:PATH"; empty means sqlite:<data_dir>/deliverd.db.
  std::string store;
  // SQLite commits: "full" (fsync before acknowledging; survives power
  // loss) or "normal" (survives the process being killed).
  std::string sqlite_sync = "full";
  // "outbox" (development: .eml files in outbox_dir).
  std::string transport = "outbox";
  // Empty means <data_dir>/outbox.
  std::string outbox_dir;
  // Where the first API key is written; empty means <data_dir>/api-key.
  std::string api_key_file;
  // Written with the listening port once the server accepts calls (useful
  // with listen = 127.0.0.1:0).
  std::string port_file;
  int max_recipients = 50;
  int64_t max_message_bytes = 25 * 1024 * 1024;
  int dispatcher_workers = 2;
  absl::Duration shutdown_grace = absl::Seconds(30);
  // DNS server for lookups ("HOST:PORT"); empty means the system resolver.
  std::string dns;

  std::string StorePath() const;
  std::string OutboxDir() const;
  std::string ApiKeyFile() const;
};

// Parses flags (--name=value or --name value) into `config`, reading
// --config first wherever it appears. Leftover positional arguments are
// returned.
absl::StatusOr<std::vector<std::string>> ParseConfig(
    const std::vector<std::string>& args, Config* config);

// Applies one key/value (shared by the file and the flags).
absl::Status SetConfigValue(const std::string& key, const std::string& value,
                            Config* config);

std::string ConfigUsage();

}  // namespace deliverd

#endif  // DELIVERD_SERVER_CONFIG_H_
