// On-call schedules and escalation policies as documents: read from the config file's
// `alerting.schedules` / `alerting.escalation_policies` items, or from the JSON the API takes
// (the same fields; alerting_config.h shows them), and written back as that JSON. The API's
// own schedules and policies are kept in collector.db and added to the file's by
// MergeOncall, which checks that every name a policy or route uses exists.
#pragma once

#include <string>
#include <vector>

#include "alerting/alerting_config.h"
#include "alerting/escalation.h"
#include "alerting/oncall.h"
#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::alerting {

// Reads and validates one schedule item.
StatusOr<Schedule> ParseSchedule(const config::ConfigNode& node);
// Reads one policy item; the schedules its tiers name must be in `schedules`.
StatusOr<EscalationPolicy> ParsePolicy(const config::ConfigNode& node, const std::vector<Schedule>& schedules);

// The same from a JSON (or YAML) text; `source` names it in errors ("request body").
StatusOr<Schedule> ParseScheduleText(const std::string& text, const std::string& source);
StatusOr<EscalationPolicy> ParsePolicyText(const std::string& text, const std::string& source,
                                           const std::vector<Schedule>& schedules);

// Their JSON, in the form the parsers take back.
std::string ScheduleJsonText(const Schedule& s);
std::string PolicyJsonText(const EscalationPolicy& p);

// `base` (the config file's section) with `schedules` and `policies` added. Errors
// (FailedPrecondition) when a name is taken twice, a policy names a schedule or receiver that
// does not exist, a route names a policy that does not exist, or tiers page people and
// there is no alerting.user_email.
StatusOr<AlertingConfig> MergeOncall(AlertingConfig base, std::vector<Schedule> schedules,
                                     std::vector<EscalationPolicy> policies);

// The checks of MergeOncall on a whole config.
Status CheckOncallReferences(const AlertingConfig& c);

}  // namespace steadfast::alerting
