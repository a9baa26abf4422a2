#include "common/protocol/protocol.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace steadfast::protocol {

using nlohmann::json;

std::string_view CheckStatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk: return "ok";
    case CheckStatus::kWarning: return "warning";
    case CheckStatus::kCritical: return "critical";
    case CheckStatus::kUnknown: return "unknown";
  }
  return "unknown";
}

StatusOr<CheckStatus> ParseCheckStatus(std::string_view name) {
  if (name == "ok") return CheckStatus::kOk;
  if (name == "warning") return CheckStatus::kWarning;
  if (name == "critical") return CheckStatus::kCritical;
  if (name == "unknown") return CheckStatus::kUnknown;
  return InvalidArgumentError("must be one of ok, warning, critical, unknown");
}

CheckStatus WorseStatus(CheckStatus a, CheckStatus b) {
  auto rank = [](CheckStatus s) {
    switch (s) {
      case CheckStatus::kOk: return 0;
      case CheckStatus::kUnknown: return 1;
      case CheckStatus::kWarning: return 2;
      case CheckStatus::kCritical: return 3;
    }
    return 1;
  };
  return rank(a) >= rank(b) ? a : b;
}

namespace {

// Decode errors carry the JSON path first: "results[3].status: must be ...".
Status FieldError(const std::string& path, const std::string& msg) {
  return InvalidArgumentError(path + ": " + msg);
}

std::string Join(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

// A small reader over one JSON object that remembers its path.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Status RequireObject() const {
    if (!j_.is_object()) return FieldError(path_.empty() ? "(body)" : path_, "expected a JSON object");
    return OkStatus();
  }
  std::string PathOf(const std::string& key) const { return Join(path_, key); }

  const json* Find(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  Status String(const std::string& key, bool required, std::string* out, size_t max = kMaxStringBytes) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? FieldError(PathOf(key), "required field is missing") : OkStatus();
    if (!v->is_string()) return FieldError(PathOf(key), "expected a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max) return FieldError(PathOf(key), "longer than " + std::to_string(max) + " bytes");
    *out = s;
    return OkStatus();
  }

  Status Int(const std::string& key, bool required, int64_t* out, int64_t min = 0) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? FieldError(PathOf(key), "required field is missing") : OkStatus();
    if (!v->is_number_integer()) return FieldError(PathOf(key), "expected an integer");
    int64_t x;
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return FieldError(PathOf(key), "integer out of range");
      x = static_cast<int64_t>(u);
    } else {
      x = v->get<int64_t>();
    }
    if (x < min) return FieldError(PathOf(key), "must be >= " + std::to_string(min));
    *out = x;
    return OkStatus();
  }

  Status Timestamp(const std::string& key, bool required, int64_t* out) const {
    std::string text;
    SF_RETURN_IF_ERROR(String(key, required, &text, 64));
    if (text.empty()) return OkStatus();
    auto ms = ParseRfc3339Millis(text);
    if (!ms.ok()) return FieldError(PathOf(key), ms.status().message());
    *out = *ms;
    return OkStatus();
  }

 private:
  const json& j_;
  std::string path_;
};

StatusOr<json> ParseJson(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return FieldError("(body)", "not valid JSON");
  return j;
}

json HostToJson(const HostInfo& h) {
  return json{{"hostname", h.hostname}, {"os", h.os}, {"kernel", h.kernel}, {"arch", h.arch},
              {"agent_version", h.agent_version}};
}

Status HostFromJson(const json& j, const std::string& path, HostInfo* h) {
  ObjectReader r(j, path);
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(r.String("hostname", true, &h->hostname, 255));
  if (h->hostname.empty()) return FieldError(r.PathOf("hostname"), "must not be empty");
  SF_RETURN_IF_ERROR(r.String("os", false, &h->os));
  SF_RETURN_IF_ERROR(r.String("kernel", false, &h->kernel));
  SF_RETURN_IF_ERROR(r.String("arch", false, &h->arch));
  SF_RETURN_IF_ERROR(r.String("agent_version", false, &h->agent_version));
  return OkStatus();
}

json ResultToJson(const CheckResult& r) {
  json metrics = json::array();
  for (const auto& m : r.metrics) {
    json jm{{"name", m.name}, {"value", m.value}};
    if (!m.labels.empty()) jm["labels"] = m.labels;
    if (!m.unit.empty()) jm["unit"] = m.unit;
    metrics.push_back(std::move(jm));
  }
  json details = json::parse(r.details_json, nullptr, false);
  if (details.is_discarded() || !details.is_object()) details = json::object();
  return json{{"check", r.check},
              {"target", r.target},
              {"status", std::string(CheckStatusName(r.status))},
              {"summary", r.summary},
              {"observed_at", FormatRfc3339Millis(r.observed_at_ms)},
              {"duration_ms", r.duration_ms},
              {"metrics", std::move(metrics)},
              {"details", std::move(details)}};
}

Status ResultFromJson(const json& j, const std::string& path, CheckResult* r) {
  ObjectReader rd(j, path);
  SF_RETURN_IF_ERROR(rd.RequireObject());
  SF_RETURN_IF_ERROR(rd.String("check", true, &r->check, 255));
  if (r->check.empty()) return FieldError(rd.PathOf("check"), "must not be empty");
  SF_RETURN_IF_ERROR(rd.String("target", false, &r->target, 1024));
  std::string status;
  SF_RETURN_IF_ERROR(rd.String("status", true, &status, 16));
  auto st = ParseCheckStatus(status);
  if (!st.ok()) return FieldError(rd.PathOf("status"), st.status().message() + ", got '" + status + "'");
  r->status = *st;
  SF_RETURN_IF_ERROR(rd.String("summary", false, &r->summary));
  SF_RETURN_IF_ERROR(rd.Timestamp("observed_at", true, &r->observed_at_ms));
  SF_RETURN_IF_ERROR(rd.Int("duration_ms", false, &r->duration_ms));
  r->metrics.clear();
  if (const json* ms = rd.Find("metrics")) {
    std::string mpath = rd.PathOf("metrics");
    if (!ms->is_array()) return FieldError(mpath, "expected an array");
    if (ms->size() > kMaxMetricsPerResult) {
      return FieldError(mpath, "more than " + std::to_string(kMaxMetricsPerResult) + " metrics");
    }
    for (size_t i = 0; i < ms->size(); ++i) {
      std::string ip = mpath + "[" + std::to_string(i) + "]";
      ObjectReader mr((*ms)[i], ip);
      SF_RETURN_IF_ERROR(mr.RequireObject());
      Metric m;
      SF_RETURN_IF_ERROR(mr.String("name", true, &m.name, 255));
      if (m.name.empty()) return FieldError(mr.PathOf("name"), "must not be empty");
      SF_RETURN_IF_ERROR(mr.String("unit", false, &m.unit, 32));
      const json* v = mr.Find("value");
      if (v == nullptr) return FieldError(mr.PathOf("value"), "required field is missing");
      if (!v->is_number()) return FieldError(mr.PathOf("value"), "expected a number");
      m.value = v->get<double>();
      if (!std::isfinite(m.value)) return FieldError(mr.PathOf("value"), "must be finite");
      if (const json* labels = mr.Find("labels")) {
        if (!labels->is_object()) return FieldError(mr.PathOf("labels"), "expected an object of strings");
        for (auto it = labels->begin(); it != labels->end(); ++it) {
          if (!it.value().is_string()) return FieldError(mr.PathOf("labels") + "." + it.key(), "expected a string");
          m.labels[it.key()] = it.value().get<std::string>();
        }
      }
      r->metrics.push_back(std::move(m));
    }
  }
  r->details_json = "{}";
  if (const json* d = rd.Find("details")) {
    if (!d->is_object()) return FieldError(rd.PathOf("details"), "expected an object");
    r->details_json = d->dump();
    if (r->details_json.size() > 64 * 1024) return FieldError(rd.PathOf("details"), "larger than 64 KiB");
  }
  return OkStatus();
}

Status CheckVersion(const ObjectReader& r) {
  int64_t version = 0;
  SF_RETURN_IF_ERROR(r.Int("version", true, &version, 1));
  if (version != kProtocolVersion) {
    return FieldError("version", "unsupported protocol version " + std::to_string(version) + " (this side speaks " +
                                     std::to_string(kProtocolVersion) + ")");
  }
  return OkStatus();
}

}  // namespace

std::string EncodeCheckResult(const CheckResult& r) { return ResultToJson(r).dump(); }

StatusOr<CheckResult> DecodeCheckResult(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  CheckResult r;
  SF_RETURN_IF_ERROR(ResultFromJson(j, "", &r));
  return r;
}

std::string EncodeReportBatch(const ReportBatch& b) {
  json results = json::array();
  for (const auto& e : b.results) {
    json jr = ResultToJson(e.result);
    jr["seq"] = e.seq;
    results.push_back(std::move(jr));
  }
  json j{{"version", b.version},
         {"agent_id", b.agent_id},
         {"sent_at", FormatRfc3339Millis(b.sent_at_ms)},
         {"host", HostToJson(b.host)},
         {"results", std::move(results)}};
  return j.dump();
}

StatusOr<ReportBatch> DecodeReportBatch(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  ObjectReader r(j, "");
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(CheckVersion(r));
  ReportBatch b;
  SF_RETURN_IF_ERROR(r.String("agent_id", true, &b.agent_id, 128));
  if (b.agent_id.empty()) return FieldError("agent_id", "must not be empty");
  SF_RETURN_IF_ERROR(r.Timestamp("sent_at", false, &b.sent_at_ms));
  const json* host = r.Find("host");
  if (host == nullptr) return FieldError("host", "required field is missing");
  SF_RETURN_IF_ERROR(HostFromJson(*host, "host", &b.host));
  const json* results = r.Find("results");
  if (results == nullptr) return FieldError("results", "required field is missing");
  if (!results->is_array()) return FieldError("results", "expected an array");
  if (results->size() > kMaxResultsPerBatch) {
    return FieldError("results", "more than " + std::to_string(kMaxResultsPerBatch) + " results in one batch");
  }
  b.results.reserve(results->size());
  uint64_t prev = 0;
  for (size_t i = 0; i < results->size(); ++i) {
    std::string path = "results[" + std::to_string(i) + "]";
    ReportEntry e;
    ObjectReader er((*results)[i], path);
    SF_RETURN_IF_ERROR(er.RequireObject());
    int64_t seq = 0;
    SF_RETURN_IF_ERROR(er.Int("seq", true, &seq, 1));
    e.seq = static_cast<uint64_t>(seq);
    if (e.seq <= prev) return FieldError(er.PathOf("seq"), "sequence numbers must increase within a batch");
    prev = e.seq;
    SF_RETURN_IF_ERROR(ResultFromJson((*results)[i], path, &e.result));
    b.results.push_back(std::move(e));
  }
  return b;
}

std::string EncodeReportAck(const ReportAck& a) {
  return json{{"acked_through", a.acked_through}, {"accepted", a.accepted}, {"duplicates", a.duplicates}}.dump();
}

StatusOr<ReportAck> DecodeReportAck(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  ObjectReader r(j, "");
  SF_RETURN_IF_ERROR(r.RequireObject());
  ReportAck a;
  int64_t through = 0, accepted = 0, dup = 0;
  SF_RETURN_IF_ERROR(r.Int("acked_through", true, &through));
  SF_RETURN_IF_ERROR(r.Int("accepted", false, &accepted));
  SF_RETURN_IF_ERROR(r.Int("duplicates", false, &dup));
  a.acked_through = static_cast<uint64_t>(through);
  a.accepted = static_cast<int>(accepted);
  a.duplicates = static_cast<int>(dup);
  return a;
}

std::string EncodeEnrollRequest(const EnrollRequest& req) {
  return json{{"version", req.version}, {"enrollment_token", req.enrollment_token}, {"host", HostToJson(req.host)}}
      .dump();
}

StatusOr<EnrollRequest> DecodeEnrollRequest(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  ObjectReader r(j, "");
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(CheckVersion(r));
  EnrollRequest req;
  SF_RETURN_IF_ERROR(r.String("enrollment_token", true, &req.enrollment_token, 256));
  const json* host = r.Find("host");
  if (host == nullptr) return FieldError("host", "required field is missing");
  SF_RETURN_IF_ERROR(HostFromJson(*host, "host", &req.host));
  return req;
}

std::string EncodeEnrollResponse(const EnrollResponse& resp) {
  return json{{"agent_id", resp.agent_id}, {"agent_token", resp.agent_token}}.dump();
}

StatusOr<EnrollResponse> DecodeEnrollResponse(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  ObjectReader r(j, "");
  SF_RETURN_IF_ERROR(r.RequireObject());
  EnrollResponse resp;
  SF_RETURN_IF_ERROR(r.String("agent_id", true, &resp.agent_id, 128));
  SF_RETURN_IF_ERROR(r.String("agent_token", true, &resp.agent_token, 256));
  if (resp.agent_id.empty() || resp.agent_token.empty()) return FieldError("agent_token", "must not be empty");
  return resp;
}

std::string FieldOf(const Status& decode_error) {
  const std::string& m = decode_error.message();
  auto pos = m.find(": ");
  if (pos == std::string::npos) return "";
  std::string field = m.substr(0, pos);
  if (field == "(body)") return "";
  return field;
}

}  // namespace steadfast::protocol
