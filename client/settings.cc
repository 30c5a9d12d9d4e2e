#include "client/settings.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace deliverd::client {
namespace {

std::optional<std::string> NonEmptyEnv(const Environment& env,
                                       absl::string_view name) {
  std::optional<std::string> value = env.get_env(name);
  if (value.has_value() && value->empty()) return std::nullopt;
  return value;
}

// gRPC metadata values must be printable ASCII; a key with a stray control
// character or non-ASCII byte would make every call fail with an obscure
// INTERNAL error, so it is caught here with a message naming the source.
absl::Status CheckKey(absl::string_view key, absl::string_view source) {
  if (key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the API key from ", source, " is empty"));
  }
  for (char c : key) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          "the API key from ", source,
          " contains spaces or characters outside printable ASCII"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadKeyFile(const Environment& env,
                                        const std::string& path,
                                        absl::string_view source) {
  absl::StatusOr<std::string> contents = env.read_file(path);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the API key (", source,
                     "): ", contents.status().message()));
  }
  return std::string(absl::StripAsciiWhitespace(*contents));
}

}  // namespace

Environment Environment::Real() {
  Environment env;
  env.get_env = [](absl::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.read_file = ReadFileContents;
  return env;
}

absl::StatusOr<ConnectionSettings> ResolveConnectionSettings(
    const GlobalOptions& global, const Environment& env) {
  ConnectionSettings settings;

  if (global.server.has_value()) {
    settings.server = *global.server;
  } else if (auto server = NonEmptyEnv(env, kServerEnv)) {
    settings.server = *server;
  } else {
    settings.server = std::string(kDefaultServer);
  }
  if (settings.server.empty()) {
    return absl::InvalidArgumentError("--server is empty");
  }

  if (global.api_key.has_value() && global.api_key_file.has_value()) {
    return absl::InvalidArgumentError(
        "give --api-key or --api-key-file, not both");
  }
  if (global.api_key.has_value()) {
    settings.api_key = *global.api_key;
    settings.api_key_source = "--api-key";
  } else if (global.api_key_file.has_value()) {
    settings.api_key_source =
        absl::StrCat("--api-key-file ", *global.api_key_file);
    absl::StatusOr<std::string> key =
        ReadKeyFile(env, *global.api_key_file, settings.api_key_source);
    if (!key.ok()) return key.status();
    settings.api_key = *key;
  } else if (auto key = NonEmptyEnv(env, kApiKeyEnv)) {
    settings.api_key = *key;
    settings.api_key_source = std::string(kApiKeyEnv);
  } else {
    // Only a missing file means "no key here"; one that exists but cannot
    // be read is reported, since the user most likely meant to use it.
    const std::string path(kDefaultKeyFile);
    absl::StatusOr<std::string> contents = env.read_file(path);
    if (contents.ok() || !absl::IsNotFound(contents.status())) {
      settings.api_key_source = absl::StrCat("./", path);
      if (!contents.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot read the API key (", settings.api_key_source,
                         "): ", contents.status().message()));
      }
      settings.api_key = std::string(absl::StripAsciiWhitespace(*contents));
    }
  }
  if (!settings.api_key_source.empty()) {
    if (absl::Status s = CheckKey(settings.api_key, settings.api_key_source);
        !s.ok()) {
      return s;
    }
  }

  if (global.timeout.has_value()) {
    settings.timeout = *global.timeout;
    settings.timeout_explicit = true;
  }
  settings.dns = global.dns.value_or("");
  return settings;
}

}  // namespace deliverd::client
