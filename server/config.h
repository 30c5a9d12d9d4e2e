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
#include "server/store/mysql_db.h"

namespace deliverd {

struct Config {
  std::string listen = "127.0.0.1:7420";
  std::string data_dir = "data";
  // "sqlite:PATH" or "mysql://USER[:PASSWORD]@HOST[:PORT]/DB[?pool=N]";
  // empty means sqlite:<data_dir>/deliverd.db.
  std::string store;
  // The MySQL password's file (first line); overrides the environment
  // variable DELIVERD_STORE_PASSWORD, which overrides the URI's password.
  std::string store_password_file;
  // How long a replica may hold a claimed message before another may take
  // it over (it gives the message back at half this time).
  absl::Duration delivery_lease = absl::Minutes(5);
  // SQLite commits: "full" (fsync before acknowledging; survives power
  // loss) or "normal" (survives the process being killed).
  std::string sqlite_sync = "full";
  // "outbox" (development: .eml files in outbox_dir) or "smtp" (through
  // smtp_relay; setting smtp-relay selects it).
  std::string transport = "outbox";
  // The SMTP relay (smtp://HOST[:PORT] or smtps://HOST[:PORT]) and how to
  // talk to it.
  std::string smtp_relay;
  std::string smtp_user;
  std::string smtp_password_file;  // the password is its first line
  std::string smtp_tls = "starttls";  // starttls (required) or none
  bool smtp_tls_verify = true;
  std::string smtp_tls_ca_file;
  std::string smtp_helo_name;  // empty: this machine's host name
  int smtp_connections = 8;
  int smtp_messages_per_connection = 100;
  // Caps every SMTP timeout (RFC 5321's are minutes long); zero: no cap.
  absl::Duration smtp_timeout = absl::ZeroDuration();
  // Envelope sender: "bounce+<message id>@<domain>" (VERP, so a bounce
  // names the message it is about) with the sender's own domain unless
  // return_path_domain is set; verp = false sends with the From address.
  bool verp = true;
  std::string return_path_domain;
  // Soft-failure retries: first delay, growth, longest delay, give up.
  absl::Duration retry_initial = absl::Minutes(5);
  double retry_multiplier = 2.0;
  absl::Duration retry_max_delay = absl::Hours(2);
  absl::Duration retry_give_up = absl::Hours(36);
  // At most this many deliveries to one recipient domain at a time, and the
  // back-off (doubling up to the max) when a domain throttles us.
  int domain_concurrency = 8;
  absl::Duration domain_backoff = absl::Minutes(1);
  absl::Duration domain_backoff_max = absl::Minutes(30);
  // Empty means <data_dir>/outbox.
  std::string outbox_dir;
  // Where the first API key is written; empty means <data_dir>/api-key.
  std::string api_key_file;
  // Written with the listening port once the server accepts calls (useful
  // with listen = 127.0.0.1:0).
  std::string port_file;
  int max_recipients = 50;
  int64_t max_message_bytes = 25 * 1024 * 1024;
  // -1: automatic (2 for the outbox, smtp_connections for a relay).
  int dispatcher_workers = -1;
  // Outcomes a dispatcher worker may leave waiting for their commit while
  // it goes on sending (each is a message a crash would send again).
  int uncommitted_outcomes = 8;
  absl::Duration shutdown_grace = absl::Seconds(30);
  // DNS server for lookups ("HOST:PORT"); empty means the system resolver.
  std::string dns;
  // List-Unsubscribe for list messages: the one-click HTTPS base URL
  // (empty: mailto only), the mailto domain (empty: the From domain) and the
  // signing secret's file (empty: <data_dir>/unsubscribe-secret).
  std::string unsubscribe_url;
  std::string unsubscribe_domain;
  std::string unsubscribe_secret_file;
  std::string UnsubscribeSecretFile() const;
  // True when the store is MySQL/MariaDB (shared by replicas).
  bool SharedStore() const;
  // A Maildir of returned mail to read feedback from; empty: none.
  std::string feedback_maildir;
  absl::Duration feedback_maildir_poll = absl::Seconds(10);
  // The folder every cleaning job's source and destination must be under
  // (tenants name server-side files; nothing outside it can be read or
  // written). Empty means <data_dir>/jobs.
  std::string jobs_dir;
  std::string JobsDir() const;
  // Alerts (server/alerts): the From of alert email; the relay alert email
  // goes through (empty: the transport the mail goes through) with its own
  // credentials, so alerts about a failing relay can take another way; and
  // the time limit of one alert's HTTP request.
  std::string alert_from = "deliverd-alerts@localhost";
  // Alert channels and rules declared in a file (server/alerts/alerts_file.h);
  // applied at start. Empty: none.
  std::string alerts_file;
  std::string alert_smtp_relay;
  std::string alert_smtp_user;
  std::string alert_smtp_password_file;
  absl::Duration alert_http_timeout = absl::Seconds(15);

  // The SQLite file (when !SharedStore()).
  std::string StorePath() const;
  // The MySQL connection settings, password resolved (when SharedStore()).
  absl::StatusOr<store::MysqlConfig> MysqlStoreConfig() const;
  std::string OutboxDir() const;
  std::string ApiKeyFile() const;
  int DispatcherWorkers() const;
};

// Parses flags (--name=value or --name value) into `config`, reading
// --config first wherever it appears. Leftover positional arguments are
// returned.
absl::StatusOr<std::vector<std::string>> ParseConfig(
    const std::vector<std::string>& args, Config* config);

// Applies one key/value (shared by the file and the flags).
absl::Status SetConfigValue(const std::string& key, const std::string& value,
                            Config* config);

// Checks settings that only make sense together (a relay for the smtp
// transport, a password with a user, a retry schedule that can work).
absl::Status ValidateConfig(const Config& config);

std::string ConfigUsage();

}  // namespace deliverd

#endif  // DELIVERD_SERVER_CONFIG_H_
