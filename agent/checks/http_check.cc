#include "agent/checks/http_check.h"

namespace steadfast::agent {

std::vector<protocol::CheckResult> HttpCheck::Run(const CheckContext& ctx) {
  protocol::CheckResult r = NewResult(ctx, probe_.options().url);
  HttpProbeOutcome out = probe_.Probe(ctx);
  r.status = out.status;
  r.summary = SanitizeUtf8(out.summary);
  r.metrics = std::move(out.metrics);
  r.details_json = std::move(out.details_json);
  r.duration_ms = static_cast<int64_t>(out.total_seconds * 1000.0);
  return {r};
}

StatusOr<std::unique_ptr<Check>> NewHttpCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), HttpProbeKeys().begin(), HttpProbeKeys().end());
  SF_RETURN_IF_ERROR(spec.node.CheckNoUnknownKeys(known));
  SF_ASSIGN_OR_RETURN(HttpProbeOptions o, ReadHttpProbeOptions(spec.node, spec.timeout_ms));
  return std::unique_ptr<Check>(std::make_unique<HttpCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
