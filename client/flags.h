// Command-line parsing for deliverctl: global flags, the subcommand, its
// flags and its positional arguments.
//
// Contract:
//   - Pure: no I/O, no environment, no defaults from outside. Resolving
//     defaults (environment variables, the key file) is settings.h's job.
//   - Global flags may appear anywhere: before or after the subcommand.
//     Subcommand flags come after the subcommand (before it, the parser
//     cannot know which command they belong to).
//   - "--flag value" and "--flag=value" are equivalent. A value that itself
//     starts with "--" must use the '=' form: "--subject --x" is read as a
//     missing value, which catches the far more common mistake of forgetting
//     the value. Boolean flags take no value, or "=true"/"=false".
//   - "--" ends the flags; "-" alone is a positional (stdin).
//   - Repeatable flags collect values in order; those marked split_commas
//     also split each value at commas ("--to a@x,b@y"). Any other flag given
//     twice is an error rather than "last one wins", because in a send
//     command a second --from or --subject is almost certainly a mistake.
//   - Every error is returned as InvalidArgument with a one-line message
//     (without the "deliverctl: " prefix); the caller exits with kExitUsage.
//   - Commands form at most two levels: "suppressions list" is a command
//     named "suppressions list"; "suppressions" alone is a group.
#ifndef DELIVERD_CLIENT_FLAGS_H_
#define DELIVERD_CLIENT_FLAGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace deliverd::client {

// Exit statuses of deliverctl.
inline constexpr int kExitOk = 0;
// An RPC failed, or some items of a batch did.
inline constexpr int kExitFailure = 1;
// The command line was wrong or local input was unusable.
inline constexpr int kExitUsage = 2;

enum class FlagKind { kBool, kValue, kRepeated };

struct FlagSpec {
  std::string name;  // Without the leading "--".
  FlagKind kind = FlagKind::kValue;
  std::string value_name;  // For help: "ADDR".
  std::string help;
  bool required = false;
  bool split_commas = false;  // kRepeated only.
};

struct CommandSpec {
  std::string name;         // "send", "suppressions list".
  std::string arguments;    // Positionals for help and errors: "ID...".
  std::string summary;      // One line.
  std::string description;  // Optional paragraphs for `help COMMAND`.
  std::vector<FlagSpec> flags;
  int min_positionals = 0;
  int max_positionals = 0;  // -1: no limit.
  // Whether the command can run with --local (in-process, no server).
  bool supports_local = false;
};

// The global flags, as given. Unset optionals mean "not on the command line".
struct GlobalOptions {
  std::optional<std::string> server;
  std::optional<std::string> api_key;
  std::optional<std::string> api_key_file;
  std::optional<std::string> dns;
  std::optional<absl::Duration> timeout;
  bool json = false;
  bool local = false;
  bool help = false;
};

// The global flags' specs, for help output.
const std::vector<FlagSpec>& GlobalFlagSpecs();

struct ParsedCommandLine {
  GlobalOptions global;
  // Null when no command was given. When only a group word was given
  // ("suppressions"), `group` holds it and `command` is null.
  const CommandSpec* command = nullptr;
  std::string group;
  std::vector<std::string> positionals;
  // Subcommand flag values by flag name; booleans are stored as "true" or
  // "false".
  std::map<std::string, std::vector<std::string>, std::less<>> values;

  bool Has(absl::string_view flag) const;
  // A boolean flag's value (false when absent).
  bool GetBool(absl::string_view flag) const;
  // A single-valued flag's value.
  std::optional<std::string> Get(absl::string_view flag) const;
  std::string GetOr(absl::string_view flag, absl::string_view fallback) const;
  // A repeatable flag's values in command-line order (empty when absent).
  const std::vector<std::string>& GetAll(absl::string_view flag) const;
};

absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    const std::vector<std::string>& args,
    const std::vector<CommandSpec>& commands);

// "a@x, b@y,," -> {"a@x", "b@y"}: split at commas, trimmed, empty pieces
// dropped (a trailing comma is harmless).
std::vector<std::string> SplitCommaList(absl::string_view text);

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_FLAGS_H_
