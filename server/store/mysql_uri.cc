#include "server/store/mysql_uri.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace deliverd::store {
namespace {

constexpr absl::string_view kScheme = "mysql://";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view text,
                                          absl::string_view part) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "store: bad percent-encoding in the ", part, " of the MySQL URI"));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

bool IsMysqlUri(absl::string_view store) {
  return absl::StartsWith(store, kScheme);
}

absl::StatusOr<MysqlConfig> ParseMysqlUri(absl::string_view uri) {
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store: ", why,
        " (expected mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?pool=N])"));
  };
  if (!IsMysqlUri(uri)) return bad("not a mysql:// URI");
  absl::string_view rest = uri.substr(kScheme.size());
  MysqlConfig config;

  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return bad("no /DATABASE");
  absl::string_view authority = rest.substr(0, slash);
  absl::StatusOr<std::string> database =
      PercentDecode(rest.substr(slash + 1), "database");
  if (!database.ok()) return database.status();
  if (database->empty()) return bad("empty database name");
  if (database->find('/') != std::string::npos) {
    return bad("the database name contains '/'");
  }
  config.database = *database;

  size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return bad("no USER@ before the host");
  absl::string_view userinfo = authority.substr(0, at);
  absl::string_view hostport = authority.substr(at + 1);
  size_t colon = userinfo.find(':');
  absl::StatusOr<std::string> user =
      PercentDecode(userinfo.substr(0, colon), "user");
  if (!user.ok()) return user.status();
  if (user->empty()) return bad("empty user name");
  config.user = *user;
  if (colon != absl::string_view::npos) {
    absl::StatusOr<std::string> password =
        PercentDecode(userinfo.substr(colon + 1), "password");
    if (!password.ok()) return password.status();
    config.password = *password;
  }

  absl::string_view host = hostport;
  absl::string_view port;
  if (absl::StartsWith(hostport, "[")) {
    size_t close = hostport.find(']');
    if (close == absl::string_view::npos) return bad("unclosed '[' in host");
    host = hostport.substr(1, close - 1);
    absl::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after the bracketed host");
      port = after.substr(1);
    }
  } else if (size_t c = hostport.rfind(':'); c != absl::string_view::npos) {
    host = hostport.substr(0, c);
    port = hostport.substr(c + 1);
  }
  if (host.empty()) return bad("empty host");
  config.host = std::string(host);
  if (!port.empty() || absl::EndsWith(hostport, ":")) {
    int value = 0;
    if (!absl::SimpleAtoi(port, &value) || value < 1 || value > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    config.port = value;
  }

  for (absl::string_view param : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(param, absl::MaxSplits('=', 1));
    if (kv.first == "pool") {
      int value = 0;
      if (!absl::SimpleAtoi(kv.second, &value) || value < 2 || value > 1000) {
        return bad("pool must be a number from 2 to 1000");
      }
      config.pool_size = value;
    } else {
      return bad(absl::StrCat("unknown parameter \"", kv.first, "\""));
    }
  }
  return config;
}

}  // namespace deliverd::store
