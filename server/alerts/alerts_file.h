// deliverd's --alerts-file: alert channels and rules declared in a file
// (JSON, the deliverd.v1.AlertsFile message; see alerts.proto), so that a
// deployment can keep its alerting in version control next to its config.
//
// LoadAlertsFile reads and validates the whole file (every channel and rule
// as the API would); ApplyAlertsFile checks first that every rule names
// channels declared in the file or already stored, then makes the store
// match it:
//   - each declared channel is created, or updated when its settings
//     differ from the stored ones;
//   - each declared rule gets an id derived from its tenant and settings
//     ("r_cfg" + 24 hex digits of a SHA-256), so applying the same file
//     again (or from several replicas) creates nothing new;
//   - stored "r_cfg" rules of a tenant in the file that the file no longer
//     declares are deleted. Channels are never deleted (the API may have
//     rules on them).
// Nothing that the API created is changed unless the file declares a
// channel with the same name (the file wins).
//
// The file holds webhook secrets and SMS tokens: it must not be readable
// by other users (FAILED_PRECONDITION otherwise). Errors are
// INVALID_ARGUMENT naming the file and the entry, e.g.
// "alerts-file /etc/deliverd/alerts.json: tenants[0].rules[2].channels[0]:
// ...". Not thread-safe with respect to concurrent API changes of the same
// channels (run it at start).
#ifndef DELIVERD_SERVER_ALERTS_ALERTS_FILE_H_
#define DELIVERD_SERVER_ALERTS_ALERTS_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/alerts/alert_config.h"
#include "server/store/store.h"

namespace deliverd::alerts {

struct DeclaredAlerts {
  struct Tenant {
    std::string name;
    std::vector<ChannelConfig> channels;  // tenant_id 0 until applied
    std::vector<RuleConfig> rules;        // ids derived, see above
  };
  // The file's path (for errors).
  std::string file;
  std::vector<Tenant> tenants;
};

// Parses and validates `json` (the file's text); `file` names it in errors.
absl::StatusOr<DeclaredAlerts> ParseAlertsFile(absl::string_view file,
                                               absl::string_view json);

// Reads the file (permissions checked) and parses it.
absl::StatusOr<DeclaredAlerts> LoadAlertsFile(const std::string& path);

struct AlertsFileChanges {
  int channels_created = 0;
  int channels_updated = 0;
  int rules_created = 0;
  int rules_deleted = 0;
};

absl::StatusOr<AlertsFileChanges> ApplyAlertsFile(store::Store& store,
                                                  const DeclaredAlerts& alerts,
                                                  absl::Time now);

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_ALERTS_FILE_H_
