// Wires deliverd together: store, transport, dispatcher, authentication,
// the gRPC services (with health and reflection), and the order in which
// they start and stop.
//
// Shutdown order: stop WatchEvents streams, stop accepting calls and let
// in-flight calls finish (up to the grace period), let in-flight delivery
// attempts finish and record their outcome, interrupt running cleaning jobs
// (recorded FAILED, due again at once), stop the alert engine (alerts not
// yet delivered are recorded as dropped), then close the store (which
// commits every write already acknowledged).
#ifndef DELIVERD_SERVER_SERVER_H_
#define DELIVERD_SERVER_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "server/config.h"

namespace deliverd {

namespace auth_checks::dns {
class Resolver;
}
namespace store {
class Store;
}
namespace delivery {
class Transport;
class Dispatcher;
}
namespace feedback {
class FeedbackIngester;
class MaildirIntake;
struct ListUnsubscribeConfig;
}
namespace jobs {
class JobRunner;
}
namespace alerts {
class AlertEngine;
class AlertingStore;
class CurlHttpClient;
class EmailAlertDelivery;
}
namespace api {
class Authenticator;
class SendGate;
class EventHub;
struct ServiceContext;
class MessagesService;
class SubscriptionsService;
}

// Opens the store a config names (creating folders, applying migrations).
absl::StatusOr<std::unique_ptr<store::Store>> OpenStore(const Config& config);

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Opens everything and starts serving. Prints the first API key when the
  // store has none.
  absl::Status Start();
  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  void Shutdown();

 private:
  absl::Status EnsureFirstApiKey();

  Config config_;
  int port_ = 0;
  std::string lease_owner_;
  int lock_fd_ = -1;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<delivery::Transport> transport_;
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  std::unique_ptr<api::Authenticator> auth_;
  std::unique_ptr<api::EventHub> hub_;
  std::unique_ptr<feedback::FeedbackIngester> ingester_;
  std::unique_ptr<feedback::MaildirIntake> maildir_intake_;
  std::unique_ptr<feedback::ListUnsubscribeConfig> list_unsubscribe_;
  std::unique_ptr<api::ServiceContext> context_;
  std::unique_ptr<api::MessagesService> messages_;
  std::unique_ptr<api::SubscriptionsService> subscriptions_;
  std::unique_ptr<auth_checks::dns::Resolver> dns_;
  // dns_ behind a TTL-respecting cache; what the services use.
  std::unique_ptr<auth_checks::dns::Resolver> resolver_;
  std::unique_ptr<grpc::Service> hygiene_;
  // Alerts: the engine watches the outcomes the dispatcher and the feedback
  // ingester record through alerting_store_ (store_ decorated).
  std::unique_ptr<delivery::Transport> alert_transport_;  // null: transport_
  std::unique_ptr<alerts::CurlHttpClient> alert_http_;
  std::unique_ptr<alerts::EmailAlertDelivery> alert_email_;
  std::unique_ptr<alerts::AlertEngine> alert_engine_;
  std::unique_ptr<alerts::AlertingStore> alerting_store_;
  std::unique_ptr<grpc::Service> alerts_service_;
  std::unique_ptr<api::SendGate> send_gate_;
  std::unique_ptr<jobs::JobRunner> job_runner_;
  std::unique_ptr<grpc::Server> grpc_server_;
  bool stopped_ = false;
};

}  // namespace deliverd

#endif  // DELIVERD_SERVER_SERVER_H_
