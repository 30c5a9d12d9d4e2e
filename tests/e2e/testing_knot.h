// A real authoritative DNS server for tests: knotd (Debian's knot package)
// on 127.0.0.1 and a free UDP/TCP port, serving zone files the test writes.
//
// Start() writes knot.conf and the zones into a fresh temporary folder,
// starts knotd (killed with the test process if that dies first) and waits,
// with a bounded wait, until it answers a query. A zone listed in
// `unloadable` is configured without a file, so knot answers SERVFAIL for
// it: the temperror case of SPF. A port taken by another process between
// its choice and knotd's bind (tests run side by side) makes Start choose
// another and try again, up to 5 times.
#ifndef DELIVERD_TESTS_E2E_TESTING_KNOT_H_
#define DELIVERD_TESTS_E2E_TESTING_KNOT_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deliverd::e2e {

class Knot {
 public:
  // `zones` maps an origin ("spf.test") to its zone file text.
  static absl::StatusOr<std::unique_ptr<Knot>> Start(
      const std::map<std::string, std::string>& zones,
      const std::vector<std::string>& unloadable = {});
  ~Knot();

  int port() const { return port_; }
  // "127.0.0.1:PORT", as --dns takes it.
  std::string address() const;

 private:
  // Chooses a port, writes knot.conf and starts knotd; waits until it
  // answers. UNAVAILABLE with knotd's log when it exits.
  absl::Status Launch(const std::map<std::string, std::string>& zones,
                      const std::vector<std::string>& unloadable);

  Knot() = default;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace deliverd::e2e

#endif  // DELIVERD_TESTS_E2E_TESTING_KNOT_H_
