#include "server/server.h"

#include "server/feedback/ingester.h"
#include "server/feedback/maildir_intake.h"
#include "server/feedback/unsubscribe_token.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "server/api/api_keys.h"
#include "auth_checks/dns/cares_resolver.h"
#include "auth_checks/dns/caching_resolver.h"
#include "server/api/event_hub.h"
#include "server/api/hygiene_service.h"
#include "server/api/send_gate.h"
#include "server/api/messages_service.h"
#include "server/api/service_context.h"
#include "server/api/subscriptions_service.h"
#include "server/api/alerts_service.h"
#include "server/alerts/alert_engine.h"
#include "server/alerts/alerting_store.h"
#include "server/alerts/alerts_file.h"
#include "server/alerts/email_alert.h"
#include "server/alerts/http_client.h"
#include "server/delivery/dispatcher.h"
#include "server/jobs/job_runner.h"
#include "server/transport_setup.h"
#include "server/store/file_util.h"
#include "server/store/mysql_store.h"
#include "server/store/sqlite_store.h"

namespace deliverd {
namespace {

using store::MakeDirectories;
using store::ParentOf;

// Unique among replicas (possibly on several machines) and restarts: host,
// pid and random bits.
std::string LeaseOwnerName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  unsigned char random[6] = {};
  RAND_bytes(random, sizeof(random));
  return absl::StrCat("deliverd-", host, "-", getpid(), "-",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(random),
                          sizeof(random))));
}

}  // namespace

absl::StatusOr<std::unique_ptr<store::Store>> OpenStore(const Config& config) {
  if (config.SharedStore()) {
    absl::StatusOr<store::MysqlConfig> mysql = config.MysqlStoreConfig();
    if (!mysql.ok()) return mysql.status();
    store::MysqlStoreOptions options;
    options.connection = *std::move(mysql);
    absl::StatusOr<std::unique_ptr<store::MysqlStore>> store =
        store::MysqlStore::Open(std::move(options));
    if (!store.ok()) return store.status();
    return std::unique_ptr<store::Store>(std::move(*store));
  }
  std::string path = config.StorePath();
  if (absl::Status s = MakeDirectories(ParentOf(path), 0700); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<store::SqliteStore>> store =
      store::SqliteStore::Open(
          path, store::SqliteOptions{config.sqlite_sync == "full"});
  if (!store.ok()) return store.status();
  return std::unique_ptr<store::Store>(std::move(*store));
}

Server::Server(Config config) : config_(std::move(config)) {}

Server::~Server() { Shutdown(); }

absl::Status Server::EnsureFirstApiKey() {
  absl::StatusOr<int64_t> count = store_->CountApiKeys();
  if (!count.ok()) return count.status();
  if (*count > 0) return absl::OkStatus();
  absl::StatusOr<int64_t> tenant = store_->FindTenant("default");
  if (absl::IsNotFound(tenant.status())) tenant = store_->CreateTenant("default");
  if (!tenant.ok()) return tenant.status();
  absl::StatusOr<std::string> key =
      api::IssueApiKey(*store_, *tenant, "first key");
  if (!key.ok()) return key.status();
  std::string path = config_.ApiKeyFile();
  absl::Status saved = store::WritePrivateFile(path, absl::StrCat(*key, "\n"));
  std::cout << "Created the first API key (tenant \"default\"). It is shown "
               "only this once:\n  "
            << *key << "\n";
  if (saved.ok()) {
    std::cout << "It was also saved to " << path
              << " (readable only by you).\n";
  } else {
    std::cout << "Could not save it: " << saved.message() << "\n";
  }
  return absl::OkStatus();
}

absl::Status Server::Start() {
  if (!config_.SharedStore()) {
    // The embedded store belongs to one serving process: its leases are
    // released at start on that assumption, so a second server must not run.
    std::string lock_path = absl::StrCat(config_.StorePath(), ".lock");
    if (absl::Status s = MakeDirectories(ParentOf(lock_path), 0700); !s.ok()) {
      return s;
    }
    lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "another deliverd is serving ", config_.StorePath(), " (", lock_path,
          " is locked)"));
    }
  }
  absl::StatusOr<std::unique_ptr<store::Store>> store = OpenStore(config_);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  if (!config_.SharedStore()) {
    // Messages a killed predecessor had claimed are due again now, not when
    // its leases would have run out. On a shared store other replicas hold
    // live leases: a dead replica's leases simply expire.
    if (absl::Status s = store_->ReleaseAllLeases(); !s.ok()) return s;
  }
  lease_owner_ = LeaseOwnerName();
  if (absl::Status s = EnsureFirstApiKey(); !s.ok()) return s;
  if (!config_.alerts_file.empty()) {
    absl::StatusOr<alerts::DeclaredAlerts> declared =
        alerts::LoadAlertsFile(config_.alerts_file);
    if (!declared.ok()) return declared.status();
    absl::StatusOr<alerts::AlertsFileChanges> applied =
        alerts::ApplyAlertsFile(*store_, *declared, absl::Now());
    if (!applied.ok()) return applied.status();
    std::cout << "Alerts file " << config_.alerts_file << ": "
              << applied->channels_created << " channels created, "
              << applied->channels_updated << " updated, "
              << applied->rules_created << " rules created, "
              << applied->rules_deleted << " deleted.\n";
  }

  absl::StatusOr<std::unique_ptr<delivery::Transport>> transport =
      MakeTransport(config_);
  if (!transport.ok()) return transport.status();
  transport_ = std::move(*transport);

  auth_checks::dns::CaresOptions dns_options;
  dns_options.server = config_.dns;
  absl::StatusOr<std::unique_ptr<auth_checks::dns::CaresResolver>> resolver =
      auth_checks::dns::CaresResolver::Create(dns_options);
  absl::Status resolver_error;
  if (resolver.ok()) {
    dns_ = std::move(*resolver);
    resolver_ = std::make_unique<auth_checks::dns::CachingResolver>(dns_.get());
  } else {
    // Mail still flows without DNS; only the DNS checks answer UNAVAILABLE.
    resolver_error = resolver.status();
    std::cerr << "deliverd: DNS checks unavailable: " << resolver_error << "\n";
  }
  // Alerts. Their email takes its own relay when one is set, so an alert
  // about a failing relay does not depend on it.
  delivery::Transport* alert_mail = transport_.get();
  if (!config_.alert_smtp_relay.empty()) {
    Config alert_config = config_;
    alert_config.transport = "smtp";
    alert_config.smtp_relay = config_.alert_smtp_relay;
    alert_config.smtp_user = config_.alert_smtp_user;
    alert_config.smtp_password_file = config_.alert_smtp_password_file;
    alert_config.smtp_connections = 1;
    absl::StatusOr<std::unique_ptr<delivery::Transport>> alert_transport =
        MakeTransport(alert_config);
    if (!alert_transport.ok()) return alert_transport.status();
    alert_transport_ = std::move(*alert_transport);
    alert_mail = alert_transport_.get();
  }
  alerts::HttpClientOptions http_options;
  http_options.timeout = config_.alert_http_timeout;
  http_options.connect_timeout =
      std::min(config_.alert_http_timeout, absl::Seconds(5));
  alert_http_ = std::make_unique<alerts::CurlHttpClient>(http_options);
  alert_email_ = std::make_unique<alerts::EmailAlertDelivery>(
      alert_mail, alerts::RealClock(), alerts::RetryPolicy{});
  alerts::AlertEngineOptions alert_options;
  alert_options.email.from = config_.alert_from;
  alert_engine_ = std::make_unique<alerts::AlertEngine>(
      store_.get(), alerts::RealClock(), alert_http_.get(), alert_email_.get(),
      resolver_.get(), alert_options);
  alerting_store_ =
      std::make_unique<alerts::AlertingStore>(store_.get(), alert_engine_.get());

  delivery::DispatcherOptions options;
  options.owner = lease_owner_;
  options.lease = config_.delivery_lease;
  options.workers = config_.DispatcherWorkers();
  options.uncommitted_outcomes = config_.uncommitted_outcomes;
  options.return_path.verp = config_.verp;
  options.return_path.domain = config_.return_path_domain;
  options.retry.initial_delay = absl::ToChronoSeconds(config_.retry_initial);
  options.retry.multiplier = config_.retry_multiplier;
  options.retry.max_delay = absl::ToChronoSeconds(config_.retry_max_delay);
  options.retry.give_up_after = absl::ToChronoSeconds(config_.retry_give_up);
  options.domains.max_concurrent_per_domain = config_.domain_concurrency;
  options.domains.initial_backoff = config_.domain_backoff;
  options.domains.max_backoff = config_.domain_backoff_max;
  dispatcher_ = std::make_unique<delivery::Dispatcher>(
      alerting_store_.get(), transport_.get(), options);

  auth_ = std::make_unique<api::Authenticator>(store_.get());
  hub_ = std::make_unique<api::EventHub>();
  store_->SetEventListener([hub = hub_.get()] { hub->Notify(); });
  context_ = std::make_unique<api::ServiceContext>();
  context_->store = store_.get();
  context_->auth = auth_.get();
  context_->hub = hub_.get();
  context_->limits.max_recipients = config_.max_recipients;
  context_->limits.max_message_bytes = config_.max_message_bytes;
  context_->on_queued = [d = dispatcher_.get()] { d->Nudge(); };
  ingester_ = std::make_unique<feedback::FeedbackIngester>(
      alerting_store_.get(), hygiene::SoftBouncePolicy{});
  context_->ingester = ingester_.get();
  absl::StatusOr<std::string> secret =
      feedback::LoadOrCreateUnsubscribeSecret(config_.UnsubscribeSecretFile());
  if (!secret.ok()) return secret.status();
  list_unsubscribe_ = std::make_unique<feedback::ListUnsubscribeConfig>();
  list_unsubscribe_->secret = *std::move(secret);
  list_unsubscribe_->https_url = config_.unsubscribe_url;
  list_unsubscribe_->mailto_domain = config_.unsubscribe_domain;
  context_->list_unsubscribe = list_unsubscribe_.get();
  messages_ = std::make_unique<api::MessagesService>(context_.get());
  subscriptions_ = std::make_unique<api::SubscriptionsService>(context_.get());
  // Job paths are checked against the resolved root, so the jobs folder
  // itself may be reached through a symbolic link.
  std::string jobs_dir = config_.JobsDir();
  if (absl::Status s = MakeDirectories(jobs_dir, 0700); !s.ok()) return s;
  {
    char resolved[PATH_MAX];
    if (realpath(jobs_dir.c_str(), resolved) == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("jobs dir ", jobs_dir, ": ", strerror(errno)));
    }
    jobs_dir = resolved;
  }
  jobs::JobRunnerOptions job_options;
  job_options.owner = lease_owner_;
  if (config_.SharedStore()) {
    // Another replica may create a job or die holding one; look again at
    // least this often.
    job_options.max_idle = absl::Seconds(30);
  }
  job_options.jobs_dir = jobs_dir;
  job_runner_ = std::make_unique<jobs::JobRunner>(
      store_.get(), resolver_.get(), job_options);
  context_->job_runner = job_runner_.get();
  context_->jobs_dir = jobs_dir;
  hygiene_ = std::make_unique<api::HygieneService>(
      context_.get(), resolver_.get(), resolver_error);
  send_gate_ = std::make_unique<api::SendGate>(store_.get(), resolver_.get());
  context_->send_gate = send_gate_.get();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen, grpc::InsecureServerCredentials(),
                           &port_);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<int64_t>(config_.max_message_bytes * 1000 / 700
                                             + (4 << 20),
                                         INT32_MAX)));
  builder.RegisterService(messages_.get());
  builder.RegisterService(subscriptions_.get());
  builder.RegisterService(hygiene_.get());
  alerts_service_ = std::make_unique<api::AlertsService>(context_.get(),
                                                         alert_engine_.get());
  builder.RegisterService(alerts_service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config_.listen));
  }
  alert_engine_->Start();
  dispatcher_->Start();
  dispatcher_->Nudge();
  job_runner_->Start();
  if (!config_.feedback_maildir.empty()) {
    feedback::MaildirIntakeOptions intake;
    intake.dir = config_.feedback_maildir;
    intake.poll_interval = config_.feedback_maildir_poll;
    intake.list_unsubscribe = list_unsubscribe_.get();
    maildir_intake_ = std::make_unique<feedback::MaildirIntake>(
        alerting_store_.get(), ingester_.get(), intake);
    if (absl::Status s = maildir_intake_->Start(); !s.ok()) return s;
  }

  if (!config_.port_file.empty()) {
    std::string temp = absl::StrCat(config_.port_file, ".tmp");
    {
      std::ofstream out(temp);
      out << port_ << "\n";
    }
    if (rename(temp.c_str(), config_.port_file.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot write ", config_.port_file, ": ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

void Server::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  // Health checks report NOT_SERVING from here on, so a load balancer stops
  // sending new calls while the ones in flight finish.
  if (grpc_server_ && grpc_server_->GetHealthCheckService() != nullptr) {
    grpc_server_->GetHealthCheckService()->SetServingStatus(false);
  }
  if (hub_) hub_->Shutdown();
  if (grpc_server_) {
    auto deadline = std::chrono::system_clock::now() +
                    absl::ToChronoNanoseconds(config_.shutdown_grace);
    grpc_server_->Shutdown(deadline);
    grpc_server_->Wait();
  }
  if (dispatcher_) dispatcher_->Stop();
  if (job_runner_) job_runner_->Stop();
  maildir_intake_.reset();  // finishes the file it is reading
  // After everything that records outcomes has stopped; before the store.
  if (alert_engine_) alert_engine_->Stop();
  if (store_) store_->SetEventListener(nullptr);
  grpc_server_.reset();
  hygiene_.reset();  // waits for running DNS checks
  send_gate_.reset();  // likewise
  job_runner_.reset();  // uses the resolver and the store
  resolver_.reset();
  dns_.reset();
  hub_.reset();
  dispatcher_.reset();
  alerts_service_.reset();
  alerting_store_.reset();
  alert_engine_.reset();
  alert_email_.reset();
  alert_http_.reset();
  alert_transport_.reset();
  store_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
  lock_fd_ = -1;
}

}  // namespace deliverd
