// NewMessageId's random bits (form and order: convert_test.cc).
#include "server/api/message_ids.h"

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace deliverd::api {
namespace {

// The random part: the last 16 of the 26 digits (80 bits).
std::string RandomPart(const std::string& id) { return id.substr(12); }

// More ids than one thread's block of random bytes holds, from several
// threads: all different.
TEST(MessageIds, UniqueAcrossThreadsAndBlocks) {
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  absl::Time t = absl::FromUnixMillis(1800000000000);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kEach; ++k) made[i].push_back(NewMessageId(t));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& ids : made) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
}

// A child process must not hand out the random bits its parent drew.
TEST(MessageIds, ForkedChildDoesNotRepeatTheParent) {
  absl::Time t = absl::FromUnixMillis(1800000000000);
  NewMessageId(t);  // the parent holds drawn, unused random bytes now
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string id = NewMessageId(t);
    ssize_t n = write(fds[1], id.data(), id.size());
    _exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string parent = NewMessageId(t);
  char buffer[64] = {};
  ssize_t n = read(fds[0], buffer, sizeof(buffer));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(n, 28);
  EXPECT_NE(RandomPart(std::string(buffer, n)), RandomPart(parent));
}

}  // namespace
}  // namespace deliverd::api
