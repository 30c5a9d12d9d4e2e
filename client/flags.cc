#include "client/flags.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/times.h"

namespace deliverd::client {
namespace {

const FlagSpec* FindFlag(const std::vector<FlagSpec>& specs,
                         absl::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const CommandSpec* FindCommand(const std::vector<CommandSpec>& commands,
                               absl::string_view name) {
  for (const CommandSpec& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

bool IsGroup(const std::vector<CommandSpec>& commands, absl::string_view word) {
  const std::string prefix = absl::StrCat(word, " ");
  for (const CommandSpec& command : commands) {
    if (absl::StartsWith(command.name, prefix)) return true;
  }
  return false;
}

// Whether a command-line word is meant as a flag rather than as a value.
bool LooksLikeFlag(absl::string_view arg) {
  return arg.size() > 2 && absl::StartsWith(arg, "--");
}

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

std::string HelpHint(const ParsedCommandLine& parsed) {
  if (parsed.command != nullptr) {
    return absl::StrCat("see 'deliverctl help ", parsed.command->name, "'");
  }
  return "see 'deliverctl help'";
}

absl::StatusOr<bool> ParseBoolValue(absl::string_view flag,
                                    absl::string_view value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return Usage(absl::StrCat("--", flag,
                            " takes no value (or =true/=false), "
                            "got \"",
                            value, "\""));
}

absl::Status SetGlobal(const FlagSpec& spec, const std::string& value,
                       GlobalOptions* global) {
  const auto set_once = [&](std::optional<std::string>* slot) -> absl::Status {
    if (slot->has_value()) {
      return Usage(absl::StrCat("--", spec.name, " given more than once"));
    }
    *slot = value;
    return absl::OkStatus();
  };
  if (spec.name == "server") return set_once(&global->server);
  if (spec.name == "api-key") return set_once(&global->api_key);
  if (spec.name == "api-key-file") return set_once(&global->api_key_file);
  if (spec.name == "dns") return set_once(&global->dns);
  if (spec.name == "timeout") {
    if (global->timeout.has_value()) {
      return Usage("--timeout given more than once");
    }
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(value);
    if (!timeout.ok()) return Usage(timeout.status().message());
    global->timeout = *timeout;
    return absl::OkStatus();
  }
  const bool on = value == "true";
  if (spec.name == "json") global->json = on;
  if (spec.name == "local") global->local = on;
  if (spec.name == "help") global->help = on;
  return absl::OkStatus();
}

}  // namespace

const std::vector<FlagSpec>& GlobalFlagSpecs() {
  static const auto* const specs = new std::vector<FlagSpec>{
      {"server", FlagKind::kValue, "HOST:PORT",
       "deliverd address (default: $DELIVERD_SERVER, else 127.0.0.1:7420)"},
      {"api-key", FlagKind::kValue, "KEY",
       "API key (default: $DELIVERD_API_KEY, else ./data/api-key if it "
       "exists)"},
      {"api-key-file", FlagKind::kValue, "PATH",
       "read the API key from PATH (instead of --api-key)"},
      {"json", FlagKind::kBool, "",
       "machine output: JSON objects, one per line"},
      {"dns", FlagKind::kValue, "HOST:PORT", "DNS server for the DNS checks"},
      {"local", FlagKind::kBool, "",
       "compute in-process, without a server (commands that support it)"},
      {"timeout", FlagKind::kValue, "SECONDS",
       "deadline of each call (default 30; watch: none unless given)"},
      {"help", FlagKind::kBool, "", "show help (also -h)"},
  };
  return *specs;
}

bool ParsedCommandLine::Has(absl::string_view flag) const {
  return values.find(flag) != values.end();
}

bool ParsedCommandLine::GetBool(absl::string_view flag) const {
  auto it = values.find(flag);
  return it != values.end() && !it->second.empty() &&
         it->second.back() == "true";
}

std::optional<std::string> ParsedCommandLine::Get(
    absl::string_view flag) const {
  auto it = values.find(flag);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

std::string ParsedCommandLine::GetOr(absl::string_view flag,
                                     absl::string_view fallback) const {
  std::optional<std::string> value = Get(flag);
  return value.has_value() ? *value : std::string(fallback);
}

const std::vector<std::string>& ParsedCommandLine::GetAll(
    absl::string_view flag) const {
  static const auto* const kEmpty = new std::vector<std::string>();
  auto it = values.find(flag);
  return it == values.end() ? *kEmpty : it->second;
}

std::vector<std::string> SplitCommaList(absl::string_view text) {
  std::vector<std::string> items;
  for (absl::string_view piece : absl::StrSplit(text, ',')) {
    piece = absl::StripAsciiWhitespace(piece);
    if (!piece.empty()) items.emplace_back(piece);
  }
  return items;
}

namespace {

absl::Status Parse(const std::vector<std::string>& args,
                   const std::vector<CommandSpec>& commands,
                   ParsedCommandLine& parsed) {
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_ended && arg == "--") {
      flags_ended = true;
      continue;
    }
    const bool is_flag = !flags_ended && arg.size() > 1 && arg[0] == '-';
    if (!is_flag) {
      if (parsed.command != nullptr) {
        parsed.positionals.push_back(arg);
        continue;
      }
      const std::string name =
          parsed.group.empty() ? arg : absl::StrCat(parsed.group, " ", arg);
      if (const CommandSpec* command = FindCommand(commands, name)) {
        parsed.command = command;
        parsed.group.clear();
      } else if (parsed.group.empty() && IsGroup(commands, arg)) {
        parsed.group = arg;
      } else {
        return Usage(absl::StrCat("unknown command '", name, "' (",
                                  HelpHint(parsed), ")"));
      }
      continue;
    }

    if (arg == "-h") {
      parsed.global.help = true;
      continue;
    }
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--")) {
      return Usage(
          absl::StrCat("unknown flag ", arg, " (", HelpHint(parsed), ")"));
    }
    std::optional<std::string> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const FlagSpec* spec = FindFlag(GlobalFlagSpecs(), body);
    const bool global = spec != nullptr;
    if (spec == nullptr && parsed.command != nullptr) {
      spec = FindFlag(parsed.command->flags, body);
    }
    if (spec == nullptr) {
      return Usage(
          absl::StrCat("unknown flag --", body, " (", HelpHint(parsed), ")"));
    }

    std::string value;
    if (spec->kind == FlagKind::kBool) {
      value = "true";
      if (inline_value.has_value()) {
        absl::StatusOr<bool> on = ParseBoolValue(spec->name, *inline_value);
        if (!on.ok()) return on.status();
        value = *on ? "true" : "false";
      }
    } else if (inline_value.has_value()) {
      value = *inline_value;
    } else if (i + 1 < args.size() && !LooksLikeFlag(args[i + 1])) {
      value = args[++i];
    } else {
      return Usage(absl::StrCat("--", spec->name, " needs a value (--",
                                spec->name, " ", spec->value_name, ", or --",
                                spec->name, "=", spec->value_name, ")"));
    }

    if (global) {
      if (absl::Status s = SetGlobal(*spec, value, &parsed.global); !s.ok()) {
        return s;
      }
      continue;
    }
    std::vector<std::string>& slot = parsed.values[spec->name];
    if (spec->kind == FlagKind::kRepeated) {
      if (spec->split_commas) {
        std::vector<std::string> items = SplitCommaList(value);
        if (items.empty()) {
          return Usage(absl::StrCat("--", spec->name, " needs a value"));
        }
        slot.insert(slot.end(), items.begin(), items.end());
      } else {
        slot.push_back(std::move(value));
      }
    } else {
      if (!slot.empty()) {
        return Usage(absl::StrCat("--", spec->name, " given more than once"));
      }
      slot.push_back(std::move(value));
    }
  }

  // With --help the user asks how to use the command; complaining about
  // what is missing would be unhelpful.
  if (parsed.global.help || parsed.command == nullptr) {
    return absl::OkStatus();
  }
  const CommandSpec& command = *parsed.command;
  const int count = static_cast<int>(parsed.positionals.size());
  if (count < command.min_positionals) {
    return Usage(absl::StrCat("missing ", command.arguments, " (",
                              HelpHint(parsed), ")"));
  }
  if (command.max_positionals >= 0 && count > command.max_positionals) {
    return Usage(absl::StrCat("unexpected argument '",
                              parsed.positionals[command.max_positionals],
                              "' (", HelpHint(parsed), ")"));
  }
  for (const FlagSpec& flag : command.flags) {
    if (flag.required && !parsed.Has(flag.name)) {
      return Usage(absl::StrCat("--", flag.name, " is required (",
                                HelpHint(parsed), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    const std::vector<std::string>& args,
    const std::vector<CommandSpec>& commands) {
  ParsedCommandLine parsed;
  absl::Status status = Parse(args, commands, parsed);
  if (status.ok()) return parsed;
  // Once the command is known, errors name it, like handlers' errors do.
  if (parsed.command != nullptr) {
    return Usage(absl::StrCat(parsed.command->name, ": ", status.message()));
  }
  return status;
}

}  // namespace deliverd::client
