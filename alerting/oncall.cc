#include "alerting/oncall.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "alerting/time_zone.h"

namespace steadfast::alerting {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

StatusOr<date::local_days> ParseDay(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &extra) != 3 || text.size() != 10) {
    return InvalidArgumentError(fmt::format("date '{}': expected YYYY-MM-DD", text));
  }
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return InvalidArgumentError(fmt::format("date '{}' does not exist", text));
  return date::local_days{ymd};
}

std::string DayText(date::local_days day) {
  const date::year_month_day ymd{day};
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

bool IsWorkingDay(const HolidayCalendar& c, date::local_days day) {
  const std::string text = DayText(day);
  if (c.working_days.count(text)) return true;
  if (c.days_off.count(text)) return false;
  return date::weekday(day).iso_encoding() <= 5;
}

// The local date a shift that covers `local` began on, for handoffs at `handoff_minute`.
date::local_days ShiftDay(date::local_time<milliseconds> local, int handoff_minute) {
  return date::floor<date::days>(local - minutes(handoff_minute));
}

int64_t PositiveModulo(int64_t n, int64_t m) { return ((n % m) + m) % m; }

Status ValidateRotation(const Rotation& r, const char* which) {
  if (r.members.empty()) return InvalidArgumentError(fmt::format("{} rotation: no members", which));
  for (const std::string& m : r.members) {
    if (m.empty()) return InvalidArgumentError(fmt::format("{} rotation: an empty member name", which));
  }
  if (r.handoff_minute < 0 || r.handoff_minute >= 24 * 60) {
    return InvalidArgumentError(fmt::format("{} rotation: handoff time out of the day", which));
  }
  if (r.weekly && (r.handoff_weekday < 1 || r.handoff_weekday > 7)) {
    return InvalidArgumentError(fmt::format("{} rotation: handoff weekday is 1 (Monday) to 7", which));
  }
  auto start = ParseDay(r.start_date);
  if (!start.ok()) return start.status().WithContext(std::string(which) + " rotation: start_date");
  return OkStatus();
}

}  // namespace

Status ValidateSchedule(const Schedule& s) {
  if (FindTimeZone(s.time_zone) == nullptr) {
    return InvalidArgumentError(fmt::format(
        "schedule {}: unknown time zone '{}' (an IANA name, like Asia/Shanghai)", s.name, s.time_zone));
  }
  SF_RETURN_IF_ERROR(ValidateRotation(s.working, "working-day").WithContext("schedule " + s.name));
  if (s.days_off) {
    SF_RETURN_IF_ERROR(ValidateRotation(*s.days_off, "day-off").WithContext("schedule " + s.name));
    // Both rotations hand over at the same time, so that a day belongs to exactly one of them.
    if (s.days_off->handoff_minute != s.working.handoff_minute) {
      return InvalidArgumentError(fmt::format(
          "schedule {}: the day-off rotation must hand over at the working-day rotation's time", s.name));
    }
  }
  for (const auto* days : {&s.calendar.days_off, &s.calendar.working_days}) {
    for (const std::string& d : *days) {
      auto day = ParseDay(d);
      if (!day.ok()) return day.status().WithContext("schedule " + s.name + ": holiday calendar");
    }
  }
  for (const Override& o : s.overrides) {
    if (o.user.empty() || o.ends_ms <= o.starts_ms) {
      return InvalidArgumentError(
          fmt::format("schedule {}: an override needs a user and must end after it starts", s.name));
    }
  }
  return OkStatus();
}

StatusOr<OnCall> OnCallAt(const Schedule& s, int64_t at_ms) {
  // The latest-starting override covering the time wins: it was added to cover the others.
  const Override* cover = nullptr;
  for (const Override& o : s.overrides) {
    if (o.starts_ms <= at_ms && at_ms < o.ends_ms && (cover == nullptr || o.starts_ms >= cover->starts_ms)) {
      cover = &o;
    }
  }
  if (cover != nullptr) return OnCall{cover->user, true, cover->starts_ms};

  const date::time_zone* zone = FindTimeZone(s.time_zone);
  if (zone == nullptr) return InvalidArgumentError("unknown time zone '" + s.time_zone + "'");
  const auto local = zone->to_local(date::sys_time<milliseconds>{milliseconds(at_ms)});
  // Which rotation: by the working-day rotation's shift day.
  const date::local_days day = ShiftDay(local, s.working.handoff_minute);
  const Rotation& r = s.days_off && !IsWorkingDay(s.calendar, day) ? *s.days_off : s.working;
  SF_ASSIGN_OR_RETURN(date::local_days start, ParseDay(r.start_date));
  date::local_days shift = ShiftDay(local, r.handoff_minute);
  int64_t n = 0;
  if (r.weekly) {
    auto back_to_handoff = [&](date::local_days d) {
      const unsigned iso = date::weekday(d).iso_encoding();
      return d - date::days((iso + 7 - r.handoff_weekday) % 7);
    };
    shift = back_to_handoff(shift);
    n = (shift - back_to_handoff(start)).count() / 7;
  } else if (s.days_off) {
    // Only the days this rotation covers are turns (a working-day rotation skips weekends and
    // holidays, a day-off rotation working days): otherwise with 7 members each would always
    // get the same weekday, and some never a working day.
    const bool working = &r == &s.working;
    for (date::local_days d = std::min(start, shift); d < std::max(start, shift); d += date::days(1)) {
      if (IsWorkingDay(s.calendar, d) == working) n += shift >= start ? 1 : -1;
    }
  } else {
    n = (shift - start).count();
  }
  const auto& members = r.members;
  const std::string& user = members[static_cast<size_t>(PositiveModulo(n, static_cast<int64_t>(members.size())))];
  const auto begun = zone->to_sys(shift + minutes(r.handoff_minute), date::choose::earliest);
  return OnCall{user, false,
                std::chrono::duration_cast<milliseconds>(begun.time_since_epoch()).count()};
}

}  // namespace steadfast::alerting
