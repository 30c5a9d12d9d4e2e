// deliverd: the gRPC email-deliverability service.
//
//   deliverd [serve] [flags]                       run the service
//   deliverd keys create --tenant NAME [--label]   issue an API key
//   deliverd migrate [flags]                       apply migrations and exit
//   deliverd tenants policy --tenant NAME [--require-domain-auth BOOL]
//                           [--dkim-selectors S1,S2]
//                           [--soft-bounce-half-life D]
//                           [--soft-bounce-threshold X]
//                           [--soft-bounce-suppress-for D]  show or change the
//                                                  tenant's send policy
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hygiene/policy.h"
#include "server/api/api_keys.h"
#include "server/api/dkim_selectors.h"
#include "server/config.h"
#include "server/server.h"
#include "server/transport_setup.h"
#include "server/store/mysql_store.h"
#include "server/store/store.h"

namespace {

int Fail(const std::string& message, int code = 1) {
  std::cerr << "deliverd: " << message << "\n";
  return code;
}

// Pulls "--name value" / "--name=value" out of args (for subcommand flags
// that are not configuration).
std::string TakeFlag(std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--" + name && i + 1 < args.size()) {
      std::string value = args[i + 1];
      args.erase(args.begin() + i, args.begin() + i + 2);
      return value;
    }
    if (args[i].rfind("--" + name + "=", 0) == 0) {
      std::string value = args[i].substr(name.size() + 3);
      args.erase(args.begin() + i);
      return value;
    }
  }
  return "";
}

int CreateKey(std::vector<std::string> args) {
  std::string tenant = TakeFlag(args, "tenant");
  std::string label = TakeFlag(args, "label");
  deliverd::Config config;
  absl::StatusOr<std::vector<std::string>> rest =
      deliverd::ParseConfig(args, &config);
  if (!rest.ok()) return Fail(std::string(rest.status().message()), 2);
  if (tenant.empty()) return Fail("keys create: --tenant NAME is required", 2);
  if (!rest->empty()) {
    return Fail(absl::StrCat("keys create: unexpected argument ", rest->front()),
                2);
  }
  absl::StatusOr<std::unique_ptr<deliverd::store::Store>> store =
      deliverd::OpenStore(config);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  absl::StatusOr<int64_t> id = (*store)->FindTenant(tenant);
  if (absl::IsNotFound(id.status())) id = (*store)->CreateTenant(tenant);
  if (!id.ok()) return Fail(std::string(id.status().message()));
  absl::StatusOr<std::string> key =
      deliverd::api::IssueApiKey(**store, *id, label);
  if (!key.ok()) return Fail(std::string(key.status().message()));
  std::cout << *key << "\n";
  return 0;
}

// Shows a tenant's send policy, changing it first when asked to.
int TenantPolicy(std::vector<std::string> args) {
  std::string tenant = TakeFlag(args, "tenant");
  std::string require = TakeFlag(args, "require-domain-auth");
  bool set_selectors = false;
  for (const std::string& a : args) {
    if (a == "--dkim-selectors" || a.rfind("--dkim-selectors=", 0) == 0) {
      set_selectors = true;
    }
  }
  std::string selectors = TakeFlag(args, "dkim-selectors");
  std::string half_life = TakeFlag(args, "soft-bounce-half-life");
  std::string threshold = TakeFlag(args, "soft-bounce-threshold");
  std::string suppress_for = TakeFlag(args, "soft-bounce-suppress-for");
  deliverd::Config config;
  absl::StatusOr<std::vector<std::string>> rest =
      deliverd::ParseConfig(args, &config);
  if (!rest.ok()) return Fail(std::string(rest.status().message()), 2);
  if (tenant.empty()) return Fail("tenants policy: --tenant NAME is required", 2);
  if (!rest->empty()) {
    return Fail(
        absl::StrCat("tenants policy: unexpected argument ", rest->front()), 2);
  }
  if (!require.empty() && require != "true" && require != "false") {
    return Fail("tenants policy: --require-domain-auth: true or false", 2);
  }
  std::vector<std::string> selector_list;
  if (set_selectors && !selectors.empty()) {
    absl::StatusOr<std::vector<std::string>> valid =
        deliverd::api::ValidateDkimSelectors(absl::StrSplit(selectors, ','));
    if (!valid.ok()) {
      return Fail(absl::StrCat("tenants policy: --dkim-selectors: ",
                               valid.status().message()),
                  2);
    }
    selector_list = *valid;
  }
  // Soft-bounce settings: "default" (or 0) goes back to the default.
  auto seconds_of = [](const std::string& flag, const std::string& text,
                       int64_t* out) -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    absl::Duration d;
    if (text == "default") {
      *out = 0;
    } else if (absl::ParseDuration(text, &d) && d >= absl::Seconds(1) &&
               d <= absl::Hours(24 * 3650)) {
      *out = absl::ToInt64Seconds(d);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "tenants policy: --", flag,
          ": a duration from 1s to 3650 days such as 168h, or default"));
    }
    return absl::OkStatus();
  };
  int64_t half_life_s = -1, suppress_s = -1;
  if (absl::Status s = seconds_of("soft-bounce-half-life", half_life, &half_life_s);
      !s.ok()) {
    return Fail(std::string(s.message()), 2);
  }
  if (absl::Status s =
          seconds_of("soft-bounce-suppress-for", suppress_for, &suppress_s);
      !s.ok()) {
    return Fail(std::string(s.message()), 2);
  }
  double threshold_value = -1;
  if (!threshold.empty()) {
    if (threshold == "default") {
      threshold_value = 0;
    } else if (!absl::SimpleAtod(threshold, &threshold_value) ||
               !(threshold_value >= 0.5 && threshold_value <= 100)) {
      return Fail(
          "tenants policy: --soft-bounce-threshold: a number from 0.5 to 100, "
          "or default",
          2);
    }
  }
  absl::StatusOr<std::unique_ptr<deliverd::store::Store>> store =
      deliverd::OpenStore(config);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  absl::StatusOr<int64_t> id = (*store)->FindTenant(tenant);
  if (!id.ok()) return Fail(std::string(id.status().message()));
  absl::StatusOr<deliverd::store::TenantSendPolicy> policy =
      (*store)->GetSendPolicy(*id);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  if (!require.empty() || set_selectors || !half_life.empty() ||
      !threshold.empty() || !suppress_for.empty()) {
    if (!require.empty()) policy->require_domain_auth = require == "true";
    if (set_selectors) policy->dkim_selectors = selector_list;
    if (half_life_s >= 0) policy->soft_bounce_half_life_seconds = half_life_s;
    if (suppress_s >= 0) policy->soft_bounce_suppress_seconds = suppress_s;
    if (threshold_value >= 0) policy->soft_bounce_threshold = threshold_value;
    absl::Status saved = (*store)->SetSendPolicy(*id, *policy);
    if (!saved.ok()) return Fail(std::string(saved.message()));
  }
  std::cout << "tenant:               " << tenant << "\n"
            << "require domain auth:  "
            << (policy->require_domain_auth ? "true" : "false") << "\n"
            << "DKIM selectors:       "
            << (policy->dkim_selectors.empty()
                    ? std::string("-")
                    : absl::StrJoin(policy->dkim_selectors, ","))
            << "\n";
  // What the ingester uses: the tenant's value, else the policy default.
  deliverd::hygiene::SoftBouncePolicy defaults;
  auto show_seconds = [](int64_t s, std::chrono::seconds fallback) {
    return s > 0 ? absl::FormatDuration(absl::Seconds(s))
                 : absl::StrCat(absl::FormatDuration(absl::FromChrono(fallback)),
                                " (default)");
  };
  std::cout << "soft-bounce half-life: "
            << show_seconds(policy->soft_bounce_half_life_seconds,
                            defaults.half_life)
            << "\n"
            << "soft-bounce threshold: "
            << (policy->soft_bounce_threshold > 0
                    ? absl::StrCat(policy->soft_bounce_threshold)
                    : absl::StrCat(defaults.threshold, " (default)"))
            << "\n"
            << "soft-bounce suppress:  "
            << show_seconds(policy->soft_bounce_suppress_seconds,
                            defaults.suppress_for)
            << "\n";
  return 0;
}

int Migrate(std::vector<std::string> args) {
  deliverd::Config config;
  absl::StatusOr<std::vector<std::string>> rest =
      deliverd::ParseConfig(args, &config);
  if (!rest.ok()) return Fail(std::string(rest.status().message()), 2);
  if (!rest->empty()) {
    return Fail(absl::StrCat("migrate: unexpected argument ", rest->front()),
                2);
  }
  if (config.SharedStore()) {
    // Only the schema: no writer, no poller, nothing else started.
    absl::StatusOr<deliverd::store::MysqlConfig> mysql =
        config.MysqlStoreConfig();
    if (!mysql.ok()) return Fail(std::string(mysql.status().message()), 2);
    absl::StatusOr<int> version = deliverd::store::MysqlStore::Migrate(*mysql);
    if (!version.ok()) return Fail(std::string(version.status().message()));
    std::cout << "schema is up to date (version " << *version << ")\n";
    return 0;
  }
  absl::StatusOr<std::unique_ptr<deliverd::store::Store>> store =
      deliverd::OpenStore(config);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  std::cout << "schema is up to date\n";
  return 0;
}

int Serve(std::vector<std::string> args) {
  deliverd::Config config;
  absl::StatusOr<std::vector<std::string>> rest =
      deliverd::ParseConfig(args, &config);
  if (!rest.ok()) return Fail(std::string(rest.status().message()), 2);
  if (!rest->empty()) {
    return Fail(absl::StrCat("unexpected argument ", rest->front(),
                             " (see deliverd --help)"),
                2);
  }
  // Signals are taken synchronously by this thread only; every thread the
  // server starts inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  deliverd::Server server(config);
  if (absl::Status s = server.Start(); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  std::cout << "deliverd listening on " << host << ":" << server.port()
            << " (store sqlite:" << config.StorePath()
            << ", transport " << deliverd::DescribeTransport(config) << ")\n"
            << "Try: deliverctl --server " << host << ":" << server.port()
            << " send --from a@example.com --to b@example.org --subject Hi "
               "--text Hello\n"
            << std::flush;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cout << "deliverd: received "
            << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down\n"
            << std::flush;
  server.Shutdown();
  std::cout << "deliverd: stopped\n" << std::flush;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's locks are absl::Mutex; cycle detection costs a graph update on
  // every acquisition and finds nothing in a release build.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h" || arg == "help") {
      std::cout << deliverd::ConfigUsage();
      return 0;
    }
  }
  if (!args.empty() && args[0] == "serve") {
    args.erase(args.begin());
  } else if (args.size() >= 2 && args[0] == "keys" && args[1] == "create") {
    return CreateKey({args.begin() + 2, args.end()});
  } else if (!args.empty() && args[0] == "keys") {
    return Fail("keys: the only subcommand is \"keys create --tenant NAME\"", 2);
  } else if (args.size() >= 2 && args[0] == "tenants" &&
             args[1] == "policy") {
    return TenantPolicy({args.begin() + 2, args.end()});
  } else if (!args.empty() && args[0] == "tenants") {
    return Fail(
        "tenants: the only subcommand is \"tenants policy --tenant NAME\"", 2);
  } else if (!args.empty() && args[0] == "migrate") {
    return Migrate({args.begin() + 1, args.end()});
  }
  return Serve(args);
}
