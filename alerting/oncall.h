// On-call schedules: who is on call at a given time. Pure; the API and escalation ask it.
//
// A schedule has a rotation for working days and, optionally, one for days off (weekends and
// holidays): a rotation is members taking turns, a shift changing at a local time of day, daily
// or weekly (on a given weekday), in an IANA time zone. Shifts are counted in local calendar
// days, so a handoff at 09:00 stays at 09:00 local time across DST changes. A holiday calendar
// says which dates are days off besides weekends and which weekend dates are working days
// (China's make-up working days, 调休). Overrides (a person covering a period) win over both.
// A shift belongs to the date it began on: the night after a working day is that working
// day's shift. With both rotations, each counts turns only on the days it covers, and both hand
// over at the same time.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace steadfast::alerting {

struct Rotation {
  std::vector<std::string> members;  // in turn order
  bool weekly = false;               // daily shifts otherwise
  unsigned handoff_weekday = 1;      // weekly: ISO weekday of the handoff, 1 = Monday .. 7
  int handoff_minute = 9 * 60;       // local time of the handoff, minutes after midnight
  std::string start_date;            // YYYY-MM-DD: the shift starting that date is members[0]'s
};

struct HolidayCalendar {
  std::set<std::string> days_off;      // YYYY-MM-DD besides Saturdays and Sundays
  std::set<std::string> working_days;  // YYYY-MM-DD Saturdays or Sundays that are working days
};

struct Override {
  std::string user;
  int64_t starts_ms = 0;
  int64_t ends_ms = 0;
};

struct Schedule {
  std::string name;
  std::string time_zone = "UTC";
  Rotation working;                 // required
  std::optional<Rotation> days_off;  // unset: `working` covers every day
  HolidayCalendar calendar;
  std::vector<Override> overrides;
};

// Checks members, times, dates and the time zone; the error says what is wrong.
Status ValidateSchedule(const Schedule& s);

struct OnCall {
  std::string user;
  bool overridden = false;
  int64_t shift_start_ms = 0;  // when this person's shift (or override) began
};

// Who is on call at `at_ms`. The schedule must be valid.
StatusOr<OnCall> OnCallAt(const Schedule& s, int64_t at_ms);

}  // namespace steadfast::alerting
