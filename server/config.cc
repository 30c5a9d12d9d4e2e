#include "server/config.h"

#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "hygiene/address.h"
#include "server/delivery/smtp_relay_url.h"
#include "server/store/file_util.h"
#include "server/store/mysql_uri.h"

namespace deliverd {
namespace {

absl::Status BadValue(const std::string& key, const std::string& value,
                      absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(key, ": \"", value, "\" is not ", expected));
}

absl::Status ParsePositive(const std::string& key, const std::string& value,
                           int64_t max, int64_t* out) {
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed) || parsed <= 0 || parsed > max) {
    return BadValue(key, value, absl::StrCat("a whole number from 1 to ", max));
  }
  *out = parsed;
  return absl::OkStatus();
}

absl::Status ParseBool(const std::string& key, const std::string& value,
                       bool* out) {
  if (value == "true" || value == "yes" || value == "1") {
    *out = true;
  } else if (value == "false" || value == "no" || value == "0") {
    *out = false;
  } else {
    return BadValue(key, value, "true or false");
  }
  return absl::OkStatus();
}

absl::Status ParseDurationValue(const std::string& key,
                                const std::string& value,
                                absl::Duration* out) {
  absl::Duration d;
  if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return BadValue(key, value, "a duration such as 30s or 5m");
  }
  *out = d;
  return absl::OkStatus();
}

bool HasControl(absl::string_view value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

absl::Status ReadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: cannot read ", path));
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = line;
    size_t hash = text.find('#');
    if (hash != absl::string_view::npos) text = text.substr(0, hash);
    text = absl::StripAsciiWhitespace(text);
    if (text.empty()) continue;
    size_t eq = text.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", number, ": expected \"key = value\""));
    }
    std::string key(absl::StripAsciiWhitespace(text.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(text.substr(eq + 1)));
    if (absl::Status s = SetConfigValue(key, value, config); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool Config::SharedStore() const { return store::IsMysqlUri(store); }

absl::StatusOr<store::MysqlConfig> Config::MysqlStoreConfig() const {
  absl::StatusOr<store::MysqlConfig> mysql = store::ParseMysqlUri(store);
  if (!mysql.ok()) return mysql.status();
  if (!store_password_file.empty()) {
    absl::StatusOr<std::string> text =
        store::ReadSmallFile(store_password_file, 4096);
    if (!text.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--store-password-file: ", text.status().message()));
    }
    std::string password = text->substr(0, text->find('\n'));
    if (!password.empty() && password.back() == '\r') password.pop_back();
    mysql->password = password;
  } else if (const char* env = getenv("DELIVERD_STORE_PASSWORD");
             env != nullptr && *env != '\0') {
    mysql->password = env;
  }
  return mysql;
}

std::string Config::StorePath() const {
  if (store.empty()) return absl::StrCat(data_dir, "/deliverd.db");
  return store.substr(strlen("sqlite:"));
}

std::string Config::OutboxDir() const {
  return outbox_dir.empty() ? absl::StrCat(data_dir, "/outbox") : outbox_dir;
}

int Config::DispatcherWorkers() const {
  if (dispatcher_workers >= 0) return dispatcher_workers;
  // One per connection: a worker does not wait for its outcomes' commits
  // (the dispatcher hands them to the store and goes on), so more workers
  // than connections only add switching between threads (measured:
  // bench/relay_bench, 8 workers faster than 16 or 32 on 8 connections).
  return transport == "smtp" ? std::min(smtp_connections, 256) : 2;
}

std::string Config::ApiKeyFile() const {
  return api_key_file.empty() ? absl::StrCat(data_dir, "/api-key")
                              : api_key_file;
}

std::string Config::UnsubscribeSecretFile() const {
  return unsubscribe_secret_file.empty()
             ? absl::StrCat(data_dir, "/unsubscribe-secret")
             : unsubscribe_secret_file;
}

std::string Config::JobsDir() const {
  return jobs_dir.empty() ? absl::StrCat(data_dir, "/jobs") : jobs_dir;
}

absl::Status SetConfigValue(const std::string& key, const std::string& value,
                            Config* config) {
  int64_t number = 0;
  if (key == "listen") {
    if (value.rfind(':') == std::string::npos) {
      return BadValue(key, value, "HOST:PORT");
    }
    config->listen = value;
  } else if (key == "data-dir") {
    if (value.empty()) return BadValue(key, value, "a folder");
    config->data_dir = value;
  } else if (key == "store") {
    if (store::IsMysqlUri(value)) {
      absl::StatusOr<store::MysqlConfig> mysql = store::ParseMysqlUri(value);
      // The message ("store: ...") names the bad part and never repeats
      // the URI, which may hold a password.
      if (!mysql.ok()) return mysql.status();
    } else if (!absl::StartsWith(value, "sqlite:") || value.size() == 7) {
      return BadValue(key, value,
                      "a store URL (sqlite:PATH or "
                      "mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)");
    }
    config->store = value;
  } else if (key == "store-password-file") {
    if (value.empty()) return BadValue(key, value, "a file");
    config->store_password_file = value;
  } else if (key == "sqlite-sync") {
    if (value != "full" && value != "normal") {
      return BadValue(key, value, "full or normal");
    }
    config->sqlite_sync = value;
  } else if (key == "transport") {
    if (value != "outbox" && value != "smtp") {
      return BadValue(key, value, "a transport (outbox or smtp)");
    }
    config->transport = value;
  } else if (key == "smtp-relay") {
    absl::StatusOr<delivery::SmtpRelayUrl> url =
        delivery::ParseSmtpRelayUrl(value);
    if (!url.ok()) return BadValue(key, value, url.status().message());
    config->smtp_relay = value;
    config->transport = "smtp";
  } else if (key == "smtp-user") {
    if (HasControl(value)) return BadValue(key, "(hidden)", "no control characters");
    config->smtp_user = value;
  } else if (key == "smtp-password-file") {
    if (value.empty()) return BadValue(key, value, "a file");
    config->smtp_password_file = value;
  } else if (key == "smtp-tls") {
    if (value != "starttls" && value != "none") {
      return BadValue(key, value, "starttls or none");
    }
    config->smtp_tls = value;
  } else if (key == "smtp-tls-verify") {
    if (absl::Status s = ParseBool(key, value, &config->smtp_tls_verify);
        !s.ok()) {
      return s;
    }
  } else if (key == "smtp-tls-ca-file") {
    config->smtp_tls_ca_file = value;
  } else if (key == "smtp-helo-name") {
    if (value.empty() || HasControl(value) ||
        value.find(' ') != std::string::npos) {
      return BadValue(key, value, "a host name");
    }
    config->smtp_helo_name = value;
  } else if (key == "smtp-connections") {
    if (absl::Status s = ParsePositive(key, value, 256, &number); !s.ok()) {
      return s;
    }
    config->smtp_connections = static_cast<int>(number);
  } else if (key == "smtp-messages-per-connection") {
    if (absl::Status s = ParsePositive(key, value, 100000, &number); !s.ok()) {
      return s;
    }
    config->smtp_messages_per_connection = static_cast<int>(number);
  } else if (key == "smtp-timeout") {
    if (absl::Status s = ParseDurationValue(key, value, &config->smtp_timeout);
        !s.ok()) {
      return s;
    }
  } else if (key == "verp") {
    if (absl::Status s = ParseBool(key, value, &config->verp); !s.ok()) {
      return s;
    }
  } else if (key == "return-path-domain") {
    if (value.empty() || HasControl(value) ||
        value.find_first_of(" @<>") != std::string::npos) {
      return BadValue(key, value, "a domain");
    }
    config->return_path_domain = value;
  } else if (key == "retry-initial") {
    if (absl::Status s = ParseDurationValue(key, value, &config->retry_initial);
        !s.ok()) {
      return s;
    }
  } else if (key == "retry-multiplier") {
    double m = 0;
    if (!absl::SimpleAtod(value, &m) || !(m >= 1.0 && m <= 10.0)) {
      return BadValue(key, value, "a number from 1 to 10");
    }
    config->retry_multiplier = m;
  } else if (key == "retry-max-delay") {
    if (absl::Status s =
            ParseDurationValue(key, value, &config->retry_max_delay);
        !s.ok()) {
      return s;
    }
  } else if (key == "domain-concurrency") {
    if (absl::Status s = ParsePositive(key, value, 1000, &number); !s.ok()) {
      return s;
    }
    config->domain_concurrency = static_cast<int>(number);
  } else if (key == "domain-backoff") {
    if (absl::Status s = ParseDurationValue(key, value, &config->domain_backoff);
        !s.ok()) {
      return s;
    }
  } else if (key == "domain-backoff-max") {
    if (absl::Status s =
            ParseDurationValue(key, value, &config->domain_backoff_max);
        !s.ok()) {
      return s;
    }
  } else if (key == "delivery-lease") {
    if (absl::Status s =
            ParseDurationValue(key, value, &config->delivery_lease);
        !s.ok()) {
      return s;
    }
    if (config->delivery_lease < absl::Seconds(2)) {
      return BadValue(key, value, "a duration of at least 2s");
    }
  } else if (key == "retry-give-up") {
    if (absl::Status s = ParseDurationValue(key, value, &config->retry_give_up);
        !s.ok()) {
      return s;
    }
  } else if (key == "outbox-dir") {
    config->outbox_dir = value;
  } else if (key == "api-key-file") {
    config->api_key_file = value;
  } else if (key == "port-file") {
    config->port_file = value;
  } else if (key == "max-recipients") {
    if (absl::Status s = ParsePositive(key, value, 1000, &number); !s.ok()) {
      return s;
    }
    config->max_recipients = static_cast<int>(number);
  } else if (key == "max-message-bytes") {
    if (absl::Status s = ParsePositive(key, value, int64_t{1} << 30, &number);
        !s.ok()) {
      return s;
    }
    config->max_message_bytes = number;
  } else if (key == "dispatcher-workers") {
    // 0 is allowed: an accept-only process that queues but never delivers.
    if (!absl::SimpleAtoi(value, &number) || number < 0 || number > 256) {
      return BadValue(key, value, "a whole number from 0 to 256");
    }
    config->dispatcher_workers = static_cast<int>(number);
  } else if (key == "uncommitted-outcomes") {
    if (!absl::SimpleAtoi(value, &number) || number < 1 || number > 1024) {
      return BadValue(key, value, "a whole number from 1 to 1024");
    }
    config->uncommitted_outcomes = static_cast<int>(number);
  } else if (key == "shutdown-grace") {
    absl::Duration d;
    if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration()) {
      return BadValue(key, value, "a duration such as 30s");
    }
    config->shutdown_grace = d;
  } else if (key == "unsubscribe-url") {
    if (!absl::StartsWith(value, "https://") || value.size() <= 8 ||
        HasControl(value) || value.find_first_of(" <>\"") != std::string::npos) {
      return BadValue(key, value,
                      "an https:// URL (RFC 8058 one-click needs HTTPS)");
    }
    config->unsubscribe_url = value;
  } else if (key == "unsubscribe-domain") {
    if (value.empty() || HasControl(value) ||
        value.find_first_of(" @<>") != std::string::npos) {
      return BadValue(key, value, "a domain");
    }
    config->unsubscribe_domain = value;
  } else if (key == "unsubscribe-secret-file") {
    if (value.empty() || HasControl(value)) {
      return BadValue(key, value, "a file path");
    }
    config->unsubscribe_secret_file = value;
  } else if (key == "feedback-maildir") {
    if (value.empty() || HasControl(value)) {
      return BadValue(key, value, "a folder path");
    }
    config->feedback_maildir = value;
  } else if (key == "jobs-dir") {
    if (value.empty() || HasControl(value)) {
      return BadValue(key, value, "a folder path");
    }
    config->jobs_dir = value;
  } else if (key == "feedback-maildir-poll") {
    if (absl::Status s =
            ParseDurationValue(key, value, &config->feedback_maildir_poll);
        !s.ok()) {
      return s;
    }
  } else if (key == "alert-from") {
    absl::StatusOr<hygiene::ParsedAddress> from = hygiene::ParseAddress(value);
    if (!from.ok()) return BadValue(key, value, "an email address");
    config->alert_from = value;
  } else if (key == "alerts-file") {
    if (value.empty() || HasControl(value)) {
      return BadValue(key, value, "a file path");
    }
    config->alerts_file = value;
  } else if (key == "alert-smtp-relay") {
    absl::StatusOr<delivery::SmtpRelayUrl> url =
        delivery::ParseSmtpRelayUrl(value);
    if (!url.ok()) return BadValue(key, value, url.status().message());
    config->alert_smtp_relay = value;
  } else if (key == "alert-smtp-user") {
    if (HasControl(value)) return BadValue(key, "(hidden)", "no control characters");
    config->alert_smtp_user = value;
  } else if (key == "alert-smtp-password-file") {
    if (value.empty()) return BadValue(key, value, "a file");
    config->alert_smtp_password_file = value;
  } else if (key == "alert-http-timeout") {
    if (absl::Status s =
            ParseDurationValue(key, value, &config->alert_http_timeout);
        !s.ok()) {
      return s;
    }
    if (config->alert_http_timeout < absl::Seconds(1)) {
      return BadValue(key, value, "at least 1s");
    }
  } else if (key == "dns") {
    if (value.rfind(':') == std::string::npos) {
      return BadValue(key, value, "HOST:PORT");
    }
    config->dns = value;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown setting \"", key,
                                                   "\" (see deliverd --help)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseConfig(
    const std::vector<std::string>& args, Config* config) {
  // The file first, so flags override it wherever --config appears.
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--config") {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError("--config: needs a file");
      }
      if (absl::Status s = ReadConfigFile(args[i + 1], config); !s.ok()) {
        return s;
      }
    } else if (absl::ConsumePrefix(&arg, "--config=")) {
      if (absl::Status s = ReadConfigFile(std::string(arg), config); !s.ok()) {
        return s;
      }
    }
  }
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (!absl::ConsumePrefix(&arg, "--")) {
      positional.push_back(args[i]);
      continue;
    }
    std::string key, value;
    size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      key = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      key = std::string(arg);
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", key, ": needs a value"));
      }
      value = args[++i];
    }
    if (key == "config") continue;
    if (absl::Status s = SetConfigValue(key, value, config); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
    }
  }
  if (absl::Status s = ValidateConfig(*config); !s.ok()) return s;
  return positional;
}

absl::Status ValidateConfig(const Config& config) {
  if (config.transport == "smtp" && config.smtp_relay.empty()) {
    return absl::InvalidArgumentError(
        "transport smtp needs smtp-relay (smtp://HOST[:PORT])");
  }
  if (config.smtp_user.empty() != config.smtp_password_file.empty()) {
    return absl::InvalidArgumentError(
        "smtp-user and smtp-password-file go together");
  }
  if (config.alert_smtp_user.empty() !=
      config.alert_smtp_password_file.empty()) {
    return absl::InvalidArgumentError(
        "alert-smtp-user and alert-smtp-password-file go together");
  }
  if (!config.alert_smtp_user.empty() && config.alert_smtp_relay.empty()) {
    return absl::InvalidArgumentError(
        "alert-smtp-user needs alert-smtp-relay");
  }
  if (absl::StartsWith(config.smtp_relay, "smtps:") &&
      config.smtp_tls == "none") {
    return absl::InvalidArgumentError(
        "smtp-tls none contradicts an smtps:// relay");
  }
  if (config.retry_initial < absl::Seconds(1) ||
      config.retry_max_delay < config.retry_initial ||
      config.retry_give_up < config.retry_initial) {
    return absl::InvalidArgumentError(
        "retry settings: need 1s <= retry-initial <= retry-max-delay and "
        "retry-initial <= retry-give-up");
  }
  if (config.domain_backoff <= absl::ZeroDuration() ||
      config.domain_backoff_max < config.domain_backoff) {
    return absl::InvalidArgumentError(
        "domain back-off: need 0 < domain-backoff <= domain-backoff-max");
  }
  return absl::OkStatus();
}

std::string ConfigUsage() {
  return R"(usage: deliverd [serve] [flags]
       deliverd keys create --tenant NAME [--label TEXT] [flags]
       deliverd migrate [flags]

flags (also settable in --config FILE as "name = value"):
  --listen HOST:PORT         where to serve gRPC (default 127.0.0.1:7420; port 0 picks one)
  --data-dir DIR             data folder (default ./data)
  --store sqlite:PATH        the store (default sqlite:<data-dir>/deliverd.db)
  --store mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?pool=N]
                             MySQL or MariaDB, shared by any number of
                             deliverd replicas (pool: connections, default 8)
  --store-password-file PATH the MySQL password (first line); else the
                             DELIVERD_STORE_PASSWORD environment variable,
                             else the URI's
  --delivery-lease DURATION  how long a claimed message stays with this
                             replica before another may take it over
                             (default 5m)
  --sqlite-sync full|normal  fsync every commit (full, default) or leave it
                             to the OS (normal: survives kill -9, not power
                             loss; single Sends are answered from an intake
                             log, <store>-intake, and stored within 10 ms)
  --transport outbox|smtp    how mail leaves (default outbox: .eml files)
  --outbox-dir DIR           outbox folder (default <data-dir>/outbox)
  --smtp-relay URL           send through this relay (selects --transport smtp):
                             smtp://HOST[:PORT] (STARTTLS, port 25) or
                             smtps://HOST[:PORT] (TLS, port 465)
  --smtp-user NAME           AUTH as NAME (PLAIN or LOGIN)
  --smtp-password-file PATH  the AUTH password (first line of the file)
  --smtp-tls starttls|none   smtp:// relays: require STARTTLS (default) or
                             send in plain text
  --smtp-tls-verify BOOL     verify the relay's certificate and name (default true)
  --smtp-tls-ca-file PATH    trusted certificates (default: the system's)
  --smtp-helo-name NAME      EHLO name (default: this machine's host name)
  --smtp-connections N       connections kept to the relay (default 8)
  --smtp-messages-per-connection N  then reconnect (default 100)
  --smtp-timeout DURATION    cap on every SMTP timeout (default: RFC 5321's)
  --verp BOOL                envelope sender bounce+<id>@<domain> (default true)
  --return-path-domain D     domain of that sender (default: the From domain)
  --retry-initial DURATION   first retry after a soft failure (default 5m)
  --retry-multiplier X       each retry waits X times longer (default 2)
  --retry-max-delay DURATION longest wait between retries (default 2h)
  --retry-give-up DURATION   fail after this long since queueing (default 36h)
  --domain-concurrency N     deliveries at once per recipient domain (default 8)
  --domain-backoff DURATION  pause for a domain that throttles us (421, 4.7.x
                             rate limits; default 1m, doubling)
  --domain-backoff-max DURATION  longest such pause (default 30m)
  --api-key-file PATH        where the first API key is written (default <data-dir>/api-key)
  --port-file PATH           write the listening port here once serving
  --max-recipients N         recipients per message (default 50)
  --max-message-bytes N      message size limit (default 26214400)
  --dispatcher-workers N     concurrent deliveries (default 2, or one per
                             --smtp-connections with a relay; 0 = queue only)
  --uncommitted-outcomes N   outcomes a worker may leave waiting for their
                             commit while it sends on (default 8; a crash
                             resends at most N+1 messages per worker)
  --shutdown-grace DURATION  how long in-flight calls may finish (default 30s)
  --dns HOST:PORT            DNS server (default: the system resolver)
  --unsubscribe-url URL      https base of list messages' one-click unsubscribe
                             link (?token=... is appended; your endpoint calls
                             Unsubscribe with the token). Default: mailto only
  --unsubscribe-domain D     domain of the unsubscribe mailto (default: From's)
  --unsubscribe-secret-file PATH  key signing unsubscribe tokens (default
                             <data-dir>/unsubscribe-secret, created if missing;
                             replicas share it)
  --feedback-maildir DIR     read bounces and feedback reports delivered to
                             this Maildir (new/, cur/); each file moves to
                             done/ or failed/ once read
  --feedback-maildir-poll DURATION  how often to look (default 10s)
  --jobs-dir DIR             cleaning jobs may only read and write files under
                             this folder (default <data-dir>/jobs, created if
                             missing)
  --alerts-file FILE         alert channels and rules to apply at start
                             (JSON, deliverd.v1.AlertsFile; chmod 600)
  --alert-from ADDRESS       From of alert email (default
                             deliverd-alerts@localhost)
  --alert-smtp-relay URL     send alert email through this relay instead of
                             the mail transport (smtp:// or smtps://), with
                             --alert-smtp-user and --alert-smtp-password-file
  --alert-http-timeout DURATION  time limit of one alert's HTTP request
                             (default 15s)
)";
}

}  // namespace deliverd
