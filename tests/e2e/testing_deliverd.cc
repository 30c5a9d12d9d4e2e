#include "testing_deliverd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

extern char** environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace deliverd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// The poll interval for conditions nothing notifies us about (a file
// appearing, a status changing): short, and always under a deadline.
constexpr Millis kPollInterval(10);

std::atomic<int> g_counter{0};

std::string TempRoot() {
  const char* root = getenv("TEST_TMPDIR");
  if (root != nullptr && *root != '\0') return root;
  return "/tmp";
}

int OpenPidfd(pid_t pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -1 : static_cast<int>(fd);
}

// A child with stdin/stdout/stderr redirected to files. Everything the
// child needs is prepared before fork(): between fork and exec only
// async-signal-safe calls are made (the parent has gRPC threads).
struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;
};

absl::StatusOr<Spawned> Spawn(const std::vector<std::string>& argv,
                              const std::vector<std::string>* env,
                              const std::string& cwd,
                              const std::string& stdin_path,
                              const std::string& stdout_path,
                              const std::string& stderr_path) {
  int in = open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(),
                O_RDONLY | O_CLOEXEC);
  int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0644);
  int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0644);
  if (in < 0 || out < 0 || err < 0) {
    int saved = errno;
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    return absl::InternalError(
        absl::StrCat("cannot open redirection files: ", strerror(saved)));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (env != nullptr) {
    for (const std::string& e : *env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  char* const* child_env = env != nullptr ? envp.data() : environ;
  const char* dir = cwd.empty() ? nullptr : cwd.c_str();

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(in);
    close(out);
    close(err);
    return absl::InternalError(absl::StrCat("fork: ", strerror(saved)));
  }
  if (pid == 0) {
    // Child. If the test binary dies (a crash, a harness timeout), take the
    // server down with it rather than leave it running. (The signal follows
    // the forking thread: children are spawned from the thread that then
    // waits for them or owns them, the test's main thread.)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    // A fresh default signal mask and dispositions for the program.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
    if (dir != nullptr && chdir(dir) != 0) _exit(126);
    close_range(3, ~0U, 0);
    execve(args[0], args.data(), child_env);
    static const char kMessage[] = "testing_deliverd: execve failed\n";
    ssize_t ignored = write(2, kMessage, sizeof(kMessage) - 1);
    (void)ignored;
    _exit(127);
  }
  close(in);
  close(out);
  close(err);
  return Spawned{pid, OpenPidfd(pid)};
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// Waits for the completion of `tag` on `cq`. Every raw call has a deadline
// on its context, so each operation completes (at the latest when the
// deadline cancels the call).
bool Await(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  while (cq.Next(&got, &ok)) {
    if (got == tag) return ok;
  }
  return false;
}

void Drain(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

std::chrono::system_clock::time_point DeadlineIn(Millis timeout) {
  return std::chrono::system_clock::now() + timeout;
}

}  // namespace

std::string DeliverdBinary() {
  return std::string(DELIVERD_BINARY_DIR) + "/server/deliverd";
}

std::string DeliverctlBinary() {
  return std::string(DELIVERD_BINARY_DIR) + "/client/deliverctl";
}

std::ostream& operator<<(std::ostream& os, const ProcessResult& r) {
  os << "{exit_code=" << r.exit_code;
  if (r.term_signal != 0) os << " signal=" << r.term_signal;
  if (r.timed_out) os << " TIMED OUT";
  os << "\n--- stdout ---\n" << r.out << "\n--- stderr ---\n" << r.err << "}";
  return os;
}

std::string Describe(const ProcessResult& r) {
  std::ostringstream os;
  os << r;
  return os.str();
}

std::optional<int> WaitForExit(pid_t pid, int pidfd, Millis timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return std::nullopt;
    Clock::time_point now = Clock::now();
    if (now >= deadline) return std::nullopt;
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<Millis>(deadline - now).count()) + 1;
    if (pidfd >= 0) {
      // Readable once the process has ended.
      struct pollfd p = {pidfd, POLLIN, 0};
      poll(&p, 1, wait_ms);
    } else {
      std::this_thread::sleep_for(std::min(Millis(wait_ms), Millis(5)));
    }
  }
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         const std::string& cwd, const std::string& scratch_dir,
                         const std::string& stdin_data, Millis timeout) {
  ProcessResult result;
  std::string base = absl::StrCat(scratch_dir, "/run.", getpid(), ".",
                                  g_counter.fetch_add(1));
  std::string in_path;
  if (!stdin_data.empty()) {
    in_path = base + ".in";
    std::ofstream(in_path, std::ios::binary) << stdin_data;
  }
  std::vector<std::string> env_list;
  for (const auto& [name, value] : env) env_list.push_back(name + "=" + value);
  absl::StatusOr<Spawned> child = Spawn(argv, &env_list, cwd, in_path,
                                        base + ".out", base + ".err");
  if (!child.ok()) {
    result.err = std::string(child.status().message());
    return result;
  }
  std::optional<int> status = WaitForExit(child->pid, child->pidfd, timeout);
  if (!status.has_value()) {
    result.timed_out = true;
    kill(child->pid, SIGKILL);
    status = WaitForExit(child->pid, child->pidfd, Seconds(10));
  }
  if (child->pidfd >= 0) close(child->pidfd);
  if (status.has_value()) {
    if (WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    if (WIFSIGNALED(*status)) result.term_signal = WTERMSIG(*status);
  }
  result.out = ReadFile(base + ".out").value_or("");
  result.err = ReadFile(base + ".err").value_or("");
  unlink((base + ".out").c_str());
  unlink((base + ".err").c_str());
  if (!in_path.empty()) unlink(in_path.c_str());
  return result;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// ---------------------------------------------------------------------------
// Client

Client::Client(std::shared_ptr<grpc::Channel> channel, std::string api_key)
    : channel_(std::move(channel)),
      api_key_(std::move(api_key)),
      messages_(v1::Messages::NewStub(channel_)),
      subscriptions_(v1::Subscriptions::NewStub(channel_)),
      hygiene_(v1::Hygiene::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Client::Context(Millis timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(DeadlineIn(timeout));
  if (!api_key_.empty()) {
    context->AddMetadata("authorization", "Bearer " + api_key_);
  }
  return context;
}

absl::StatusOr<v1::Message> Client::Send(const v1::SendRequest& request) {
  absl::StatusOr<v1::SendResponse> response =
      Call(*messages_, &v1::Messages::Stub::Send, request);
  if (!response.ok()) return response.status();
  return response->message();
}

absl::StatusOr<v1::SendBatchResponse> Client::SendBatch(
    const v1::SendBatchRequest& request) {
  return Call(*messages_, &v1::Messages::Stub::SendBatch, request,
              Seconds(60));
}

absl::StatusOr<v1::Message> Client::GetMessage(const std::string& name_or_id) {
  v1::GetMessageRequest request;
  request.set_name(name_or_id);
  return Call(*messages_, &v1::Messages::Stub::GetMessage, request);
}

absl::StatusOr<v1::ListMessagesResponse> Client::ListMessages(
    const v1::ListMessagesRequest& request) {
  return Call(*messages_, &v1::Messages::Stub::ListMessages, request);
}

absl::StatusOr<std::vector<v1::Message>> Client::ListAllMessages(
    v1::ListMessagesRequest request, int max_pages) {
  std::vector<v1::Message> all;
  for (int page = 0; page < max_pages; ++page) {
    absl::StatusOr<v1::ListMessagesResponse> response = ListMessages(request);
    if (!response.ok()) return response.status();
    for (const v1::Message& m : response->messages()) all.push_back(m);
    if (response->next_page_token().empty()) return all;
    request.set_page_token(response->next_page_token());
  }
  return absl::DeadlineExceededError(
      absl::StrCat("ListMessages: still more pages after ", max_pages));
}

absl::StatusOr<v1::ResendResponse> Client::Resend(
    const v1::ResendRequest& request) {
  return Call(*messages_, &v1::Messages::Stub::Resend, request);
}

absl::StatusOr<v1::Suppression> Client::AddSuppression(
    const v1::AddSuppressionRequest& request) {
  return Call(*subscriptions_, &v1::Subscriptions::Stub::AddSuppression,
              request);
}

absl::StatusOr<v1::Suppression> Client::RemoveSuppression(
    const v1::RemoveSuppressionRequest& request) {
  return Call(*subscriptions_, &v1::Subscriptions::Stub::RemoveSuppression,
              request);
}

absl::StatusOr<v1::CheckSuppressionResponse> Client::CheckSuppression(
    const v1::CheckSuppressionRequest& request) {
  return Call(*subscriptions_, &v1::Subscriptions::Stub::CheckSuppression,
              request);
}

absl::StatusOr<v1::ListSuppressionsResponse> Client::ListSuppressions(
    const v1::ListSuppressionsRequest& request) {
  return Call(*subscriptions_, &v1::Subscriptions::Stub::ListSuppressions,
              request);
}

absl::StatusOr<v1::Message> Client::WaitUntilSettled(const std::string& id,
                                                     Millis timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  v1::MessageStatus last = v1::MESSAGE_STATUS_UNSPECIFIED;
  while (true) {
    absl::StatusOr<v1::Message> m = GetMessage(id);
    if (!m.ok()) return m.status();
    last = m->status();
    if (last != v1::MESSAGE_STATUS_QUEUED &&
        last != v1::MESSAGE_STATUS_UNSPECIFIED) {
      return m;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat(id, " still ", StatusName(last), " after ",
                   std::chrono::duration_cast<Millis>(timeout).count(), " ms"));
}

absl::StatusOr<v1::Message> Client::WaitUntilStatus(const std::string& id,
                                                    v1::MessageStatus want,
                                                    Millis timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  v1::MessageStatus last = v1::MESSAGE_STATUS_UNSPECIFIED;
  while (true) {
    absl::StatusOr<v1::Message> m = GetMessage(id);
    if (!m.ok()) return m.status();
    last = m->status();
    if (last == want) return m;
    if (last != v1::MESSAGE_STATUS_QUEUED &&
        last != v1::MESSAGE_STATUS_WAITING &&
        last != v1::MESSAGE_STATUS_UNSPECIFIED) {
      return absl::FailedPreconditionError(
          absl::StrCat(id, " ended ", StatusName(last), ", expected ",
                       StatusName(want), "; message: ", m->DebugString()));
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat(id, " still ", StatusName(last), " after ",
                   std::chrono::duration_cast<Millis>(timeout).count(),
                   " ms, expected ", StatusName(want)));
}

absl::StatusOr<v1::Message> Client::WaitForStatus(const std::string& id,
                                                  v1::MessageStatus want,
                                                  Millis timeout) {
  absl::StatusOr<v1::Message> m = WaitUntilSettled(id, timeout);
  if (!m.ok()) return m;
  if (m->status() != want) {
    return absl::FailedPreconditionError(
        absl::StrCat(id, " settled as ", StatusName(m->status()),
                     ", expected ", StatusName(want), "; message: ",
                     m->DebugString()));
  }
  return m;
}

absl::StatusOr<std::vector<v1::Event>> Client::Watch(
    const v1::WatchEventsRequest& request,
    const std::function<bool(const std::vector<v1::Event>&)>& done,
    Millis timeout) {
  std::unique_ptr<grpc::ClientContext> context = Context(timeout);
  std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> reader =
      messages_->WatchEvents(context.get(), request);
  std::vector<v1::Event> events;
  v1::WatchEventsResponse response;
  while (reader->Read(&response)) {
    events.push_back(response.event());
    if (done(events)) {
      context->TryCancel();
      reader->Finish();
      return events;
    }
  }
  grpc::Status s = reader->Finish();
  std::string summary = absl::StrCat(" (after ", events.size(), " events:");
  for (const v1::Event& e : events) {
    absl::StrAppend(&summary, " ", e.cursor(), "/", e.message(), "/",
                    EventTypeName(e.type()));
  }
  absl::StrAppend(&summary, ")");
  if (s.ok()) {
    return absl::InternalError(
        absl::StrCat("WatchEvents ended without error", summary));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(s.error_message(), summary));
}

// ---------------------------------------------------------------------------
// Deliverd

Deliverd::Deliverd(std::string dir, std::vector<std::string> extra_flags)
    : dir_(std::move(dir)), extra_flags_(std::move(extra_flags)) {}

absl::StatusOr<std::unique_ptr<Deliverd>> Deliverd::Start(
    std::vector<std::string> extra_flags) {
  return Create("", std::move(extra_flags));
}

absl::StatusOr<std::unique_ptr<Deliverd>> Deliverd::StartWithKey(
    std::string api_key, std::vector<std::string> extra_flags) {
  if (api_key.empty()) {
    return absl::InvalidArgumentError("StartWithKey: no key");
  }
  return Create(std::move(api_key), std::move(extra_flags));
}

absl::StatusOr<std::unique_ptr<Deliverd>> Deliverd::Create(
    std::string api_key, std::vector<std::string> extra_flags) {
  std::string pattern = TempRoot() + "/deliverd-e2e-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ",
                                            strerror(errno)));
  }
  std::unique_ptr<Deliverd> server(
      new Deliverd(buffer.data(), std::move(extra_flags)));
  server->given_api_key_ = std::move(api_key);
  if (mkdir((server->dir_ + "/ctl").c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat("mkdir: ", strerror(errno)));
  }
  if (absl::Status s = server->Launch(); !s.ok()) return s;
  return server;
}

Deliverd::~Deliverd() {
  if (running()) Kill();
  if (pidfd_ >= 0) close(pidfd_);
  if (getenv("DELIVERD_E2E_KEEP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

absl::Status Deliverd::Launch() {
  if (running()) return absl::FailedPreconditionError("already running");
  std::string port_file = dir_ + "/port";
  unlink(port_file.c_str());
  port_ = 0;
  ++runs_;
  std::vector<std::string> argv = {DeliverdBinary(),  "--listen",
                                   "127.0.0.1:0",     "--port-file",
                                   port_file,         "--data-dir",
                                   data_dir()};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  absl::StatusOr<Spawned> child =
      Spawn(argv, nullptr, dir_, "", absl::StrCat(dir_, "/deliverd.", runs_, ".out"),
            absl::StrCat(dir_, "/deliverd.", runs_, ".err"));
  if (!child.ok()) return child.status();
  pid_ = child->pid;
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = child->pidfd;

  // The port file appears (atomically, by rename) once the server accepts
  // calls. Poll for it with short waits, bounded; fail fast if the process
  // dies first.
  Clock::time_point deadline = Clock::now() + Seconds(20);
  while (true) {
    std::optional<std::string> text = ReadFile(port_file);
    int port = 0;
    if (text.has_value() &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port) && port > 0) {
      port_ = port;
      break;
    }
    std::optional<int> ended = WaitForExit(pid_, pidfd_, kPollInterval);
    if (ended.has_value()) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat(
          "deliverd ended before serving (", DescribeWaitStatus(*ended),
          "); stderr:\n", Stderr(), "\nstdout:\n", Stdout()));
    }
    if (Clock::now() >= deadline) {
      Kill();
      return absl::DeadlineExceededError(absl::StrCat(
          "deliverd wrote no port file within 20 s; stderr:\n", Stderr()));
    }
  }
  if (!given_api_key_.empty()) {
    api_key_ = given_api_key_;
    return absl::OkStatus();
  }
  std::optional<std::string> key = ReadFile(data_dir() + "/api-key");
  if (!key.has_value()) {
    Kill();
    return absl::InternalError("deliverd is serving but wrote no api-key file");
  }
  std::string first_line = key->substr(0, key->find('\n'));
  api_key_ = std::string(absl::StripAsciiWhitespace(first_line));
  return absl::OkStatus();
}

std::string Deliverd::OutboxFile(const std::string& id) const {
  return absl::StrCat(outbox_dir(), "/", id, ".eml");
}

std::string Deliverd::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::shared_ptr<grpc::Channel> Deliverd::NewChannel() const {
  grpc::ChannelArguments args;
  // Each channel its own connection: no accidental sharing across restarts.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(),
                                   args);
}

Client Deliverd::NewClient(const std::string& api_key) const {
  return Client(NewChannel(), api_key);
}

absl::StatusOr<std::string> Deliverd::CreateKey(const std::string& tenant) const {
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}};
  ProcessResult r = RunProcess({DeliverdBinary(), "keys", "create", "--tenant",
                                tenant, "--data-dir", data_dir()},
                               env, dir_ + "/ctl", dir_, "", Seconds(20));
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("deliverd keys create failed: ", Describe(r)));
  }
  std::string key(absl::StripAsciiWhitespace(r.out));
  if (key.rfind("dk_", 0) != 0 || key.find('\n') != std::string::npos) {
    return absl::InternalError(
        absl::StrCat("deliverd keys create printed no key: ", r.out));
  }
  return key;
}

ProcessResult Deliverd::Admin(const std::vector<std::string>& args) const {
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}};
  std::vector<std::string> argv = {DeliverdBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--data-dir");
  argv.push_back(data_dir());
  return RunProcess(argv, env, dir_ + "/ctl", dir_, "", Seconds(20));
}

absl::StatusOr<Client> Deliverd::NewTenantClient(const std::string& prefix) const {
  absl::StatusOr<std::string> key = CreateKey(UniqueName(prefix));
  if (!key.ok()) return key.status();
  return NewClient(*key);
}

ProcessResult Deliverd::Deliverctl(const std::vector<std::string>& args,
                                   const CtlOptions& options) const {
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"},
                                            {"HOME", dir_ + "/ctl"}};
  if (options.server_env) env["DELIVERD_SERVER"] = address();
  std::string key = options.api_key_env.value_or(api_key_);
  if (!key.empty()) env["DELIVERD_API_KEY"] = key;
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> argv = {DeliverctlBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env, dir_ + "/ctl", dir_, options.stdin_data,
                    options.timeout);
}

absl::StatusOr<int> Deliverd::Stop(Millis timeout) {
  if (!running()) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGTERM);
  std::optional<int> status = WaitForExit(pid_, pidfd_, timeout);
  if (!status.has_value()) {
    Kill();
    return absl::DeadlineExceededError(absl::StrCat(
        "deliverd did not exit within ",
        std::chrono::duration_cast<Millis>(timeout).count(),
        " ms of SIGTERM; killed"));
  }
  pid_ = -1;
  if (!WIFEXITED(*status)) {
    return absl::InternalError(
        absl::StrCat("deliverd ended by ", DescribeWaitStatus(*status)));
  }
  return WEXITSTATUS(*status);
}

void Deliverd::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  WaitForExit(pid_, pidfd_, Seconds(20));
  pid_ = -1;
}

absl::Status Deliverd::Restart() {
  if (running()) {
    return absl::FailedPreconditionError("Restart: stop or kill it first");
  }
  return Launch();
}

std::string Deliverd::Stdout() const {
  return ReadFile(absl::StrCat(dir_, "/deliverd.", runs_, ".out")).value_or("");
}

std::string Deliverd::Stderr() const {
  return ReadFile(absl::StrCat(dir_, "/deliverd.", runs_, ".err")).value_or("");
}

// ---------------------------------------------------------------------------
// Raw calls

RawResult RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& method, const std::string& request,
                       const std::multimap<std::string, std::string>& metadata,
                       Millis timeout) {
  RawResult result;
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(timeout));
  for (const auto& [name, value] : metadata) context.AddMetadata(name, value);
  grpc::ByteBuffer response;
  {
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
        stub.PrepareUnaryCall(&context, method, ToByteBuffer(request), &cq);
    call->StartCall();
    int tag = 0;
    call->Finish(&response, &result.status, &tag);
    Await(cq, &tag);
  }
  if (result.status.ok()) result.responses.push_back(FromByteBuffer(response));
  Drain(cq);
  return result;
}

RawResult RawBidiCall(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& method,
                      const std::vector<std::string>& requests,
                      const std::multimap<std::string, std::string>& metadata,
                      Millis timeout) {
  RawResult result;
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(timeout));
  for (const auto& [name, value] : metadata) context.AddMetadata(name, value);
  {
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
        stub.PrepareCall(&context, method, &cq);
    int start = 0, write = 0, done = 0, read = 0, finish = 0;
    call->StartCall(&start);
    bool ok = Await(cq, &start);
    for (size_t i = 0; ok && i < requests.size(); ++i) {
      call->Write(ToByteBuffer(requests[i]), &write);
      ok = Await(cq, &write);
    }
    if (ok) {
      call->WritesDone(&done);
      ok = Await(cq, &done);
    }
    while (ok) {
      grpc::ByteBuffer buffer;
      call->Read(&buffer, &read);
      if (!Await(cq, &read)) break;
      result.responses.push_back(FromByteBuffer(buffer));
    }
    call->Finish(&result.status, &finish);
    Await(cq, &finish);
  }
  Drain(cq);
  return result;
}

// ---------------------------------------------------------------------------
// Helpers

v1::SendRequest MakeSend(const std::string& from, const std::string& to,
                         const std::string& subject, const std::string& text) {
  v1::SendRequest request;
  v1::MessageContent* c = request.mutable_content();
  c->mutable_from()->set_address(from);
  c->add_to()->set_address(to);
  c->set_subject(subject);
  c->set_text_body(text);
  return request;
}

google::protobuf::Timestamp NowTimestamp() {
  // (TimeUtil::GetCurrentTime drops the fraction in this protobuf.)
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds.count());
  ts.set_nanos(static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds)
          .count()));
  return ts;
}

std::vector<v1::EventType> TypesOf(const std::vector<v1::Event>& events) {
  std::vector<v1::EventType> types;
  for (const v1::Event& e : events) types.push_back(e.type());
  return types;
}

std::vector<v1::EventType> TypesOf(const v1::Message& message) {
  return TypesOf(
      std::vector<v1::Event>(message.events().begin(), message.events().end()));
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string UniqueName(const std::string& prefix) {
  return absl::StrCat(prefix, "-", getpid(), "-", g_counter.fetch_add(1));
}

absl::Status LaunchRetryingTakenPorts(
    const std::function<absl::Status()>& launch) {
  for (int attempt = 1;; ++attempt) {
    absl::Status launched = launch();
    if (launched.ok() || attempt >= 5 ||
        !absl::StrContains(absl::AsciiStrToLower(launched.message()),
                           "already in use")) {
      return launched;
    }
  }
}

std::string StatusName(v1::MessageStatus status) {
  return v1::MessageStatus_Name(status);
}

std::string EventTypeName(v1::EventType type) {
  return v1::EventType_Name(type);
}

}  // namespace deliverd::e2e

namespace deliverd::v1 {

void PrintTo(MessageStatus status, std::ostream* os) {
  *os << MessageStatus_Name(status);
}

void PrintTo(EventType type, std::ostream* os) { *os << EventType_Name(type); }

}  // namespace deliverd::v1
