#include "server/api/hygiene_service.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "auth_checks/spf/spf_evaluator.h"
#include "auth_checks/spf/spf_inputs.h"
#include "server/api/convert.h"

namespace deliverd::api {
namespace {

v1::SpfResult ToProto(auth_checks::spf::SpfResult result) {
  using auth_checks::spf::SpfResult;
  switch (result) {
    case SpfResult::kNone: return v1::SPF_RESULT_NONE;
    case SpfResult::kNeutral: return v1::SPF_RESULT_NEUTRAL;
    case SpfResult::kPass: return v1::SPF_RESULT_PASS;
    case SpfResult::kFail: return v1::SPF_RESULT_FAIL;
    case SpfResult::kSoftFail: return v1::SPF_RESULT_SOFTFAIL;
    case SpfResult::kTempError: return v1::SPF_RESULT_TEMPERROR;
    case SpfResult::kPermError: return v1::SPF_RESULT_PERMERROR;
  }
  return v1::SPF_RESULT_UNSPECIFIED;
}

}  // namespace

HygieneService::~HygieneService() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return running_ == 0; });
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ >= kMaxConcurrentChecks) {
      reactor->Finish(ToGrpc(absl::ResourceExhaustedError(absl::StrCat(
          "more than ", kMaxConcurrentChecks,
          " SPF checks are running; retry shortly"))));
      return reactor;
    }
    ++running_;
  }
  std::thread([this, reactor, request, response] {
    auth_checks::spf::SpfEvaluator evaluator(*resolver_);
    auth_checks::spf::SpfCheckResult result = evaluator.CheckMailFrom(
        request->ip(), request->mail_from(), request->helo());
    response->set_result(ToProto(result.result));
    // The explanation a receiver would give on fail; otherwise why the
    // result is what it is (the cause of a none, temperror or permerror).
    response->set_explanation(result.explanation.empty() ? result.problem
                                                         : result.explanation);
    response->set_matched_term(result.matched_term);
    response->set_dns_lookups(result.dns_lookups);
    response->set_void_lookups(result.void_lookups);
    reactor->Finish(grpc::Status::OK);
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0) idle_.notify_all();
  }).detach();
  return reactor;
}

}  // namespace deliverd::api
