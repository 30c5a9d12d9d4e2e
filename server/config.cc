#include "server/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

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

std::string Config::StorePath() const {
  if (store.empty()) return absl::StrCat(data_dir, "/deliverd.db");
  return store.substr(strlen("sqlite:"));
}

std::string Config::OutboxDir() const {
  return outbox_dir.empty() ? absl::StrCat(data_dir, "/outbox") : outbox_dir;
}

std::string Config::ApiKeyFile() const {
  return api_key_file.empty() ? absl::StrCat(data_dir, "/api-key")
                              : api_key_file;
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
    if (!absl::StartsWith(value, "sqlite:") || value.size() == 7) {
      return BadValue(key, value,
                      "a store URL (sqlite:PATH; mysql:// arrives with the "
                      "MySQL backend)");
    }
    config->store = value;
  } else if (key == "sqlite-sync") {
    if (value != "full" && value != "normal") {
      return BadValue(key, value, "full or normal");
    }
    config->sqlite_sync = value;
  } else if (key == "transport") {
    if (value != "outbox") {
      return BadValue(key, value, "a transport (outbox)");
    }
    config->transport = value;
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
  } else if (key == "shutdown-grace") {
    absl::Duration d;
    if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration()) {
      return BadValue(key, value, "a duration such as 30s");
    }
    config->shutdown_grace = d;
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
  return positional;
}

std::string ConfigUsage() {
  return R"(usage: deliverd [serve] [flags]
       deliverd keys create --tenant NAME [--label TEXT] [flags]
       deliverd migrate [flags]

flags (also settable in --config FILE as "name = value"):
  --listen HOST:PORT         where to serve gRPC (default 127.0.0.1:7420; port 0 picks one)
  --data-dir DIR             data folder (default ./data)
  --store sqlite:PATH        the store (default sqlite:<data-dir>/deliverd.db)
  --sqlite-sync full|normal  fsync every commit (full, default) or leave it
                             to the OS (normal: survives kill -9, not power loss)
  --transport outbox         how mail leaves (default outbox: .eml files)
  --outbox-dir DIR           outbox folder (default <data-dir>/outbox)
  --api-key-file PATH        where the first API key is written (default <data-dir>/api-key)
  --port-file PATH           write the listening port here once serving
  --max-recipients N         recipients per message (default 50)
  --max-message-bytes N      message size limit (default 26214400)
  --dispatcher-workers N     concurrent deliveries (default 2; 0 = queue only)
  --shutdown-grace DURATION  how long in-flight calls may finish (default 30s)
  --dns HOST:PORT            DNS server (default: the system resolver)
)";
}

}  // namespace deliverd
