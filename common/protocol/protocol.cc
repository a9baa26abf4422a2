#include "common/protocol/protocol.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>

#include "common/clock.h"
#include "common/protocol/fast_json_reader.h"
#include "common/protocol/protocol_internal.h"
#include "common/utf8.h"

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

std::string_view ActionStateName(ActionState s) {
  switch (s) {
    case ActionState::kRunning: return "running";
    case ActionState::kSucceeded: return "succeeded";
    case ActionState::kFailed: return "failed";
    case ActionState::kRefused: return "refused";
  }
  return "failed";
}

StatusOr<ActionState> ParseActionState(std::string_view name) {
  if (name == "running") return ActionState::kRunning;
  if (name == "succeeded") return ActionState::kSucceeded;
  if (name == "failed") return ActionState::kFailed;
  if (name == "refused") return ActionState::kRefused;
  return InvalidArgumentError("must be one of running, succeeded, failed, refused");
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

  Status Bool(const std::string& key, bool* out) const {
    const json* v = Find(key);
    if (v == nullptr) return OkStatus();
    if (!v->is_boolean()) return FieldError(PathOf(key), "expected true or false");
    *out = v->get<bool>();
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

// Action ids and names: short, and only characters that need no escaping anywhere they go
// (URLs, logs, file names).
Status ActionToken(const ObjectReader& r, const std::string& key, size_t max, std::string* out) {
  SF_RETURN_IF_ERROR(r.String(key, true, out, max));
  if (out->empty()) return FieldError(r.PathOf(key), "must not be empty");
  for (char c : *out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return FieldError(r.PathOf(key), "may hold only letters, digits, '-', '_' and '.'");
    }
  }
  return OkStatus();
}

// A JSON object member kept as its text, at most `max` bytes serialised.
Status ObjectText(const ObjectReader& r, const std::string& key, size_t max, std::string* out) {
  *out = "{}";
  const json* d = r.Find(key);
  if (d == nullptr) return OkStatus();
  if (!d->is_object()) return FieldError(r.PathOf(key), "expected an object");
  *out = d->dump();
  if (out->size() > max) return FieldError(r.PathOf(key), "larger than " + std::to_string(max) + " bytes");
  return OkStatus();
}

json ObjectOf(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() || !j.is_object() ? json::object() : j;
}

json ActionResultToJson(const ActionResult& a) {
  json j{{"id", a.id},
         {"state", std::string(ActionStateName(a.state))},
         {"summary", a.summary},
         {"details", ObjectOf(a.details_json)}};
  if (a.started_at_ms > 0) j["started_at"] = FormatRfc3339Millis(a.started_at_ms);
  if (a.finished_at_ms > 0) j["finished_at"] = FormatRfc3339Millis(a.finished_at_ms);
  return j;
}

Status ActionResultFromJson(const json& j, const std::string& path, ActionResult* a) {
  ObjectReader r(j, path);
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(ActionToken(r, "id", kMaxActionIdBytes, &a->id));
  std::string state;
  SF_RETURN_IF_ERROR(r.String("state", true, &state, 16));
  auto st = ParseActionState(state);
  if (!st.ok()) return FieldError(r.PathOf("state"), st.status().message() + ", got '" + state + "'");
  a->state = *st;
  SF_RETURN_IF_ERROR(r.String("summary", false, &a->summary));
  SF_RETURN_IF_ERROR(r.Timestamp("started_at", false, &a->started_at_ms));
  SF_RETURN_IF_ERROR(r.Timestamp("finished_at", false, &a->finished_at_ms));
  return ObjectText(r, "details", 64 * 1024, &a->details_json);
}

json ActionRequestToJson(const ActionRequest& a) {
  return json{{"id", a.id},
              {"action", a.action},
              {"params", ObjectOf(a.params_json)},
              {"requested_at", FormatRfc3339Millis(a.requested_at_ms)},
              {"requested_by", a.requested_by},
              {"expires_at", FormatRfc3339Millis(a.expires_at_ms)}};
}

Status ActionRequestFromJson(const json& j, const std::string& path, ActionRequest* a) {
  ObjectReader r(j, path);
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(ActionToken(r, "id", kMaxActionIdBytes, &a->id));
  SF_RETURN_IF_ERROR(ActionToken(r, "action", 64, &a->action));
  SF_RETURN_IF_ERROR(ObjectText(r, "params", kMaxActionParamsBytes, &a->params_json));
  SF_RETURN_IF_ERROR(r.Timestamp("requested_at", true, &a->requested_at_ms));
  SF_RETURN_IF_ERROR(r.String("requested_by", false, &a->requested_by, 255));
  return r.Timestamp("expires_at", true, &a->expires_at_ms);
}

// The optional "action_results" of a batch.
Status ActionResultsFromJson(const ObjectReader& r, std::vector<ActionResult>* out) {
  const json* list = r.Find("action_results");
  if (list == nullptr) return OkStatus();
  if (!list->is_array()) return FieldError("action_results", "expected an array");
  if (list->size() > kMaxActionResultsPerBatch) {
    return FieldError("action_results",
                      "more than " + std::to_string(kMaxActionResultsPerBatch) + " action results in one batch");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    ActionResult a;
    SF_RETURN_IF_ERROR(ActionResultFromJson((*list)[i], "action_results[" + std::to_string(i) + "]", &a));
    out->push_back(std::move(a));
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

// The envelope every agent message shares: an object with a supported version and a non-empty
// agent_id.
Status ReadAgentEnvelope(const ObjectReader& r, std::string* agent_id) {
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(CheckVersion(r));
  SF_RETURN_IF_ERROR(r.String("agent_id", true, agent_id, 128));
  if (agent_id->empty()) return FieldError("agent_id", "must not be empty");
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// DecodeReportBatch's fast path (see protocol_internal.h).
//
// It accepts a subset of what the reference decoder accepts — every well-formed batch an
// agent sends — and gives up on anything unusual, so the two cannot disagree about an
// error: the fast path never produces one. Where the reference decoder would accept a document
// the fast path gives up on (a null optional field, a duplicate key), the reference decoder
// simply does the work. protocol_test.cc compares the two on valid and mutated batches.

// days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). Linear
// in `d`, so an out-of-range day rolls over into the next month exactly as timegm() does.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Digits at text[pos, pos+n) as a number, or -1 if any is not a digit.
int64_t Digits(std::string_view text, size_t pos, size_t n) {
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Nesting inside a report batch, as far as the fast path follows it (kNone: outside the
// top-level value).
enum class Ctx : uint8_t { kNone, kTop, kHost, kResults, kResult, kMetrics, kMetric, kLabels, kDetails, kSkip };

// A known member of one of the objects; the value is its bit in that object's "seen" mask.
enum Field : uint8_t {
  kUnknown,
  // batch
  kVersion, kAgentId, kSentAt, kHost, kResults,
  // host
  kHostname, kOs, kKernel, kArch, kAgentVersion,
  // result
  kSeq, kCheck, kTarget, kStatus, kSummary, kObservedAt, kDurationMs, kMetrics, kDetails,
  // metric
  kName, kUnit, kValue, kLabels,
};

constexpr uint32_t Bit(Field f) { return uint32_t{1} << f; }

struct FieldName {
  std::string_view name;
  Field field;
};
constexpr FieldName kBatchFields[] = {
    {"version", kVersion}, {"agent_id", kAgentId}, {"sent_at", kSentAt}, {"host", kHost}, {"results", kResults}};
constexpr FieldName kHostFields[] = {
    {"hostname", kHostname}, {"os", kOs}, {"kernel", kKernel}, {"arch", kArch}, {"agent_version", kAgentVersion}};
constexpr FieldName kResultFields[] = {
    {"seq", kSeq},         {"check", kCheck},     {"target", kTarget},
    {"status", kStatus},   {"summary", kSummary}, {"observed_at", kObservedAt},
    {"duration_ms", kDurationMs}, {"metrics", kMetrics}, {"details", kDetails}};
constexpr FieldName kMetricFields[] = {{"name", kName}, {"unit", kUnit}, {"value", kValue}, {"labels", kLabels}};

template <size_t N>
Field Lookup(const FieldName (&table)[N], std::string_view key) {
  for (const FieldName& f : table) {
    if (f.name == key) return f.field;
  }
  return kUnknown;
}

// Builds a JSON value from SAX events exactly as nlohmann's own DOM parser does (a repeated
// key overwrites the earlier value), so that dump() gives the same text as the reference
// decoder's d->dump().
class DomBuilder {
 public:
  void Reset() {
    root_ = json();
    stack_.clear();
    slot_ = nullptr;
  }
  bool Done() const { return stack_.empty(); }
  const json& root() const { return root_; }

  void Put(json value) { Place(std::move(value)); }
  void Key(std::string& key) { slot_ = &(*stack_.back())[std::move(key)]; }
  void StartObject() { stack_.push_back(Place(json::object())); }
  void StartArray() { stack_.push_back(Place(json::array())); }
  void End() { stack_.pop_back(); }

 private:
  json* Place(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(value));
      return &top.back();
    }
    *slot_ = std::move(value);
    return slot_;
  }

  json root_;
  std::vector<json*> stack_;
  json* slot_ = nullptr;  // the member named by the last key
};

// Builds a result's details_json as the reference decoder does: nlohmann's dump() of the
// parsed object. The usual flat object — members that are strings, integers, booleans or null,
// keys in strictly increasing byte order (as dump() sorts them, which also rules out repeated
// keys), nothing to escape — is written directly, as dump() writes it. Anything else
// (floats, whose text is dump()'s own, nesting, repeats, escapes) goes through a DOM and
// dump() itself.
class DetailsBuilder {
 public:
  // Called after the opening brace of "details".
  void Begin() {
    members_used_ = 0;
    dom_mode_ = false;
    dom_.Reset();
  }

  void Key(std::string& key) {
    if (dom_mode_) return dom_.Key(key);
    if (members_used_ == members_.size()) members_.emplace_back();
    Member& m = members_[members_used_++];
    m.key = std::move(key);
    m.kind = Kind::kNull;
  }
  void Null() { Set(Kind::kNull, json(nullptr)); }
  void Boolean(bool v) {
    if (!dom_mode_) Last().i = v ? 1 : 0;
    Set(Kind::kBool, json(v));
  }
  void Integer(int64_t v) {
    if (!dom_mode_) Last().i = v;
    Set(Kind::kInt, json(v));
  }
  void Unsigned(uint64_t v) {
    if (!dom_mode_) Last().u = v;
    Set(Kind::kUint, json(v));
  }
  void Float(double v) {
    if (!dom_mode_) Last().d = v;
    Set(Kind::kFloat, json(v));
  }
  void String(std::string& v) {
    if (dom_mode_) return dom_.Put(json(std::move(v)));
    Last().s = std::move(v);
    Last().kind = Kind::kString;
  }
  void StartObject() {
    ToDom(/*last_value_pending=*/true);
    dom_.StartObject();
  }
  void StartArray() {
    ToDom(/*last_value_pending=*/true);
    dom_.StartArray();
  }
  // Ends an object or array inside details, or details itself: then true, and *text is
  // details_json.
  bool End(std::string* text) {
    if (dom_mode_) {
      dom_.End();
      if (!dom_.Done()) return false;
      *text = dom_.root().dump();
      return true;
    }
    if (!WriteFlat(text)) {
      ToDom(/*last_value_pending=*/false);
      dom_.End();
      *text = dom_.root().dump();
    }
    return true;
  }

 private:
  enum class Kind : uint8_t { kNull, kBool, kInt, kUint, kFloat, kString };
  struct Member {
    std::string key;
    Kind kind = Kind::kNull;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    std::string s;
  };

  Member& Last() { return members_[members_used_ - 1]; }

  void Set(Kind kind, json value) {
    if (dom_mode_) return dom_.Put(std::move(value));
    Last().kind = kind;
  }

  static json ToJson(Member& m) {
    switch (m.kind) {
      case Kind::kNull: return json(nullptr);
      case Kind::kBool: return json(m.i != 0);
      case Kind::kInt: return json(m.i);
      case Kind::kUint: return json(m.u);
      case Kind::kFloat: return json(m.d);
      case Kind::kString: return json(std::move(m.s));
    }
    return json(nullptr);
  }

  // Replays the flat members so far into the DOM; with last_value_pending the last member's
  // value is what is starting now (a nested object or array), so only its key is replayed.
  void ToDom(bool last_value_pending) {
    if (dom_mode_) return;
    dom_mode_ = true;
    dom_.Reset();
    dom_.StartObject();
    for (size_t i = 0; i < members_used_; ++i) {
      dom_.Key(members_[i].key);
      if (i + 1 < members_used_ || !last_value_pending) dom_.Put(ToJson(members_[i]));
    }
  }

  static bool NeedsEscape(std::string_view s) {
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') return true;
    }
    return false;
  }

  bool WriteFlat(std::string* text) {
    for (size_t i = 0; i < members_used_; ++i) {
      const Member& m = members_[i];
      if (m.kind == Kind::kFloat || NeedsEscape(m.key) || (m.kind == Kind::kString && NeedsEscape(m.s))) return false;
      if (i > 0 && !(std::string_view(members_[i - 1].key) < std::string_view(m.key))) return false;
    }
    text->clear();
    text->push_back('{');
    char digits[24];
    for (size_t i = 0; i < members_used_; ++i) {
      const Member& m = members_[i];
      if (i > 0) text->push_back(',');
      text->push_back('"');
      text->append(m.key);
      text->append("\":");
      switch (m.kind) {
        case Kind::kNull: text->append("null"); break;
        case Kind::kBool: text->append(m.i != 0 ? "true" : "false"); break;
        case Kind::kInt: text->append(digits, std::to_chars(digits, digits + sizeof(digits), m.i).ptr); break;
        case Kind::kUint: text->append(digits, std::to_chars(digits, digits + sizeof(digits), m.u).ptr); break;
        case Kind::kString:
          text->push_back('"');
          text->append(m.s);
          text->push_back('"');
          break;
        case Kind::kFloat: break;  // excluded above
      }
    }
    text->push_back('}');
    return true;
  }

  std::vector<Member> members_;  // reused from result to result
  size_t members_used_ = 0;
  bool dom_mode_ = false;
  DomBuilder dom_;
};

// The SAX handler (nlohmann's SAX interface). Every callback returns false to give up, which
// stops the parse at once.
class FastBatchReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit FastBatchReader(ReportBatch* out) : b_(out) {
    stack_.reserve(8);
    b_->results.reserve(64);
  }

  // True once the top-level object is complete and valid.
  bool done() const { return done_; }

  bool null() {
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.Null(); return true;
      default: return UnknownMember();  // null may mean "absent" to the reference decoder
    }
  }

  bool boolean(bool v) {
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.Boolean(v); return true;
      default: return UnknownMember();
    }
  }

  bool number_integer(number_integer_t v) {  // only negative numbers (and -0) come here
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.Integer(v); return true;
      case Ctx::kResult:
        if (field_ == kDurationMs) {
          if (v < 0) return false;
          cur_->result.duration_ms = v;
          return true;
        }
        return UnknownMember();
      case Ctx::kMetric:
        if (field_ == kValue) {
          metric_->value = static_cast<double>(v);
          return true;
        }
        return UnknownMember();
      default: return UnknownMember();
    }
  }

  bool number_unsigned(number_unsigned_t v) {
    constexpr uint64_t kMaxInt = static_cast<uint64_t>(INT64_MAX);
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.Unsigned(v); return true;
      case Ctx::kTop:
        if (field_ == kVersion) return v == static_cast<uint64_t>(kProtocolVersion);
        return UnknownMember();
      case Ctx::kResult:
        if (field_ == kSeq) {
          if (v < 1 || v > kMaxInt) return false;
          cur_->seq = v;
          return true;
        }
        if (field_ == kDurationMs) {
          if (v > kMaxInt) return false;
          cur_->result.duration_ms = static_cast<int64_t>(v);
          return true;
        }
        return UnknownMember();
      case Ctx::kMetric:
        if (field_ == kValue) {
          metric_->value = static_cast<double>(v);
          return true;
        }
        return UnknownMember();
      default: return UnknownMember();
    }
  }

  bool number_float(number_float_t v, const string_t& /*text*/) {
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.Float(v); return true;
      case Ctx::kMetric:
        if (field_ == kValue) {
          if (!std::isfinite(v)) return false;
          metric_->value = v;
          return true;
        }
        return UnknownMember();
      default: return UnknownMember();
    }
  }

  bool string(string_t& v) {
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.String(v); return true;
      case Ctx::kLabels: return metric_->labels.emplace(std::move(label_key_), std::move(v)).second;
      case Ctx::kTop:
        switch (field_) {
          case kAgentId: return Take(v, 1, 128, &b_->agent_id);
          case kSentAt: return TakeTimestamp(v, &b_->sent_at_ms);
          default: return UnknownMember();
        }
      case Ctx::kHost:
        switch (field_) {
          case kHostname: return Take(v, 1, 255, &b_->host.hostname);
          case kOs: return Take(v, 0, kMaxStringBytes, &b_->host.os);
          case kKernel: return Take(v, 0, kMaxStringBytes, &b_->host.kernel);
          case kArch: return Take(v, 0, kMaxStringBytes, &b_->host.arch);
          case kAgentVersion: return Take(v, 0, kMaxStringBytes, &b_->host.agent_version);
          default: return UnknownMember();
        }
      case Ctx::kResult:
        switch (field_) {
          case kCheck: return Take(v, 1, 255, &cur_->result.check);
          case kTarget: return Take(v, 0, 1024, &cur_->result.target);
          case kStatus: {
            auto st = ParseCheckStatus(v);
            if (!st.ok()) return false;
            cur_->result.status = *st;
            return true;
          }
          case kSummary: return Take(v, 0, kMaxStringBytes, &cur_->result.summary);
          case kObservedAt: return TakeTimestamp(v, &cur_->result.observed_at_ms);
          default: return UnknownMember();
        }
      case Ctx::kMetric:
        switch (field_) {
          case kName: return Take(v, 1, 255, &metric_->name);
          case kUnit: return Take(v, 0, 32, &metric_->unit);
          default: return UnknownMember();
        }
      default: return false;  // a string element of results or metrics
    }
  }

  bool binary(binary_t& /*v*/) { return false; }  // not produced by the JSON parser

  bool start_object(std::size_t /*len*/) {
    if (stack_.empty()) {
      if (done_) return false;
      return Push(Ctx::kTop, &top_seen_);
    }
    switch (Top()) {
      case Ctx::kSkip: ++skip_depth_; return true;
      case Ctx::kDetails: details_.StartObject(); return true;
      case Ctx::kTop:
        if (field_ == kHost) return Push(Ctx::kHost, &host_seen_);
        return StartUnknown();
      case Ctx::kResults:
        if (b_->results.size() >= kMaxResultsPerBatch) return false;
        cur_ = &b_->results.emplace_back();
        return Push(Ctx::kResult, &result_seen_);
      case Ctx::kResult:
        if (field_ == kDetails) {
          details_.Begin();
          stack_.push_back(Ctx::kDetails);
          return true;
        }
        return StartUnknown();
      case Ctx::kMetrics:
        if (cur_->result.metrics.size() >= kMaxMetricsPerResult) return false;
        if (cur_->result.metrics.capacity() == 0) cur_->result.metrics.reserve(4);
        metric_ = &cur_->result.metrics.emplace_back();
        return Push(Ctx::kMetric, &metric_seen_);
      case Ctx::kMetric:
        if (field_ == kLabels) {
          stack_.push_back(Ctx::kLabels);
          return true;
        }
        return StartUnknown();
      default: return StartUnknown();
    }
  }

  bool start_array(std::size_t /*len*/) {
    if (stack_.empty()) return false;  // the reference decoder wants an object
    switch (Top()) {
      case Ctx::kSkip: ++skip_depth_; return true;
      case Ctx::kDetails: details_.StartArray(); return true;
      case Ctx::kTop:
        if (field_ == kResults) {
          stack_.push_back(Ctx::kResults);
          return true;
        }
        return StartUnknown();
      case Ctx::kResult:
        if (field_ == kMetrics) {
          stack_.push_back(Ctx::kMetrics);
          return true;
        }
        return StartUnknown();
      default: return StartUnknown();
    }
  }

  bool key(string_t& k) {
    uint32_t* seen = nullptr;
    switch (Top()) {
      case Ctx::kSkip: return true;
      case Ctx::kDetails: details_.Key(k); return true;
      case Ctx::kLabels: label_key_ = std::move(k); return true;
      case Ctx::kTop:
        // Action results are rare: the reference decoder reads them.
        if (k == "action_results") return false;
        field_ = Lookup(kBatchFields, k);
        seen = &top_seen_;
        break;
      case Ctx::kHost: field_ = Lookup(kHostFields, k); seen = &host_seen_; break;
      case Ctx::kResult: field_ = Lookup(kResultFields, k); seen = &result_seen_; break;
      case Ctx::kMetric: field_ = Lookup(kMetricFields, k); seen = &metric_seen_; break;
      default: return false;  // arrays have no keys
    }
    if (field_ == kUnknown) return true;
    if ((*seen & Bit(field_)) != 0) return false;  // a repeated key: the last one wins there
    *seen |= Bit(field_);
    return true;
  }

  bool end_object() {
    switch (Top()) {
      case Ctx::kSkip: return EndSkip();
      case Ctx::kDetails:
        if (details_.End(&cur_->result.details_json)) {
          if (cur_->result.details_json.size() > 64 * 1024) return false;
          stack_.pop_back();
        }
        return true;
      case Ctx::kTop:
        if (!Has(top_seen_, {kVersion, kAgentId, kHost, kResults})) return false;
        done_ = true;
        break;
      case Ctx::kHost:
        if (!Has(host_seen_, {kHostname})) return false;
        break;
      case Ctx::kResult:
        if (!Has(result_seen_, {kSeq, kCheck, kStatus, kObservedAt})) return false;
        if (cur_->seq <= prev_seq_) return false;
        prev_seq_ = cur_->seq;
        break;
      case Ctx::kMetric:
        if (!Has(metric_seen_, {kName, kValue})) return false;
        break;
      case Ctx::kLabels: break;
      default: return false;
    }
    stack_.pop_back();
    field_ = kUnknown;
    return true;
  }

  bool end_array() {
    switch (Top()) {
      case Ctx::kSkip: return EndSkip();
      case Ctx::kDetails: details_.End(&cur_->result.details_json); return true;
      case Ctx::kResults:
      case Ctx::kMetrics:
        stack_.pop_back();
        field_ = kUnknown;
        return true;
      default: return false;
    }
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const json::exception& /*error*/) {
    return false;
  }

 private:
  Ctx Top() const { return stack_.empty() ? Ctx::kNone : stack_.back(); }

  bool Push(Ctx ctx, uint32_t* seen) {
    stack_.push_back(ctx);
    *seen = 0;
    field_ = kUnknown;
    return true;
  }

  // A scalar that is neither skipped nor a known member of the right type: fine only as the
  // value of a member the protocol does not know (ignored), never as a known one or as an
  // element of results/metrics/labels.
  bool UnknownMember() const {
    const Ctx top = Top();
    return (top == Ctx::kTop || top == Ctx::kHost || top == Ctx::kResult || top == Ctx::kMetric) &&
           field_ == kUnknown;
  }

  bool StartUnknown() {
    if (!UnknownMember()) return false;
    stack_.push_back(Ctx::kSkip);
    skip_depth_ = 1;
    return true;
  }

  bool EndSkip() {
    if (--skip_depth_ == 0) {
      stack_.pop_back();
      field_ = kUnknown;
    }
    return true;
  }

  static bool Has(uint32_t seen, std::initializer_list<Field> required) {
    for (Field f : required) {
      if ((seen & Bit(f)) == 0) return false;
    }
    return true;
  }

  static bool Take(std::string& v, size_t min, size_t max, std::string* out) {
    if (v.size() < min || v.size() > max) return false;
    *out = std::move(v);
    return true;
  }

  static bool TakeTimestamp(const std::string& v, int64_t* out) {
    if (v.size() > 64) return false;
    if (v.empty()) return true;  // the reference decoder leaves the default (0)
    auto ms = internal::ParseTimestampMillis(v);
    if (!ms.ok()) return false;
    *out = *ms;
    return true;
  }

  ReportBatch* b_;
  std::vector<Ctx> stack_;
  Field field_ = kUnknown;  // the member whose value comes next
  uint32_t top_seen_ = 0, host_seen_ = 0, result_seen_ = 0, metric_seen_ = 0;
  int skip_depth_ = 0;
  ReportEntry* cur_ = nullptr;  // the result being read
  Metric* metric_ = nullptr;    // the metric being read
  uint64_t prev_seq_ = 0;
  std::string label_key_;
  DetailsBuilder details_;
  bool done_ = false;
};

}  // namespace

namespace internal {

StatusOr<int64_t> ParseTimestampMillis(std::string_view text) {
  // "YYYY-MM-DDTHH:MM:SS.mmmZ"; the ranges are ParseRfc3339Millis's, so is the arithmetic
  // (timegm() normalises a day or second out of range, and so does DaysFromCivil).
  if (text.size() == 24 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
      text[16] == ':' && text[19] == '.' && text[23] == 'Z') {
    const int64_t year = Digits(text, 0, 4), mon = Digits(text, 5, 2), day = Digits(text, 8, 2);
    const int64_t hour = Digits(text, 11, 2), min = Digits(text, 14, 2), sec = Digits(text, 17, 2);
    const int64_t ms = Digits(text, 20, 3);
    if (year >= 0 && mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour >= 0 && hour <= 23 && min >= 0 &&
        min <= 59 && sec >= 0 && sec <= 60 && ms >= 0) {
      const int64_t secs = DaysFromCivil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
      return secs * 1000 + ms;
    }
  }
  return ParseRfc3339Millis(std::string(text));
}

bool DecodeReportBatchFast(std::string_view text, ReportBatch* out) {
  try {
    {
      *out = ReportBatch{};
      FastBatchReader reader(out);
      FastJsonReader<FastBatchReader> json_reader(text, &reader);
      if (json_reader.Read()) return reader.done();
      // The batch itself is off the fast path (missing field, null, ...): the reference
      // decoder has the answer.
      if (json_reader.handler_refused()) return false;
    }
    // JSON outside FastJsonReader's subset (a \u escape, say), or not JSON at all:
    // nlohmann's own SAX parser, still without a DOM.
    *out = ReportBatch{};
    FastBatchReader reader(out);
    return json::sax_parse(text.begin(), text.end(), &reader) && reader.done();
  } catch (const std::exception&) {
    // Neither parser reports errors by throwing; anything thrown (allocation, a dump()
    // surprise) just means the reference decoder decides.
    return false;
  }
}

}  // namespace internal

namespace {

// A JSON string literal of `s`, escaped as nlohmann's dump() escapes (", \\, \b \f \n \r \t,
// other controls as \u00xx; UTF-8 as it is). Where dump() would throw on bytes that are not
// UTF-8, each such byte becomes U+FFFD.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    // Runs of plain ASCII are copied at once.
    size_t j = i;
    while (j < s.size()) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++j;
    }
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (std::optional<Utf8Char> u = DecodeUtf8At(s, i)) {
        out.append(s.data() + i, u->length);
        i += u->length;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      }
    }
    ++i;
  }
  out += '"';
}

// A number as JSON: the shortest form that reads back to the same double; NaN and infinities,
// which JSON cannot hold, as null (what dump() writes).
void AppendJsonNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  char* end = fmt::format_to(buf, "{}", v);
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace

// Written directly rather than through a json tree (the agent encodes every result it spools:
// callgrind over 5 cycles of bench/agent_cycle.sh counted 11.7 M instructions for the tree and
// its dump(), 2.9 M for this). Same document as ResultToJson(r).dump(),
// keys in the same (sorted) order; protocol_test compares the two.
std::string EncodeCheckResult(const CheckResult& r) {
  std::string out;
  out.reserve(256 + r.summary.size() + r.details_json.size() + r.metrics.size() * 96);
  out += "{\"check\":";
  AppendJsonString(out, r.check);
  out += ",\"details\":";
  if (r.details_json.empty() || r.details_json == "{}") {
    out += "{}";
  } else {
    // Details are JSON text already (the checks' own dump()): kept as they are when they are
    // one valid object (accept() checks syntax and UTF-8 without building a tree), else {}.
    const size_t first = r.details_json.find_first_not_of(" \t\r\n");
    const bool object = first != std::string::npos && r.details_json[first] == '{' &&
                        json::accept(r.details_json);
    out += object ? std::string_view(r.details_json) : std::string_view("{}");
  }
  out += ",\"duration_ms\":";
  out += std::to_string(r.duration_ms);
  out += ",\"metrics\":[";
  for (size_t i = 0; i < r.metrics.size(); ++i) {
    const Metric& m = r.metrics[i];
    if (i > 0) out += ',';
    out += '{';
    if (!m.labels.empty()) {
      out += "\"labels\":{";
      bool first = true;
      for (const auto& [k, v] : m.labels) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, k);
        out += ':';
        AppendJsonString(out, v);
      }
      out += "},";
    }
    out += "\"name\":";
    AppendJsonString(out, m.name);
    if (!m.unit.empty()) {
      out += ",\"unit\":";
      AppendJsonString(out, m.unit);
    }
    out += ",\"value\":";
    AppendJsonNumber(out, m.value);
    out += '}';
  }
  out += "],\"observed_at\":";
  AppendJsonString(out, FormatRfc3339Millis(r.observed_at_ms));
  out += ",\"status\":";
  AppendJsonString(out, CheckStatusName(r.status));
  out += ",\"summary\":";
  AppendJsonString(out, r.summary);
  out += ",\"target\":";
  AppendJsonString(out, r.target);
  out += '}';
  return out;
}

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
  if (!b.action_results.empty()) {
    json actions = json::array();
    for (const ActionResult& a : b.action_results) actions.push_back(ActionResultToJson(a));
    j["action_results"] = std::move(actions);
  }
  // Strings from the host (a file name in an error) may not be UTF-8: replaced, never thrown.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EncodeReportBatchRaw(const ReportBatch& envelope,
                                 const std::vector<RawReportEntry>& results) {
  json j{{"version", envelope.version},
         {"agent_id", envelope.agent_id},
         {"sent_at", FormatRfc3339Millis(envelope.sent_at_ms)},
         {"host", HostToJson(envelope.host)}};
  if (!envelope.action_results.empty()) {
    json actions = json::array();
    for (const ActionResult& a : envelope.action_results) actions.push_back(ActionResultToJson(a));
    j["action_results"] = std::move(actions);
  }
  std::string out = j.dump(-1, ' ', false, json::error_handler_t::replace);
  out.pop_back();  // the envelope's closing brace: the results follow
  size_t bytes = out.size() + 16;
  for (const auto& e : results) bytes += e.result_json.size() + 32;
  out.reserve(bytes);
  out += ",\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string& r = results[i].result_json;
    if (i > 0) out += ',';
    out += "{\"seq\":";
    out += std::to_string(results[i].seq);
    // r is "{...}": its members follow the seq (none for "{}").
    if (r.size() > 2) out += ',';
    out.append(r, 1, std::string::npos);
  }
  out += "]}";
  return out;
}

namespace internal {

StatusOr<ReportBatch> DecodeReportBatchReference(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  ObjectReader r(j, "");
  ReportBatch b;
  SF_RETURN_IF_ERROR(ReadAgentEnvelope(r, &b.agent_id));
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
  SF_RETURN_IF_ERROR(ActionResultsFromJson(r, &b.action_results));
  return b;
}

}  // namespace internal

StatusOr<ReportBatch> DecodeReportBatch(std::string_view text) {
  ReportBatch batch;
  if (internal::DecodeReportBatchFast(text, &batch)) return batch;
  // Not a batch the fast path could vouch for: the reference decoder gives the answer, and
  // the error message for a malformed one.
  return internal::DecodeReportBatchReference(text);
}

std::string EncodeReportAck(const ReportAck& a) {
  // Sent for every report, so written directly; the text is what json{...}.dump() gives
  // (keys in sorted order), protocol_test.cc holds it to that.
  std::string out = "{\"accepted\":";
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof(digits), a.accepted).ptr);
  out += ",\"acked_through\":";
  out.append(digits, std::to_chars(digits, digits + sizeof(digits), a.acked_through).ptr);
  if (!a.actions.empty()) {
    json actions = json::array();
    for (const ActionRequest& r : a.actions) actions.push_back(ActionRequestToJson(r));
    out += ",\"actions\":";
    out += actions.dump();
  }
  out += ",\"duplicates\":";
  out.append(digits, std::to_chars(digits, digits + sizeof(digits), a.duplicates).ptr);
  out += '}';
  return out;
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
  if (const json* list = r.Find("actions")) {
    if (!list->is_array()) return FieldError("actions", "expected an array");
    if (list->size() > kMaxActionsPerAck) {
      return FieldError("actions", "more than " + std::to_string(kMaxActionsPerAck) + " actions");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      ActionRequest req;
      SF_RETURN_IF_ERROR(ActionRequestFromJson((*list)[i], "actions[" + std::to_string(i) + "]", &req));
      a.actions.push_back(std::move(req));
    }
  }
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

// ---- host inventory

namespace {

// The DMI members in wire order, with their JSON names.
template <typename Dmi, typename Fn>
void ForEachDmiField(Dmi& d, Fn&& fn) {
  fn("sys_vendor", d.sys_vendor);
  fn("product_name", d.product_name);
  fn("product_version", d.product_version);
  fn("product_serial", d.product_serial);
  fn("product_uuid", d.product_uuid);
  fn("board_vendor", d.board_vendor);
  fn("board_name", d.board_name);
  fn("board_serial", d.board_serial);
  fn("bios_vendor", d.bios_vendor);
  fn("bios_version", d.bios_version);
  fn("bios_date", d.bios_date);
  fn("chassis_type", d.chassis_type);
  fn("chassis_serial", d.chassis_serial);
  fn("chassis_asset_tag", d.chassis_asset_tag);
}

Status DiskFromJson(const json& j, const std::string& path, DiskInfo* d) {
  ObjectReader r(j, path);
  SF_RETURN_IF_ERROR(r.RequireObject());
  SF_RETURN_IF_ERROR(r.String("name", true, &d->name, 64));
  if (d->name.empty()) return FieldError(r.PathOf("name"), "must not be empty");
  for (char c : d->name) {
    if (c <= 0x20 || c >= 0x7F || c == '/') {
      return FieldError(r.PathOf("name"), "must be printable ASCII without spaces or '/'");
    }
  }
  SF_RETURN_IF_ERROR(r.Int("size_bytes", false, &d->size_bytes));
  SF_RETURN_IF_ERROR(r.String("model", false, &d->model, kMaxInventoryStringBytes));
  SF_RETURN_IF_ERROR(r.String("vendor", false, &d->vendor, kMaxInventoryStringBytes));
  SF_RETURN_IF_ERROR(r.String("serial", false, &d->serial, kMaxInventoryStringBytes));
  SF_RETURN_IF_ERROR(r.String("wwid", false, &d->wwid, kMaxInventoryStringBytes));
  SF_RETURN_IF_ERROR(r.Bool("rotational", &d->rotational));
  return OkStatus();
}

}  // namespace

bool SameInventory(const HostInventory& a, const HostInventory& b) {
  HostInventory b_at_a = b;
  b_at_a.collected_at_ms = a.collected_at_ms;
  return a == b_at_a;
}

std::string EncodeHostInventory(const HostInventory& inv) {
  json disks = json::array();
  for (const DiskInfo& d : inv.disks) {
    disks.push_back(json{{"name", d.name},
                         {"size_bytes", d.size_bytes},
                         {"model", d.model},
                         {"vendor", d.vendor},
                         {"serial", d.serial},
                         {"wwid", d.wwid},
                         {"rotational", d.rotational}});
  }
  json dmi = json::object();
  ForEachDmiField(inv.dmi, [&dmi](const char* name, const std::string& value) { dmi[name] = value; });
  json j{{"version", inv.version},
         {"agent_id", inv.agent_id},
         {"collected_at", FormatRfc3339Millis(inv.collected_at_ms)},
         {"host", HostToJson(inv.host)},
         {"cpu", {{"model", inv.cpu_model}, {"count", inv.cpu_count}}},
         {"memory_bytes", inv.memory_bytes},
         {"disks", std::move(disks)},
         {"dmi", std::move(dmi)}};
  // Sysfs strings come from firmware and devices: never let one byte of them throw here.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

StatusOr<HostInventory> DecodeHostInventory(std::string_view text) {
  SF_ASSIGN_OR_RETURN(json j, ParseJson(text));
  ObjectReader r(j, "");
  HostInventory inv;
  SF_RETURN_IF_ERROR(ReadAgentEnvelope(r, &inv.agent_id));
  SF_RETURN_IF_ERROR(r.Timestamp("collected_at", true, &inv.collected_at_ms));
  const json* host = r.Find("host");
  if (host == nullptr) return FieldError("host", "required field is missing");
  SF_RETURN_IF_ERROR(HostFromJson(*host, "host", &inv.host));
  if (const json* cpu = r.Find("cpu")) {
    ObjectReader cr(*cpu, "cpu");
    SF_RETURN_IF_ERROR(cr.RequireObject());
    SF_RETURN_IF_ERROR(cr.String("model", false, &inv.cpu_model, kMaxInventoryStringBytes));
    SF_RETURN_IF_ERROR(cr.Int("count", false, &inv.cpu_count));
    if (inv.cpu_count > kMaxInventoryCpuCount) {
      return FieldError("cpu.count", "must be at most " + std::to_string(kMaxInventoryCpuCount));
    }
  }
  SF_RETURN_IF_ERROR(r.Int("memory_bytes", false, &inv.memory_bytes));
  if (const json* disks = r.Find("disks")) {
    if (!disks->is_array()) return FieldError("disks", "expected an array");
    if (disks->size() > kMaxInventoryDisks) {
      return FieldError("disks", "more than " + std::to_string(kMaxInventoryDisks) + " disks");
    }
    for (size_t i = 0; i < disks->size(); ++i) {
      const std::string path = "disks[" + std::to_string(i) + "]";
      DiskInfo d;
      SF_RETURN_IF_ERROR(DiskFromJson((*disks)[i], path, &d));
      for (const DiskInfo& earlier : inv.disks) {
        if (earlier.name == d.name) return FieldError(path + ".name", "duplicate disk name '" + d.name + "'");
      }
      inv.disks.push_back(std::move(d));
    }
  }
  if (const json* dmi = r.Find("dmi")) {
    ObjectReader dr(*dmi, "dmi");
    SF_RETURN_IF_ERROR(dr.RequireObject());
    Status st;
    ForEachDmiField(inv.dmi, [&](const char* name, std::string& value) {
      if (st.ok()) st = dr.String(name, false, &value, kMaxInventoryStringBytes);
    });
    SF_RETURN_IF_ERROR(st);
  }
  return inv;
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
