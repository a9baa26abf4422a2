#include "agent/checks/snmp_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/checks/stream_socket.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
constexpr size_t kMaxWalkRows = 10'000;
constexpr size_t kOidsPerGet = 20;  // keeps a GET well below tooBig on small agents
constexpr size_t kRowsListed = 3;   // problem rows named in a walk's summary

std::optional<double> ParseNumber(const std::string& text) {
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::string NumberText(double v) { return fmt::format("{:g}", v); }

std::string Quoted(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "'" : ", '") + v + "'";
  return out;
}

std::optional<double> NumberOf(const std::map<Oid, SnmpValue>& scalars, const Oid& oid) {
  auto it = scalars.find(oid);
  if (it == scalars.end() || it->second.Missing() || !it->second.number) return std::nullopt;
  return it->second.number;
}

std::string TextOf(const std::map<Oid, SnmpValue>& scalars, const Oid& oid) {
  auto it = scalars.find(oid);
  if (it == scalars.end() || it->second.Missing()) return "";
  return it->second.text;
}

std::optional<double> FirstNumber(const std::vector<SnmpVarBind>& rows) {
  for (const SnmpVarBind& vb : rows) {
    if (!vb.value.Missing() && vb.value.number) return vb.value.number;
  }
  return std::nullopt;
}

bool NameMatches(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '*') {
    return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == name;
}

const char* OperStatusName(int64_t s) {
  switch (s) {
    case 1:
      return "up";
    case 2:
      return "down";
    case 3:
      return "testing";
    case 4:
      return "unknown";
    case 5:
      return "dormant";
    case 6:
      return "notPresent";
    case 7:
      return "lowerLayerDown";
    default:
      return "invalid";
  }
}

StatusOr<std::string> ReadSecret(FileSystem& fs, const std::string& path, const char* what) {
  auto text = fs.ReadFile(path, 4096);
  if (!text.ok()) return text.status().WithContext(fmt::format("cannot read the {} file", what));
  std::string secret = text->substr(0, text->find('\n'));
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty())
    return InvalidArgumentError(fmt::format("the {} file {} is empty", what, path));
  return secret;
}

}  // namespace

SnmpValueGrade GradeSnmpValue(const SnmpOidSpec& spec, const SnmpValue& value) {
  SnmpValueGrade g;
  if (value.Missing()) {
    g.status = CheckStatus::kUnknown;
    g.text = value.text.empty() ? "no value" : value.text;
    return g;
  }
  std::optional<double> raw = value.number;
  if (!raw && value.type == SnmpValue::Type::kOctetString) raw = ParseNumber(value.text);
  if (raw) g.number = *raw * spec.scale;
  g.text = g.number ? NumberText(*g.number) + (spec.unit.empty() ? "" : " " + spec.unit)
                    : "'" + value.text + "'";
  const bool has_thresholds =
      spec.warning_above || spec.critical_above || spec.warning_below || spec.critical_below;
  if (has_thresholds) {
    if (!g.number) {
      g.status = CheckStatus::kUnknown;
      g.text += " is not a number";
      return g;
    }
    const double v = *g.number;
    if (spec.critical_above && v >= *spec.critical_above) {
      g.status = CheckStatus::kCritical;
      g.text += fmt::format(" (critical >= {})", NumberText(*spec.critical_above));
    } else if (spec.critical_below && v <= *spec.critical_below) {
      g.status = CheckStatus::kCritical;
      g.text += fmt::format(" (critical <= {})", NumberText(*spec.critical_below));
    } else if (spec.warning_above && v >= *spec.warning_above) {
      g.status = CheckStatus::kWarning;
      g.text += fmt::format(" (warning >= {})", NumberText(*spec.warning_above));
    } else if (spec.warning_below && v <= *spec.warning_below) {
      g.status = CheckStatus::kWarning;
      g.text += fmt::format(" (warning <= {})", NumberText(*spec.warning_below));
    }
  }
  if (!spec.expect.empty() &&
      std::find(spec.expect.begin(), spec.expect.end(), value.text) == spec.expect.end()) {
    g.status = protocol::WorseStatus(g.status, spec.expect_status);
    g.text = fmt::format("'{}' (expected {}{})", value.text,
                         spec.expect.size() > 1 ? "one of " : "", Quoted(spec.expect));
  }
  return g;
}

StatusOr<UpsState> UpsStateFromUpsMib(const UpsMibReading& r) {
  UpsState s;
  std::optional<double> source = NumberOf(r.scalars, upsmib::kOutputSource);
  std::optional<double> battery = NumberOf(r.scalars, upsmib::kBatteryStatus);
  if (!source && !battery) {
    return NotFoundError(
        "the agent implements neither upsOutputSource nor upsBatteryStatus (no UPS-MIB, RFC 1628)");
  }
  std::vector<std::string> raw;
  if (source) {
    static const char* const kSources[] = {"?",      "other",   "none",    "normal",
                                           "bypass", "battery", "booster", "reducer"};
    const int v = static_cast<int>(*source);
    raw.push_back(fmt::format("upsOutputSource={}({})", v >= 1 && v <= 7 ? kSources[v] : "?", v));
    switch (v) {
      case 2:
        s.source = UpsState::Source::kOff;
        break;
      case 3:
        s.source = UpsState::Source::kOnline;
        break;
      case 4:
        s.source = UpsState::Source::kBypass;
        break;
      case 5:
        s.source = UpsState::Source::kBattery;
        break;
      case 6:
        s.source = UpsState::Source::kOnline;
        s.notes.push_back("boosting low input voltage");
        break;
      case 7:
        s.source = UpsState::Source::kOnline;
        s.notes.push_back("trimming high input voltage");
        break;
      default:
        break;  // other(1): the source stays unknown
    }
  }
  if (battery) {
    static const char* const kBattery[] = {"?", "unknown", "batteryNormal", "batteryLow",
                                           "batteryDepleted"};
    const int v = static_cast<int>(*battery);
    raw.push_back(fmt::format("upsBatteryStatus={}({})", v >= 1 && v <= 4 ? kBattery[v] : "?", v));
    if (v == 3 || v == 4) s.low_battery = true;
    if (v == 4) s.notes.push_back("battery depleted");
  }
  s.raw_status = fmt::format("{}", fmt::join(raw, ", "));
  s.charge_percent = NumberOf(r.scalars, upsmib::kEstimatedChargeRemaining);
  if (auto minutes = NumberOf(r.scalars, upsmib::kEstimatedMinutesRemaining)) {
    s.runtime_seconds = *minutes * 60.0;
  }
  s.seconds_on_battery = NumberOf(r.scalars, upsmib::kSecondsOnBattery);
  s.temperature_celsius = NumberOf(r.scalars, upsmib::kBatteryTemperature);
  if (auto alarms = NumberOf(r.scalars, upsmib::kAlarmsPresent); alarms && *alarms > 0) {
    s.alarm = true;
    s.alarm_text = fmt::format("{:.0f} alarm{} present", *alarms, *alarms == 1 ? "" : "s");
  }
  for (const SnmpVarBind& vb : r.output_load) {
    if (vb.value.Missing() || !vb.value.number) continue;
    s.load_percent = std::max(s.load_percent.value_or(0), *vb.value.number);
  }
  s.input_voltage = FirstNumber(r.input_voltage);
  s.output_voltage = FirstNumber(r.output_voltage);
  return s;
}

std::vector<IfMibRow> BuildIfMibRows(const std::map<Oid, std::vector<SnmpVarBind>>& columns) {
  std::map<uint32_t, IfMibRow> rows;
  auto each = [&](const Oid& column, auto&& apply) {
    auto it = columns.find(column);
    if (it == columns.end()) return;
    for (const SnmpVarBind& vb : it->second) {
      // The row index is the one arc after the column (ifIndex).
      if (vb.oid.size() != column.size() + 1 || !OidIsBelow(vb.oid, column)) continue;
      if (vb.value.Missing()) continue;
      const uint32_t index = vb.oid.back();
      IfMibRow& row = rows[index];
      row.index = index;
      apply(row, vb.value);
    }
  };
  each(ifmib::kIfDescr, [](IfMibRow& r, const SnmpValue& v) { r.descr = v.text; });
  each(ifmib::kIfName, [](IfMibRow& r, const SnmpValue& v) { r.name = v.text; });
  each(ifmib::kIfAlias, [](IfMibRow& r, const SnmpValue& v) { r.alias = v.text; });
  each(ifmib::kIfAdminStatus, [](IfMibRow& r, const SnmpValue& v) {
    if (v.number) r.admin_status = static_cast<int64_t>(*v.number);
  });
  each(ifmib::kIfOperStatus, [](IfMibRow& r, const SnmpValue& v) {
    if (v.number) r.oper_status = static_cast<int64_t>(*v.number);
  });
  each(ifmib::kIfHCInOctets, [](IfMibRow& r, const SnmpValue& v) { r.in_octets = v.number; });
  each(ifmib::kIfHCOutOctets, [](IfMibRow& r, const SnmpValue& v) { r.out_octets = v.number; });
  each(ifmib::kIfInErrors, [](IfMibRow& r, const SnmpValue& v) { r.in_errors = v.number; });
  each(ifmib::kIfOutErrors, [](IfMibRow& r, const SnmpValue& v) { r.out_errors = v.number; });
  each(ifmib::kIfHighSpeed, [](IfMibRow& r, const SnmpValue& v) { r.speed_mbps = v.number; });
  std::vector<IfMibRow> out;
  for (auto& [index, row] : rows) {
    if (row.name.empty()) row.name = row.descr;
    if (row.name.empty()) row.name = fmt::format("ifIndex {}", index);
    out.push_back(std::move(row));
  }
  return out;
}

IfGrade GradeIfMibRow(const IfMibRow& row) {
  IfGrade g;
  std::string state;
  if (!row.admin_status || !row.oper_status) {
    g.status = CheckStatus::kUnknown;
    state = "the agent reports no admin/oper status";
  } else if (*row.admin_status == 2) {
    state = "administratively down";
  } else if (*row.admin_status == 3) {
    g.status = CheckStatus::kWarning;
    state = "administratively in test mode";
  } else if (*row.admin_status != 1) {
    g.status = CheckStatus::kUnknown;
    state = fmt::format("unexpected ifAdminStatus {}", *row.admin_status);
  } else {
    switch (*row.oper_status) {
      case 1:
        state = "up";
        break;
      case 5:
        state = "dormant (waiting for traffic)";
        break;
      case 3:
        g.status = CheckStatus::kWarning;
        state = "in test mode while administratively up";
        break;
      case 4:
        g.status = CheckStatus::kUnknown;
        state = "operational status unknown";
        break;
      default:  // down, notPresent, lowerLayerDown
        g.status = CheckStatus::kCritical;
        state = fmt::format("LINK DOWN while administratively up (ifOperStatus {})",
                            OperStatusName(*row.oper_status));
        break;
    }
  }
  std::vector<std::string> facts;
  if (row.speed_mbps && *row.speed_mbps > 0 && row.oper_status == 1) {
    facts.push_back(*row.speed_mbps >= 1000 ? fmt::format("{:g} Gbit/s", *row.speed_mbps / 1000)
                                            : fmt::format("{:g} Mbit/s", *row.speed_mbps));
  }
  const double errors = row.in_errors.value_or(0) + row.out_errors.value_or(0);
  if (errors > 0) {
    facts.push_back(fmt::format("{:.0f} input / {:.0f} output errors since the counters reset",
                                row.in_errors.value_or(0), row.out_errors.value_or(0)));
  }
  if (!row.alias.empty()) facts.push_back(fmt::format("'{}'", row.alias));
  g.summary = state;
  if (!facts.empty()) g.summary += ", " + fmt::format("{}", fmt::join(facts, ", "));
  return g;
}

SnmpCheck::SnmpCheck(std::string name, SnmpCheckOptions options, std::shared_ptr<SnmpClient> client)
    : Check(std::move(name)), options_(std::move(options)), client_(std::move(client)) {}

std::string SnmpCheck::Host() const {
  const std::string& h = options_.target.host;
  const bool v6 = h.find(':') != std::string::npos;
  if (options_.target.port == 161) return v6 ? "[" + h + "]" : h;
  return v6 ? fmt::format("[{}]:{}", h, options_.target.port)
            : fmt::format("{}:{}", h, options_.target.port);
}

std::vector<std::string> SnmpCheck::FallbackTargets() const {
  std::vector<std::string> out;
  if (options_.profile == "ups-mib") out.push_back(Host() + "/ups");
  if (options_.profile == "if-mib") out.push_back(Host() + "/interfaces");
  for (const SnmpOidSpec& spec : options_.oids) out.push_back(Host() + "/" + spec.name);
  return out;
}

CheckResult SnmpCheck::Unknown(const CheckContext& ctx, const std::string& target,
                               const std::string& why) const {
  CheckResult r = NewResult(ctx, target);
  r.status = CheckStatus::kUnknown;
  r.summary = why;
  r.metrics.push_back({"snmp_up", {}, 0, ""});
  return r;
}

std::vector<CheckResult> SnmpCheck::Run(const CheckContext& ctx) {
  std::vector<CheckResult> results;
  auto unknown_all = [&](const std::string& why) {
    for (const std::string& target : FallbackTargets())
      results.push_back(Unknown(ctx, target, why));
    return results;
  };
  SnmpTarget target = options_.target;
  if (!options_.community_file.empty()) {
    auto s = ReadSecret(ctx.fs, options_.community_file, "community");
    if (!s.ok()) return unknown_all(s.status().message());
    target.community = *s;
  }
  if (!options_.auth_password_file.empty()) {
    auto s = ReadSecret(ctx.fs, options_.auth_password_file, "auth password");
    if (!s.ok()) return unknown_all(s.status().message());
    target.auth_password = *s;
  }
  if (!options_.priv_password_file.empty()) {
    auto s = ReadSecret(ctx.fs, options_.priv_password_file, "privacy password");
    if (!s.ok()) return unknown_all(s.status().message());
    target.priv_password = *s;
  }
  const auto deadline = DeadlineOr(ctx.deadline, kDefaultTimeout);
  auto session = client_->Open(target, deadline);
  if (!session.ok()) return unknown_all(session.status().message());
  if (options_.profile == "ups-mib") RunUpsMib(ctx, **session, &results);
  if (options_.profile == "if-mib") RunIfMib(ctx, **session, &results);
  RunOids(ctx, **session, &results);
  return results;
}

void SnmpCheck::RunOids(const CheckContext& ctx, SnmpSession& session,
                        std::vector<CheckResult>* results) {
  // Plain GETs go out together, a few per request.
  std::vector<const SnmpOidSpec*> gets;
  for (const SnmpOidSpec& spec : options_.oids) {
    if (!spec.walk) gets.push_back(&spec);
  }
  std::map<const SnmpOidSpec*, StatusOr<SnmpValue>> got;
  for (size_t i = 0; i < gets.size(); i += kOidsPerGet) {
    std::vector<Oid> oids;
    for (size_t j = i; j < std::min(gets.size(), i + kOidsPerGet); ++j)
      oids.push_back(gets[j]->oid);
    auto reply = session.Get(oids);
    for (size_t j = i; j < std::min(gets.size(), i + kOidsPerGet); ++j) {
      if (reply.ok()) {
        got.emplace(gets[j], (*reply)[j - i].value);
      } else {
        got.emplace(gets[j], reply.status());
      }
    }
  }

  for (const SnmpOidSpec& spec : options_.oids) {
    const std::string target = Host() + "/" + spec.name;
    const std::map<std::string, std::string> labels = {{"oid", FormatOid(spec.oid)},
                                                       {"name", spec.name}};
    if (!spec.walk) {
      const StatusOr<SnmpValue>& value = got.at(&spec);
      if (!value.ok()) {
        results->push_back(Unknown(ctx, target, value.status().message()));
        continue;
      }
      CheckResult r = NewResult(ctx, target);
      r.metrics.push_back({"snmp_up", {}, 1, ""});
      SnmpValueGrade g = GradeSnmpValue(spec, *value);
      if (g.number) r.metrics.push_back(Metric{"snmp_value", labels, *g.number, spec.unit});
      r.status = g.status;
      r.summary = fmt::format("{} = {}", spec.name, g.text);
      r.details_json = nlohmann::json{{"oid", FormatOid(spec.oid)}, {"value", value->text}}.dump();
      results->push_back(std::move(r));
      continue;
    }
    auto rows = session.Walk(spec.oid, kMaxWalkRows);
    if (!rows.ok()) {
      results->push_back(Unknown(ctx, target, rows.status().message()));
      continue;
    }
    CheckResult r = NewResult(ctx, target);
    r.metrics.push_back({"snmp_up", {}, 1, ""});
    if (rows->empty()) {
      r.status = CheckStatus::kUnknown;
      r.summary = fmt::format("{}: nothing below {}", spec.name, FormatOid(spec.oid));
      results->push_back(std::move(r));
      continue;
    }
    CheckStatus worst = CheckStatus::kOk;
    std::vector<std::string> listed;
    size_t problems = 0;
    for (const SnmpVarBind& vb : *rows) {
      const std::string index = FormatOid(
          Oid(vb.oid.begin() + static_cast<std::ptrdiff_t>(spec.oid.size()), vb.oid.end()));
      SnmpValueGrade g = GradeSnmpValue(spec, vb.value);
      if (g.number) {
        std::map<std::string, std::string> row_labels = labels;
        row_labels["index"] = index;
        r.metrics.push_back(Metric{"snmp_value", std::move(row_labels), *g.number, spec.unit});
      }
      worst = protocol::WorseStatus(worst, g.status);
      if (g.status != CheckStatus::kOk) {
        ++problems;
        if (listed.size() < kRowsListed) listed.push_back(fmt::format(".{} = {}", index, g.text));
      }
    }
    r.status = worst;
    if (problems == 0) {
      r.summary = fmt::format("{}: {} value{}, all ok", spec.name, rows->size(),
                              rows->size() == 1 ? "" : "s");
    } else {
      r.summary = fmt::format("{}: {} of {} value{} not ok: {}{}", spec.name, problems,
                              rows->size(), rows->size() == 1 ? "" : "s", fmt::join(listed, ", "),
                              problems > listed.size() ? ", ..." : "");
    }
    r.details_json = nlohmann::json{{"oid", FormatOid(spec.oid)}, {"rows", rows->size()}}.dump();
    results->push_back(std::move(r));
  }
}

void SnmpCheck::RunUpsMib(const CheckContext& ctx, SnmpSession& session,
                          std::vector<CheckResult>* results) {
  const std::string target = Host() + "/ups";
  const std::vector<Oid> scalars = {upsmib::kOutputSource,
                                    upsmib::kBatteryStatus,
                                    upsmib::kEstimatedChargeRemaining,
                                    upsmib::kEstimatedMinutesRemaining,
                                    upsmib::kSecondsOnBattery,
                                    upsmib::kBatteryTemperature,
                                    upsmib::kAlarmsPresent,
                                    upsmib::kIdentModel,
                                    upsmib::kIdentName};
  auto got = session.Get(scalars);
  if (!got.ok()) {
    results->push_back(Unknown(ctx, target, got.status().message()));
    return;
  }
  UpsMibReading reading;
  for (size_t i = 0; i < scalars.size(); ++i) reading.scalars[scalars[i]] = (*got)[i].value;
  for (auto [column, rows] : {std::pair{&upsmib::kInputVoltage, &reading.input_voltage},
                              std::pair{&upsmib::kOutputVoltage, &reading.output_voltage},
                              std::pair{&upsmib::kOutputPercentLoad, &reading.output_load}}) {
    auto walked = session.Walk(*column, 64);
    if (!walked.ok()) {
      results->push_back(Unknown(ctx, target, walked.status().message()));
      return;
    }
    *rows = std::move(walked).value();
  }
  auto state = UpsStateFromUpsMib(reading);
  if (!state.ok()) {
    CheckResult r = Unknown(ctx, target, state.status().message());
    r.metrics = {{"snmp_up", {}, 1, ""}};
    results->push_back(std::move(r));
    return;
  }
  UpsGrade g = GradeUps(*state, options_.ups_thresholds);
  CheckResult r = NewResult(ctx, target);
  r.status = g.status;
  r.summary = std::move(g.summary);
  r.metrics.push_back({"snmp_up", {}, 1, ""});
  for (Metric& m : g.metrics) r.metrics.push_back(std::move(m));
  nlohmann::json details = {{"status", state->raw_status}};
  if (std::string model = TextOf(reading.scalars, upsmib::kIdentModel); !model.empty()) {
    details["model"] = model;
  }
  if (std::string name = TextOf(reading.scalars, upsmib::kIdentName); !name.empty()) {
    details["name"] = name;
  }
  r.details_json = details.dump();
  results->push_back(std::move(r));
}

void SnmpCheck::RunIfMib(const CheckContext& ctx, SnmpSession& session,
                         std::vector<CheckResult>* results) {
  std::map<Oid, std::vector<SnmpVarBind>> columns;
  for (const Oid* column :
       {&ifmib::kIfDescr, &ifmib::kIfName, &ifmib::kIfAlias, &ifmib::kIfAdminStatus,
        &ifmib::kIfOperStatus, &ifmib::kIfHCInOctets, &ifmib::kIfHCOutOctets, &ifmib::kIfInErrors,
        &ifmib::kIfOutErrors, &ifmib::kIfHighSpeed}) {
    auto walked = session.Walk(*column, kMaxWalkRows);
    if (!walked.ok()) {
      results->push_back(Unknown(ctx, Host() + "/interfaces", walked.status().message()));
      return;
    }
    columns[*column] = std::move(walked).value();
  }
  std::vector<IfMibRow> rows = BuildIfMibRows(columns);
  std::set<std::string> seen;
  size_t reported = 0;
  for (const IfMibRow& row : rows) {
    if (!options_.interfaces.empty() &&
        std::none_of(options_.interfaces.begin(), options_.interfaces.end(),
                     [&](const std::string& p) { return NameMatches(p, row.name); })) {
      continue;
    }
    seen.insert(row.name);
    ++reported;
    CheckResult r = NewResult(ctx, Host() + "/" + row.name);
    IfGrade g = GradeIfMibRow(row);
    r.status = g.status;
    r.summary = std::move(g.summary);
    const std::map<std::string, std::string> labels = {{"device", row.name},
                                                       {"ifIndex", std::to_string(row.index)}};
    r.metrics.push_back({"snmp_up", {}, 1, ""});
    if (row.oper_status) {
      r.metrics.push_back({"snmp_if_up", labels, *row.oper_status == 1 ? 1.0 : 0.0, ""});
    }
    if (row.admin_status) {
      r.metrics.push_back({"snmp_if_admin_up", labels, *row.admin_status == 1 ? 1.0 : 0.0, ""});
    }
    if (row.in_octets) {
      r.metrics.push_back({"snmp_if_receive_bytes_total", labels, *row.in_octets, "bytes"});
    }
    if (row.out_octets) {
      r.metrics.push_back({"snmp_if_transmit_bytes_total", labels, *row.out_octets, "bytes"});
    }
    if (row.in_errors)
      r.metrics.push_back({"snmp_if_receive_errs_total", labels, *row.in_errors, ""});
    if (row.out_errors) {
      r.metrics.push_back({"snmp_if_transmit_errs_total", labels, *row.out_errors, ""});
    }
    if (row.speed_mbps) {
      r.metrics.push_back({"snmp_if_speed_bytes", labels, *row.speed_mbps * 125'000.0, "bytes"});
    }
    nlohmann::json details = {{"ifIndex", row.index}, {"ifDescr", row.descr}};
    if (!row.alias.empty()) details["ifAlias"] = row.alias;
    if (row.admin_status) details["ifAdminStatus"] = *row.admin_status;
    if (row.oper_status) details["ifOperStatus"] = *row.oper_status;
    r.details_json = details.dump();
    results->push_back(std::move(r));
  }
  // An interface named exactly in the config that the agent does not list.
  for (const std::string& p : options_.interfaces) {
    if (p.empty() || p.back() == '*' || seen.count(p) != 0) continue;
    CheckResult r = NewResult(ctx, Host() + "/" + p);
    r.status = CheckStatus::kUnknown;
    r.summary = p + " is not in the agent's interface table";
    r.metrics.push_back({"snmp_up", {}, 1, ""});
    results->push_back(std::move(r));
    ++reported;
  }
  if (reported == 0) {
    CheckResult r = NewResult(ctx, Host() + "/interfaces");
    r.status = CheckStatus::kUnknown;
    r.summary = rows.empty() ? "the agent lists no interfaces (no IF-MIB?)"
                             : "no interface matched the interfaces setting";
    r.metrics.push_back({"snmp_up", {}, 1, ""});
    results->push_back(std::move(r));
  }
}

StatusOr<std::unique_ptr<Check>> NewSnmpCheck(const CheckSpec& spec) {
  return NewSnmpCheckWithClient(spec, std::shared_ptr<SnmpClient>(NewNetSnmpClient()));
}

StatusOr<std::unique_ptr<Check>> NewSnmpCheckWithClient(const CheckSpec& spec,
                                                        std::shared_ptr<SnmpClient> client) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"host", "port", "version", "community_file", "username", "security_level",
                "auth_protocol", "auth_password_file", "priv_protocol", "priv_password_file",
                "context", "retries", "profile", "interfaces", "oids"});
  known.insert(known.end(), UpsThresholdKeys().begin(), UpsThresholdKeys().end());
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  SnmpCheckOptions o;
  SnmpTarget& t = o.target;
  SF_ASSIGN_OR_RETURN(t.host, n["host"].RequiredString());
  SF_ASSIGN_OR_RETURN(int64_t port, n["port"].Int(161, 1, 65535));
  t.port = static_cast<uint16_t>(port);
  SF_ASSIGN_OR_RETURN(std::string version, n["version"].Enum({"2c", "3"}, "2c"));
  auto absolute = [&](const char* key, std::string* out) -> Status {
    SF_ASSIGN_OR_RETURN(*out, n[key].String(""));
    if (n[key].present() && (out->empty() || (*out)[0] != '/')) {
      return n[key].Error("expected an absolute path");
    }
    return OkStatus();
  };
  if (version == "2c") {
    t.version = SnmpTarget::Version::kV2c;
    for (const char* key : {"username", "security_level", "auth_protocol", "auth_password_file",
                            "priv_protocol", "priv_password_file", "context"}) {
      if (n[key].present()) return n[key].Error("only for version: 3");
    }
    SF_RETURN_IF_ERROR(absolute("community_file", &o.community_file));
  } else {
    t.version = SnmpTarget::Version::kV3;
    if (n["community_file"].present()) return n["community_file"].Error("only for version: 2c");
    SF_ASSIGN_OR_RETURN(t.username, n["username"].RequiredString());
    SF_ASSIGN_OR_RETURN(
        std::string level,
        n["security_level"].Enum({"noAuthNoPriv", "authNoPriv", "authPriv"}, "authPriv"));
    t.security_level = level == "noAuthNoPriv" ? SnmpTarget::SecurityLevel::kNoAuthNoPriv
                       : level == "authNoPriv" ? SnmpTarget::SecurityLevel::kAuthNoPriv
                                               : SnmpTarget::SecurityLevel::kAuthPriv;
    SF_ASSIGN_OR_RETURN(
        std::string auth,
        n["auth_protocol"].Enum({"MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}, "SHA"));
    static const std::map<std::string, SnmpTarget::AuthProtocol> kAuth = {
        {"MD5", SnmpTarget::AuthProtocol::kMd5},
        {"SHA", SnmpTarget::AuthProtocol::kSha1},
        {"SHA-224", SnmpTarget::AuthProtocol::kSha224},
        {"SHA-256", SnmpTarget::AuthProtocol::kSha256},
        {"SHA-384", SnmpTarget::AuthProtocol::kSha384},
        {"SHA-512", SnmpTarget::AuthProtocol::kSha512}};
    t.auth_protocol = kAuth.at(auth);
    SF_ASSIGN_OR_RETURN(std::string priv,
                        n["priv_protocol"].Enum(
                            {"DES", "AES", "AES-192", "AES-256", "AES-192-C", "AES-256-C"}, "AES"));
    static const std::map<std::string, SnmpTarget::PrivProtocol> kPriv = {
        {"DES", SnmpTarget::PrivProtocol::kDes},
        {"AES", SnmpTarget::PrivProtocol::kAes128},
        {"AES-192", SnmpTarget::PrivProtocol::kAes192},
        {"AES-256", SnmpTarget::PrivProtocol::kAes256},
        {"AES-192-C", SnmpTarget::PrivProtocol::kAes192Cisco},
        {"AES-256-C", SnmpTarget::PrivProtocol::kAes256Cisco}};
    t.priv_protocol = kPriv.at(priv);
    SF_RETURN_IF_ERROR(absolute("auth_password_file", &o.auth_password_file));
    SF_RETURN_IF_ERROR(absolute("priv_password_file", &o.priv_password_file));
    const bool needs_auth = t.security_level != SnmpTarget::SecurityLevel::kNoAuthNoPriv;
    const bool needs_priv = t.security_level == SnmpTarget::SecurityLevel::kAuthPriv;
    if (needs_auth && o.auth_password_file.empty()) {
      return n["auth_password_file"].Error("required for security_level " + level);
    }
    if (!needs_auth && n["auth_password_file"].present()) {
      return n["auth_password_file"].Error("not used with security_level noAuthNoPriv");
    }
    if (needs_priv && o.priv_password_file.empty()) {
      return n["priv_password_file"].Error("required for security_level authPriv");
    }
    if (!needs_priv && n["priv_password_file"].present()) {
      return n["priv_password_file"].Error("only used with security_level authPriv");
    }
    SF_ASSIGN_OR_RETURN(t.context, n["context"].String(""));
  }
  SF_ASSIGN_OR_RETURN(int64_t retries, n["retries"].Int(1, 0, 5));
  t.retries = static_cast<int>(retries);

  if (n["profile"].present()) {
    SF_ASSIGN_OR_RETURN(o.profile, n["profile"].Enum({"ups-mib", "if-mib"}, ""));
  }
  SF_ASSIGN_OR_RETURN(o.interfaces, n["interfaces"].StringList());
  if (n["interfaces"].present() && o.profile != "if-mib") {
    return n["interfaces"].Error("only for profile: if-mib");
  }
  for (const std::string& key : UpsThresholdKeys()) {
    if (n[key].present() && o.profile != "ups-mib") {
      return n[key].Error("only for profile: ups-mib");
    }
  }
  SF_ASSIGN_OR_RETURN(o.ups_thresholds, ReadUpsThresholds(n));

  SF_ASSIGN_OR_RETURN(std::vector<config::ConfigNode> items, n["oids"].Items());
  std::set<std::string> names;
  for (const config::ConfigNode& item : items) {
    SF_RETURN_IF_ERROR(item.CheckNoUnknownKeys({"oid", "name", "walk", "scale", "unit",
                                                "warning_above", "critical_above", "warning_below",
                                                "critical_below", "expect", "expect_status"}));
    SnmpOidSpec s;
    SF_ASSIGN_OR_RETURN(std::string oid_text, item["oid"].RequiredString());
    auto oid = ParseOid(oid_text);
    if (!oid.ok()) return item["oid"].Error(oid.status().message());
    s.oid = *oid;
    SF_ASSIGN_OR_RETURN(s.name, item["name"].String(FormatOid(s.oid)));
    if (s.name.empty() || s.name.find_first_of(" \t\n/") != std::string::npos) {
      return item["name"].Error("a name has no spaces or slashes");
    }
    if (!names.insert(s.name).second) {
      return (item["name"].present() ? item["name"] : item["oid"])
          .Error(fmt::format("'{}' is listed twice (give each entry its own name)", s.name));
    }
    SF_ASSIGN_OR_RETURN(s.walk, item["walk"].Bool(false));
    SF_ASSIGN_OR_RETURN(s.scale, item["scale"].Double(1.0));
    SF_ASSIGN_OR_RETURN(s.unit, item["unit"].String(""));
    for (auto [key, field] : {std::pair{"warning_above", &s.warning_above},
                              std::pair{"critical_above", &s.critical_above},
                              std::pair{"warning_below", &s.warning_below},
                              std::pair{"critical_below", &s.critical_below}}) {
      if (item[key].present()) {
        SF_ASSIGN_OR_RETURN(double v, item[key].Double(0));
        *field = v;
      }
    }
    if (s.warning_above && s.critical_above && *s.warning_above > *s.critical_above) {
      return item["warning_above"].Error("must not be above critical_above");
    }
    if (s.warning_below && s.critical_below && *s.warning_below < *s.critical_below) {
      return item["warning_below"].Error("must not be below critical_below");
    }
    if (item["expect"].IsList()) {
      SF_ASSIGN_OR_RETURN(s.expect, item["expect"].StringList());
      if (s.expect.empty()) return item["expect"].Error("an empty list accepts nothing");
    } else if (item["expect"].present()) {
      SF_ASSIGN_OR_RETURN(std::string e, item["expect"].String());
      s.expect.push_back(e);
    }
    SF_ASSIGN_OR_RETURN(std::string es,
                        item["expect_status"].Enum({"critical", "warning"}, "critical"));
    if (item["expect_status"].present() && s.expect.empty()) {
      return item["expect_status"].Error("only used with expect");
    }
    s.expect_status = es == "warning" ? CheckStatus::kWarning : CheckStatus::kCritical;
    o.oids.push_back(std::move(s));
  }
  if (o.profile.empty() && o.oids.empty()) {
    return n["oids"].Error("an snmp check needs a profile (ups-mib, if-mib) or oids to read");
  }
  return std::unique_ptr<Check>(
      std::make_unique<SnmpCheck>(spec.name, std::move(o), std::move(client)));
}

}  // namespace steadfast::agent
