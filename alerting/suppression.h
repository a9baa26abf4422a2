// What keeps an active alert from being notified: silences (maintenance windows) and inhibition.
// Both are pure: an alert stays in the book and keeps its lifecycle (it still resolves, and a
// resolution of an alert notified as firing is still notified); the notifier asks these whether
// to send.
//
// A silence matches alerts by label matchers and is active in a window: one-off (starts/ends)
// or recurring weekly (days, a local start time and a duration in an IANA time zone, correct
// across DST changes), optionally bounded by starts/ends. It records who made it and why.
//
// An inhibition rule (Alertmanager's semantics): while an alert matching `source` is firing,
// alerts matching `target` that have the same values for the `equal` labels are inhibited; an
// alert never inhibits itself. E.g. a site's uplink down inhibits the alerts of the hosts
// behind it; a UPS on battery inhibits the power alerts of its room.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alerting/evaluator.h"
#include "alerting/labels.h"
#include "common/status.h"

namespace steadfast::alerting {

struct WeeklyRecurrence {
  unsigned days = 0;        // bit 0 = Monday ... bit 6 = Sunday
  int start_minute = 0;     // local time of day the window opens, minutes after midnight
  int64_t duration_ms = 0;  // may run past midnight
  std::string time_zone;    // IANA name, e.g. Asia/Shanghai
};

struct Silence {
  std::string id;
  std::vector<Matcher> matchers;
  int64_t starts_ms = 0;  // one-off: the window; recurring: the bounds (0 = unbounded)
  int64_t ends_ms = 0;
  std::optional<WeeklyRecurrence> weekly;
  std::string created_by;
  std::string comment;
};

// Parses "mon,tue,fri" / "mon-fri" / "daily" and "HH:MM"; errors say what is wrong.
StatusOr<unsigned> ParseWeekdays(const std::string& text);
StatusOr<int> ParseTimeOfDay(const std::string& text);
// Validates a silence: matchers present, window sensible, time zone known.
Status ValidateSilence(const Silence& s);

// Whether the silence's window contains `now_ms`.
bool SilenceActiveAt(const Silence& s, int64_t now_ms);
// The ids of the active silences that match `labels`.
std::vector<std::string> SilencedBy(const std::vector<Silence>& silences, const Labels& labels,
                                    int64_t now_ms);

// The fingerprints of the active alerts that a firing alert inhibits (InhibitRule: rules.h).
std::set<std::string> Inhibited(const AlertBook& book, const std::vector<InhibitRule>& rules);

}  // namespace steadfast::alerting
