// IANA time zones by name for schedules and silences (Howard Hinnant's date/tz, which reads
// /usr/share/zoneinfo; GCC 12 has no std::chrono::locate_zone).
#pragma once

#include <date/tz.h>

#include <string>

namespace steadfast::alerting {

// The zone, or nullptr when the name is not a known IANA zone (date::locate_zone throws).
inline const date::time_zone* FindTimeZone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace steadfast::alerting
