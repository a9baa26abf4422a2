#include "alerting/oncall_config.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <set>

#include "alerting/suppression.h"
#include "common/clock.h"

namespace steadfast::alerting {
namespace {

using config::ConfigNode;
using nlohmann::json;

constexpr int64_t kDay = 86'400'000;

StatusOr<unsigned> IsoWeekday(const ConfigNode& n) {
  SF_ASSIGN_OR_RETURN(std::string day, n.Enum({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "mon"));
  static const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (unsigned i = 0; i < 7; ++i) {
    if (day == kDays[i]) return i + 1;
  }
  return 1u;
}

Status ReadRotation(const ConfigNode& n, Rotation* out) {
  if (!n.IsMap()) return n.Error("expected a rotation: members, handoff, every, handoff_day, start_date");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"members", "handoff", "every", "handoff_day", "start_date"}));
  SF_ASSIGN_OR_RETURN(out->members, n["members"].StringList());
  if (out->members.empty()) return n["members"].Error("at least one member");
  SF_ASSIGN_OR_RETURN(std::string handoff, n["handoff"].String("09:00"));
  StatusOr<int> minute = ParseTimeOfDay(handoff);
  if (!minute.ok()) return n["handoff"].Error(minute.status().message());
  out->handoff_minute = *minute;
  SF_ASSIGN_OR_RETURN(std::string every, n["every"].Enum({"day", "week"}, "day"));
  out->weekly = every == "week";
  if (n["handoff_day"].present() && !out->weekly) return n["handoff_day"].Error("only for every: week");
  SF_ASSIGN_OR_RETURN(out->handoff_weekday, IsoWeekday(n["handoff_day"]));
  SF_ASSIGN_OR_RETURN(out->start_date, n["start_date"].RequiredString());
  return OkStatus();
}

}  // namespace

StatusOr<Schedule> ParseSchedule(const ConfigNode& n) {
  Schedule sched;
  Schedule* out = &sched;
  if (!n.IsMap()) return n.Error("expected a schedule: name, time_zone, working, days_off, holidays, overrides");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"name", "time_zone", "working", "days_off", "holidays", "overrides"}));
  SF_ASSIGN_OR_RETURN(out->name, n["name"].RequiredString());
  SF_ASSIGN_OR_RETURN(out->time_zone, n["time_zone"].String("UTC"));
  if (!n["working"].present()) return n["working"].Error("required: the working-day rotation");
  SF_RETURN_IF_ERROR(ReadRotation(n["working"], &out->working));
  if (n["days_off"].present()) {
    Rotation r;
    SF_RETURN_IF_ERROR(ReadRotation(n["days_off"], &r));
    out->days_off = std::move(r);
  }
  const ConfigNode h = n["holidays"];
  SF_RETURN_IF_ERROR(h.CheckNoUnknownKeys({"days_off", "working_days"}));
  SF_ASSIGN_OR_RETURN(std::vector<std::string> off, h["days_off"].StringList());
  SF_ASSIGN_OR_RETURN(std::vector<std::string> working, h["working_days"].StringList());
  out->calendar.days_off.insert(off.begin(), off.end());
  out->calendar.working_days.insert(working.begin(), working.end());
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> overrides, n["overrides"].Items());
  for (const ConfigNode& o : overrides) {
    SF_RETURN_IF_ERROR(o.CheckNoUnknownKeys({"user", "starts_at", "ends_at"}));
    Override ov;
    SF_ASSIGN_OR_RETURN(ov.user, o["user"].RequiredString());
    for (const char* key : {"starts_at", "ends_at"}) {
      SF_ASSIGN_OR_RETURN(std::string text, o[key].RequiredString());
      StatusOr<int64_t> t = ParseRfc3339Millis(text);
      if (!t.ok()) return o[key].Error("expected an RFC 3339 time, got '" + text + "'");
      (std::string(key) == "starts_at" ? ov.starts_ms : ov.ends_ms) = *t;
    }
    out->overrides.push_back(std::move(ov));
  }
  Status valid = ValidateSchedule(*out);
  if (!valid.ok()) return n.Error(valid.message());
  return sched;
}

StatusOr<EscalationPolicy> ParsePolicy(const ConfigNode& n, const std::vector<Schedule>& schedules) {
  EscalationPolicy policy;
  EscalationPolicy* out = &policy;
  if (!n.IsMap()) return n.Error("expected a policy: name, tiers, repeat, repeat_after");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"name", "tiers", "repeat", "repeat_after"}));
  SF_ASSIGN_OR_RETURN(out->name, n["name"].RequiredString());
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> tiers, n["tiers"].Items());
  for (const ConfigNode& t : tiers) {
    SF_RETURN_IF_ERROR(t.CheckNoUnknownKeys({"after", "schedules", "users", "receivers"}));
    EscalationTier tier;
    SF_ASSIGN_OR_RETURN(tier.after_ms, t["after"].DurationMillis(0, 0, 7 * kDay));
    SF_ASSIGN_OR_RETURN(tier.schedules, t["schedules"].StringList());
    SF_ASSIGN_OR_RETURN(tier.users, t["users"].StringList());
    SF_ASSIGN_OR_RETURN(tier.receivers, t["receivers"].StringList());
    out->tiers.push_back(std::move(tier));
  }
  SF_ASSIGN_OR_RETURN(int64_t repeat, n["repeat"].Int(0, 0, 100));
  out->repeat = static_cast<int>(repeat);
  SF_ASSIGN_OR_RETURN(out->repeat_after_ms, n["repeat_after"].DurationMillis(0, 0, 7 * kDay));
  Status valid = ValidateEscalationPolicy(*out, schedules);
  if (!valid.ok()) return n.Error(valid.message());
  return policy;
}


StatusOr<Schedule> ParseScheduleText(const std::string& text, const std::string& source) {
  SF_ASSIGN_OR_RETURN(config::ConfigDocument doc, config::ConfigDocument::Parse(text, source));
  return ParseSchedule(doc.root());
}

StatusOr<EscalationPolicy> ParsePolicyText(const std::string& text, const std::string& source,
                                           const std::vector<Schedule>& schedules) {
  SF_ASSIGN_OR_RETURN(config::ConfigDocument doc, config::ConfigDocument::Parse(text, source));
  return ParsePolicy(doc.root(), schedules);
}

namespace {

const char* kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string TimeOfDay(int minute) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

// The largest whole unit, as DurationMillis reads it back.
std::string Duration(int64_t ms) {
  if (ms == 0) return "0s";
  if (ms % kDay == 0) return std::to_string(ms / kDay) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1'000 == 0) return std::to_string(ms / 1'000) + "s";
  return std::to_string(ms) + "ms";
}

json RotationJson(const Rotation& r) {
  json j = {{"members", r.members},
            {"handoff", TimeOfDay(r.handoff_minute)},
            {"every", r.weekly ? "week" : "day"},
            {"start_date", r.start_date}};
  if (r.weekly && r.handoff_weekday >= 1 && r.handoff_weekday <= 7) j["handoff_day"] = kWeekdays[r.handoff_weekday - 1];
  return j;
}

void CollectPolicies(const Route& node, std::vector<std::pair<std::string, std::string>>* out) {
  if (!node.escalation_policy.empty()) out->emplace_back(node.escalation_policy, node.path);
  for (const Route& c : node.routes) CollectPolicies(c, out);
}

}  // namespace

std::string ScheduleJsonText(const Schedule& s) {
  json j = {{"name", s.name}, {"time_zone", s.time_zone}, {"working", RotationJson(s.working)}};
  if (s.days_off) j["days_off"] = RotationJson(*s.days_off);
  if (!s.calendar.days_off.empty() || !s.calendar.working_days.empty()) {
    j["holidays"] = {{"days_off", s.calendar.days_off}, {"working_days", s.calendar.working_days}};
  }
  if (!s.overrides.empty()) {
    json list = json::array();
    for (const Override& o : s.overrides) {
      list.push_back({{"user", o.user}, {"starts_at", FormatRfc3339Millis(o.starts_ms)}, {"ends_at", FormatRfc3339Millis(o.ends_ms)}});
    }
    j["overrides"] = std::move(list);
  }
  return j.dump();
}

std::string PolicyJsonText(const EscalationPolicy& p) {
  json tiers = json::array();
  for (const EscalationTier& t : p.tiers) {
    json tier = {{"after", Duration(t.after_ms)}};
    if (!t.schedules.empty()) tier["schedules"] = t.schedules;
    if (!t.users.empty()) tier["users"] = t.users;
    if (!t.receivers.empty()) tier["receivers"] = t.receivers;
    tiers.push_back(std::move(tier));
  }
  json j = {{"name", p.name}, {"tiers", std::move(tiers)}};
  if (p.repeat > 0) {
    j["repeat"] = p.repeat;
    j["repeat_after"] = Duration(p.repeat_after_ms);
  }
  return j.dump();
}

Status CheckOncallReferences(const AlertingConfig& c) {
  std::set<std::string> schedules;
  for (const Schedule& s : c.schedules) {
    if (!schedules.insert(s.name).second) return FailedPreconditionError("a second schedule named '" + s.name + "'");
  }
  std::set<std::string> policies;
  bool pages_people = false;
  for (const EscalationPolicy& p : c.escalation_policies) {
    if (!policies.insert(p.name).second) return FailedPreconditionError("a second escalation policy named '" + p.name + "'");
    Status valid = ValidateEscalationPolicy(p, c.schedules);
    if (!valid.ok()) return FailedPreconditionError("escalation policy '" + p.name + "': " + valid.message());
    for (size_t i = 0; i < p.tiers.size(); ++i) {
      pages_people = pages_people || !p.tiers[i].users.empty() || !p.tiers[i].schedules.empty();
      for (const std::string& r : p.tiers[i].receivers) {
        if (c.FindReceiver(r) == nullptr) {
          return FailedPreconditionError("escalation policy '" + p.name + "', tier " + std::to_string(i + 1) +
                                         ": receiver '" + r + "' is not among alerting.receivers");
        }
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> used;
  CollectPolicies(c.route, &used);
  for (const auto& [policy, path] : used) {
    if (policies.count(policy) == 0) {
      return FailedPreconditionError(path + ": escalation_policy '" + policy +
                                     "' is neither in alerting.escalation_policies nor made through the API");
    }
  }
  if (pages_people && !c.user_email) {
    return FailedPreconditionError("alerting.user_email is required: escalation tiers page people (users, schedules), who are emailed");
  }
  return OkStatus();
}

StatusOr<AlertingConfig> MergeOncall(AlertingConfig base, std::vector<Schedule> schedules,
                                     std::vector<EscalationPolicy> policies) {
  for (Schedule& s : schedules) base.schedules.push_back(std::move(s));
  for (EscalationPolicy& p : policies) base.escalation_policies.push_back(std::move(p));
  SF_RETURN_IF_ERROR(CheckOncallReferences(base));
  return base;
}

}  // namespace steadfast::alerting
