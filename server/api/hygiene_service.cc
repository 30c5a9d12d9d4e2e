#include "server/api/hygiene_service.h"

#include <deque>
#include <thread>

#include "absl/strings/str_cat.h"
#include "auth_checks/spf/spf_evaluator.h"
#include "auth_checks/spf/spf_inputs.h"
#include "hygiene/offline_verdict.h"
#include "hygiene/cleaner.h"
#include "hygiene/verifier.h"
#include "server/api/convert.h"
#include "server/api/bounce_report_proto.h"
#include "server/api/domain_report_proto.h"
#include "hygiene/bounce/bounce_message.h"
#include "server/api/dkim_selectors.h"
#include "server/feedback/bounce_feedback.h"
#include "server/feedback/ingester.h"
#include "server/feedback/provider_events.h"
#include "server/store/sha256.h"
#include "auth_checks/domain_check.h"
#include "hygiene/domain_name.h"

namespace deliverd::api {
namespace {

v1::Verdict ToProto(hygiene::Verdict verdict) {
  switch (verdict) {
    case hygiene::Verdict::kDeliverable: return v1::VERDICT_DELIVERABLE;
    case hygiene::Verdict::kUndeliverable: return v1::VERDICT_UNDELIVERABLE;
    case hygiene::Verdict::kRisky: return v1::VERDICT_RISKY;
    case hygiene::Verdict::kUnknown: return v1::VERDICT_UNKNOWN;
  }
  return v1::VERDICT_UNSPECIFIED;
}

absl::Status Busy() {
  return absl::ResourceExhaustedError(absl::StrCat(
      "more than ", HygieneService::kMaxConcurrentChecks,
      " DNS checks are running; retry shortly"));
}

constexpr int kMaxVerify = 1000;
constexpr size_t kMaxAddressBytes = 4097;

void VerdictToProto(const hygiene::AddressVerdict& v, bool suppressed,
                    v1::AddressVerdict* out) {
  out->set_address(v.address);
  out->set_normalized(v.normalized);
  out->set_valid(v.valid);
  out->set_verdict(ToProto(v.verdict));
  out->set_reason(v.reason);
  out->set_suggestion(v.suggestion);
  out->set_role(v.role);
  out->set_disposable(v.disposable);
  out->set_smtputf8(v.smtputf8);
  out->set_suppressed(suppressed);
}

}  // namespace

bool HygieneService::RunOffThread(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ >= kMaxConcurrentChecks) return false;
    ++running_;
  }
  std::thread([this, work = std::move(work)] {
    work();
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0) idle_.notify_all();
  }).detach();
  return true;
}

HygieneService::~HygieneService() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return running_ == 0; });
}

grpc::ServerUnaryReactor* HygieneService::CheckDomain(
    grpc::CallbackServerContext* call, const v1::CheckDomainRequest* request,
    v1::DomainReport* response) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  absl::StatusOr<std::string> domain = hygiene::NormalizeDomain(request->domain());
  if (!domain.ok()) {
    reactor->Finish(ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("domain: ", domain.status().message()))));
    return reactor;
  }
  absl::StatusOr<std::vector<std::string>> selectors = ValidateDkimSelectors(
      {request->dkim_selectors().begin(), request->dkim_selectors().end()});
  if (!selectors.ok()) {
    reactor->Finish(ToGrpc(selectors.status()));
    return reactor;
  }
  if (resolver_ == nullptr) {
    reactor->Finish(ToGrpc(absl::UnavailableError(absl::StrCat(
        "no DNS resolver: ", resolver_error_.message()))));
    return reactor;
  }
  bool started = RunOffThread(
      [this, reactor, response, domain = *domain, selectors = *selectors] {
        auth_checks::DomainCheckOptions options;
        options.dkim_selectors = selectors;
        auth_checks::DomainReport report =
            auth_checks::CheckDomain(*resolver_, domain, options);
        *response = DomainReportToProto(report, absl::Now());
        reactor->Finish(grpc::Status::OK);
      });
  if (!started) reactor->Finish(ToGrpc(Busy()));
  return reactor;
}

grpc::ServerUnaryReactor* HygieneService::ClassifyBounce(
    grpc::CallbackServerContext* call,
    const v1::ClassifyBounceRequest* request,
    v1::ClassifyBounceResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (request->raw_message().empty()) {
    return FinishWith(call, absl::InvalidArgumentError(
                                "raw_message: the message is empty"));
  }
  absl::StatusOr<hygiene::bounce::BounceReport> report =
      hygiene::bounce::ParseBounce(request->raw_message());
  if (!report.ok()) {
    return FinishWith(call, absl::InvalidArgumentError(absl::StrCat(
                                "raw_message: ", report.status().message())));
  }
  *response = BounceReportToProto(*report);
  return FinishWith(call, absl::OkStatus());
}

grpc::ServerUnaryReactor* HygieneService::IngestFeedback(
    grpc::CallbackServerContext* call,
    const v1::IngestFeedbackRequest* request,
    v1::IngestFeedbackResponse* response) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  switch (request->feedback_case()) {
    case v1::IngestFeedbackRequest::kRawMessage:
      if (request->raw_message().empty()) {
        return FinishWith(call, absl::InvalidArgumentError(
                                    "raw_message: the message is empty"));
      }
      break;
    case v1::IngestFeedbackRequest::kProviderEvent:
      if (request->provider_event().provider().empty()) {
        return FinishWith(call, absl::InvalidArgumentError(
                                    "provider_event.provider: required (ses, "
                                    "mailgun, postmark or sendgrid)"));
      }
      if (request->provider_event().body().empty()) {
        return FinishWith(call, absl::InvalidArgumentError(
                                    "provider_event.body: the event is empty"));
      }
      break;
    default:
      return FinishWith(call, absl::InvalidArgumentError(
                                  "feedback: set raw_message or "
                                  "provider_event"));
  }
  if (ctx_->ingester == nullptr) {
    return FinishWith(call, absl::UnimplementedError(
                                "feedback ingestion is not configured"));
  }
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  int64_t tenant_id = caller->tenant_id;
  bool started = RunOffThread([this, reactor, request, response, tenant_id] {
    absl::Status status = Ingest(tenant_id, *request, response);
    reactor->Finish(ToGrpc(status));
  });
  if (!started) reactor->Finish(ToGrpc(Busy()));
  return reactor;
}

absl::Status HygieneService::Ingest(int64_t tenant_id,
                                    const v1::IngestFeedbackRequest& request,
                                    v1::IngestFeedbackResponse* response) {
  std::vector<feedback::FeedbackItem> items;
  feedback::FeedbackSource source;
  if (request.feedback_case() == v1::IngestFeedbackRequest::kRawMessage) {
    absl::StatusOr<feedback::RawFeedback> raw =
        feedback::ReadRawFeedback(request.raw_message(),
                                  ctx_->list_unsubscribe);
    if (!raw.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("raw_message: ", raw.status().message()));
    }
    *response->mutable_classification() = BounceReportToProto(raw->report);
    items = std::move(raw->items);
    source = std::move(raw->source);
  } else {
    const v1::ProviderEvent& event = request.provider_event();
    absl::StatusOr<std::vector<feedback::FeedbackItem>> parsed =
        feedback::ParseProviderEvent(event.provider(), event.body());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("provider_event: ", parsed.status().message()));
    }
    items = *std::move(parsed);
    source.trusted = true;
    source.digest = store::Sha256Hex(
        absl::StrCat(event.provider(), "\n", event.body()));
  }
  absl::StatusOr<feedback::IngestResult> result =
      ctx_->ingester->Ingest(tenant_id, items, source, absl::Now());
  if (!result.ok()) return result.status();
  for (const std::string& id : result->matched_messages) {
    response->add_matched_messages(absl::StrCat("messages/", id));
  }
  for (const std::string& address : result->suppressed) {
    response->add_suppressed(address);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    v1::IngestedFeedback* out = response->add_items();
    out->set_recipient(items[i].recipient);
    out->set_kind(std::string(feedback::FeedbackKindName(items[i].kind)));
    out->set_outcome(
        std::string(feedback::ItemOutcomeName(result->outcomes[i])));
    if (!result->message_ids[i].empty()) {
      out->set_message(absl::StrCat("messages/", result->message_ids[i]));
    }
    out->set_reason(std::string(hygiene::bounce::ReasonName(items[i].reason)));
    out->set_class_(BounceClassToProto(items[i].bounce_class));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* HygieneService::CheckSpf(
    grpc::CallbackServerContext* call, const v1::CheckSpfRequest* request,
    v1::CheckSpfResponse* response) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  absl::Status valid = auth_checks::spf::ValidateSpfInputs(
      request->ip(), request->mail_from(), request->helo());
  if (!valid.ok()) {
    reactor->Finish(ToGrpc(valid));
    return reactor;
  }
  if (resolver_ == nullptr) {
    reactor->Finish(ToGrpc(absl::UnavailableError(absl::StrCat(
        "no DNS resolver: ", resolver_error_.message()))));
    return reactor;
  }
  bool started = RunOffThread([this, reactor, request, response] {
    auth_checks::spf::SpfEvaluator evaluator(*resolver_);
    auth_checks::spf::SpfCheckResult result = evaluator.CheckMailFrom(
        request->ip(), request->mail_from(), request->helo());
    response->set_result(SpfResultToProto(result.result));
    // The explanation a receiver would give on fail; otherwise why the
    // result is what it is (the cause of a none, temperror or permerror).
    response->set_explanation(result.explanation.empty() ? result.problem
                                                         : result.explanation);
    response->set_matched_term(result.matched_term);
    response->set_dns_lookups(result.dns_lookups);
    response->set_void_lookups(result.void_lookups);
    reactor->Finish(grpc::Status::OK);
  });
  if (!started) reactor->Finish(ToGrpc(Busy()));
  return reactor;
}

grpc::ServerUnaryReactor* HygieneService::VerifyAddresses(
    grpc::CallbackServerContext* call,
    const v1::VerifyAddressesRequest* request,
    v1::VerifyAddressesResponse* response) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  if (request->addresses_size() == 0 || request->addresses_size() > kMaxVerify) {
    reactor->Finish(ToGrpc(absl::InvalidArgumentError(absl::StrCat(
        "addresses: between 1 and ", kMaxVerify, " addresses, got ",
        request->addresses_size()))));
    return reactor;
  }
  if (!request->offline() && resolver_ == nullptr) {
    reactor->Finish(ToGrpc(absl::UnavailableError(absl::StrCat(
        "no DNS resolver (use offline): ", resolver_error_.message()))));
    return reactor;
  }
  int64_t tenant_id = caller->tenant_id;
  auto work = [this, reactor, request, response, tenant_id] {
    std::vector<std::string> inputs(request->addresses().begin(),
                                    request->addresses().end());
    std::vector<hygiene::AddressVerdict> verdicts;
    if (request->offline()) {
      for (const std::string& input : inputs) {
        verdicts.push_back(hygiene::VerifyOffline(input));
      }
    } else {
      verdicts = hygiene::VerifyWithDns(*resolver_, inputs);
    }
    std::vector<std::string> normalized;
    for (const hygiene::AddressVerdict& v : verdicts) {
      normalized.push_back(v.valid ? v.normalized : std::string());
    }
    absl::StatusOr<std::vector<std::optional<store::Suppression>>> suppressed =
        ctx_->store->FindSuppressions(tenant_id, normalized, "", absl::Now());
    if (!suppressed.ok()) {
      reactor->Finish(ToGrpc(suppressed.status()));
      return;
    }
    for (size_t i = 0; i < verdicts.size(); ++i) {
      const hygiene::AddressVerdict& v = verdicts[i];
      VerdictToProto(v, v.valid && (*suppressed)[i].has_value(),
                     response->add_verdicts());
    }
    reactor->Finish(grpc::Status::OK);
  };
  if (request->offline()) {
    work();  // no I/O beyond one suppression read
  } else if (!RunOffThread(std::move(work))) {
    reactor->Finish(ToGrpc(Busy()));
  }
  return reactor;
}

// One CleanList call. A small state machine with at most one read or one
// write outstanding, so the callbacks never run concurrently with each
// other or with the chunk's work: read rows until a chunk is full or the
// client half-closes, clean the chunk (off the gRPC thread when DNS is
// used), write its results one by one, then read again. After the last
// chunk, the summary; then Finish. Deletes itself in OnDone.
class HygieneService::CleanListReactor final
    : public grpc::ServerBidiReactor<v1::CleanListRequest,
                                     v1::CleanListResponse> {
 public:
  CleanListReactor(HygieneService* service, absl::StatusOr<Caller> caller)
      : service_(service) {
    if (!caller.ok()) {
      Finish(ToGrpc(caller.status()));
      return;
    }
    tenant_id_ = caller->tenant_id;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // half-close (or cancellation): clean what is left
      input_done_ = true;
      if (cleaner_ == nullptr) {
        Finish(ToGrpc(absl::InvalidArgumentError(
            "options: the stream ended before the options message")));
        return;
      }
      ProcessChunk();
      return;
    }
    if (cleaner_ == nullptr) {
      if (request_.item_case() != v1::CleanListRequest::kOptions) {
        Finish(ToGrpc(absl::InvalidArgumentError(
            "options: the first message must carry options, not a row")));
        return;
      }
      absl::Status started = Start(request_.options());
      if (!started.ok()) {
        Finish(ToGrpc(started));
        return;
      }
      StartRead(&request_);
      return;
    }
    if (request_.item_case() != v1::CleanListRequest::kRow) {
      Finish(ToGrpc(absl::InvalidArgumentError(
          "options: sent twice; after the first message only rows may "
          "follow")));
      return;
    }
    hygiene::CleanInput input;
    input.row_number = request_.row().row_number();
    input.address = std::move(*request_.mutable_row()->mutable_address());
    // ParseAddress refuses anything over 4096 octets; keeping one more
    // still gets that verdict, and a chunk of hostile megabyte-long rows
    // cannot pin memory until it is answered.
    if (input.address.size() > kMaxAddressBytes) {
      input.address.resize(kMaxAddressBytes);
      input.address.shrink_to_fit();
    }
    chunk_.push_back(std::move(input));
    if (chunk_.size() >= static_cast<size_t>(kCleanChunkRows)) {
      ProcessChunk();
    } else {
      StartRead(&request_);
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "the client went away"));
      return;
    }
    WriteNext();
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Start(const v1::CleanListOptions& options) {
    if (!options.offline() && service_->resolver_ == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("no DNS resolver (use offline): ",
                       service_->resolver_error_.message()));
    }
    offline_ = options.offline();
    hygiene::CleanOptions clean;
    clean.remove_risky = options.remove_risky();
    clean.resolver = offline_ ? nullptr : service_->resolver_;
    store::Store* store = service_->ctx_->store;
    int64_t tenant_id = tenant_id_;
    std::string stream = options.stream();
    clean.suppressed = [store, tenant_id, stream](
                           const std::vector<std::string>& normalized)
        -> absl::StatusOr<std::vector<bool>> {
      absl::StatusOr<std::vector<std::optional<store::Suppression>>> found =
          store->FindSuppressions(tenant_id, normalized, stream, absl::Now());
      if (!found.ok()) return found.status();
      std::vector<bool> suppressed;
      suppressed.reserve(found->size());
      for (const auto& s : *found) suppressed.push_back(s.has_value());
      return suppressed;
    };
    cleaner_ = std::make_unique<hygiene::ListCleaner>(std::move(clean));
    return absl::OkStatus();
  }

  // Cleans chunk_ and starts writing its results (and, at the end of the
  // input, the summary).
  void ProcessChunk() {
    auto work = [this] {
      absl::StatusOr<std::vector<hygiene::CleanResult>> results =
          cleaner_->CleanChunk(chunk_);
      chunk_.clear();
      if (!results.ok()) {
        Finish(ToGrpc(results.status()));
        return;
      }
      for (hygiene::CleanResult& r : *results) {
        v1::CleanListResponse response;
        v1::CleanListRowResult* row = response.mutable_row();
        row->set_row_number(r.row_number);
        VerdictToProto(r.verdict,
                       r.removal == hygiene::RemovalReason::kSuppressed,
                       row->mutable_verdict());
        row->set_kept(r.kept);
        row->set_removal_reason(
            std::string(hygiene::RemovalReasonName(r.removal)));
        pending_.push_back(std::move(response));
      }
      if (input_done_) {
        const hygiene::CleanSummary& s = cleaner_->summary();
        v1::CleanListResponse response;
        v1::CleanListSummary* summary = response.mutable_summary();
        summary->set_rows(s.rows);
        summary->set_kept(s.kept);
        summary->set_removed(s.removed);
        summary->set_duplicates(s.duplicates);
        for (const auto& [reason, count] : s.removed_by_reason) {
          (*summary->mutable_removed_by_reason())[reason] = count;
        }
        for (const auto& [verdict, count] : s.by_verdict) {
          (*summary->mutable_by_verdict())[verdict] = count;
        }
        pending_.push_back(std::move(response));
      }
      WriteNext();
    };
    if (offline_ || chunk_.empty()) {
      work();  // pure CPU and one suppression read
    } else if (!service_->RunOffThread(std::move(work))) {
      Finish(ToGrpc(Busy()));
    }
  }

  // Writes the next pending response; when none is left, reads on (or
  // finishes after the summary).
  void WriteNext() {
    if (pending_.empty()) {
      if (input_done_) {
        Finish(grpc::Status::OK);
      } else {
        StartRead(&request_);
      }
      return;
    }
    current_ = std::move(pending_.front());
    pending_.pop_front();
    // Let gRPC coalesce a chunk's small messages into few frames; the last
    // one of the chunk goes out at once.
    grpc::WriteOptions options;
    if (!pending_.empty()) options.set_buffer_hint();
    StartWrite(&current_, options);
  }

  HygieneService* service_;
  int64_t tenant_id_ = 0;
  bool offline_ = true;
  bool input_done_ = false;
  std::unique_ptr<hygiene::ListCleaner> cleaner_;
  v1::CleanListRequest request_;
  std::vector<hygiene::CleanInput> chunk_;
  std::deque<v1::CleanListResponse> pending_;
  v1::CleanListResponse current_;
};

grpc::ServerBidiReactor<v1::CleanListRequest, v1::CleanListResponse>*
HygieneService::CleanList(grpc::CallbackServerContext* call) {
  return new CleanListReactor(this, ctx_->auth->Authenticate(*call));
}

}  // namespace deliverd::api
