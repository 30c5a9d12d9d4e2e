// deliverctl: the command line of deliverd. Everything but the process
// plumbing lives in deliverctl_lib (see commands.h) so tests can run it.

#include <iostream>
#include <string>
#include <vector>

#include "client/commands.h"
#include "client/settings.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int status = deliverd::client::RunDeliverctl(
      args, deliverd::client::Environment::Real(), std::cin, std::cout,
      std::cerr);
  std::cout.flush();
  return status;
}
