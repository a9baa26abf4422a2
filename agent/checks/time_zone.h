// TimeZone: one IANA time zone, read from its TZif file (RFC 8536, versions 1 to 4) in the
// system's zoneinfo directory. The dataentry check needs local wall-clock time in one zone; this
// reads just that zone's file, so the agent does not link a time zone library (Howard Hinnant's
// libdate-tz is a C++ shared library, and its zone database costs about 0.4 MB resident).
//
// What a file says, and how it is used:
//   - the transitions (the 64-bit data block when the file has one, version 2 and later) and the
//     UTC offset after each; before the first transition, time type 0 (RFC 8536 3.2);
//   - after the last transition (for every instant when there is none), the footer's POSIX TZ
//     string (version 2+): "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30", "EST5EDT,M3.2.0,M11.1.0",
//     with the Mm.w.d, Jn and n rule forms and version 3's transition times outside 0..24h
//     ("M3.4.4/26", "M3.5.0/-1"). Without a footer the last transition's offset holds for ever.
// Leap-second files ("right/...") are refused: their transition times are not POSIX times.
//
// Conversions match date::time_zone (date/tz.h) and the C library (time_zone_test.cc holds them
// to both for every installed zone): ToUnix picks the earliest instant of an ambiguous local time
// and the transition instant for a local time that does not exist (what date's
// to_sys(local, choose::earliest) returns). One deliberate difference: past a file's last
// transition date-tz as Debian builds it (USE_OS_TZDB) keeps the last offset for ever, ignoring
// the footer, so for Debian's files it has no DST after 2037; this follows the footer, as the C
// library does. Footer years are read as tzcode's tzparse() reads them (DST lasting a year or
// more means DST all year). Instants beyond about +-2^59 s are clamped to that range.
//
// Immutable after Load: all methods are const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace steadfast::agent {

// Where TimeZone::Current looks for the machine's zone; tests point these at a temp dir.
struct LocalZoneSources {
  std::string tz_env;                             // the TZ environment variable ("" when unset)
  std::string localtime_path = "/etc/localtime";  // a symlink into the zoneinfo directory
  std::string timezone_path = "/etc/timezone";    // Debian: the zone's name on the first line
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
};

class TimeZone {
 public:
  static constexpr const char* kDefaultZoneinfoDir = "/usr/share/zoneinfo";

  // Reads `<zoneinfo_dir>/<name>`. InvalidArgument when `name` is not a zone name (empty, an
  // absolute path, a "." or ".." component, characters other than letters, digits and "/_+-.")
  // or when the file is not a valid TZif file (truncated, bad magic, counts past the end, a
  // malformed footer, ...); NotFound when there is no such file. Messages name the zone.
  static StatusOr<std::unique_ptr<TimeZone>> Load(
      const std::string& name, const std::string& zoneinfo_dir = kDefaultZoneinfoDir);

  // Parses the bytes of a TZif file; `name` is what name() returns and messages say.
  // InvalidArgument when the bytes are not a valid TZif file.
  static StatusOr<std::unique_ptr<TimeZone>> Parse(std::string name, std::string_view tzif);

  // UTC, built in (needs no file).
  static std::unique_ptr<TimeZone> Utc();

  // The machine's zone, from the first of these that names an installed zone: TZ (a leading ':'
  // stripped; a POSIX rule string there is no name and is passed over), the target of the
  // /etc/localtime symlink below ".../zoneinfo/" (as date::current_zone() reads it), the first
  // line of /etc/timezone; else the built-in UTC. An error only when a source names an installed
  // zone whose file cannot be read or is damaged: better said than silently replaced by UTC.
  static StatusOr<std::unique_ptr<TimeZone>> Current(const LocalZoneSources& sources);

  // The IANA name ("Asia/Shanghai"), as loaded.
  const std::string& name() const { return name_; }

  // The UTC offset in seconds (east positive) at the instant `unix_seconds`.
  int32_t OffsetAt(int64_t unix_seconds) const;
  // Unix seconds -> local wall-clock seconds (seconds since 1970-01-01T00:00 local).
  int64_t ToLocal(int64_t unix_seconds) const;
  // Local wall-clock seconds -> unix seconds: the earliest instant showing that local time; for a
  // local time skipped by a transition (spring forward), the transition's instant.
  int64_t ToUnix(int64_t local_seconds) const;

  // The footer rule (the POSIX TZ string's meaning). Public for the parser's tests.
  struct PosixRule {
    // A transition date: Jn (julian, 1..365, Feb 29 never counted), n (0..365, counted) or
    // Mm.w.d (day d of week w of month m; w 5 = the last).
    struct Date {
      enum class Kind { kJulian, kDayOfYear, kMonthWeekDay };
      Kind kind = Kind::kMonthWeekDay;
      int day = 0;    // Jn / n: the number; Mm.w.d: d (0 = Sunday)
      int month = 0;  // Mm.w.d
      int week = 0;   // Mm.w.d
    };
    int32_t std_offset = 0;  // UTC offset in seconds, east positive (POSIX writes west positive)
    bool has_dst = false;
    int32_t dst_offset = 0;
    Date start, end;            // DST starts and ends
    int32_t start_time = 7200;  // seconds after local midnight, in standard time
    int32_t end_time = 7200;    // seconds after local midnight, in daylight time
  };
  // Parses a POSIX TZ string as RFC 8536 (version 3) allows it in a footer. InvalidArgument,
  // saying what is wrong, otherwise.
  static StatusOr<PosixRule> ParsePosixRule(std::string_view tz);

 private:
  // A stretch of time with one offset: [begin, end).
  struct Period {
    int64_t begin;
    int64_t end;
    int32_t offset;
  };

  TimeZone() = default;
  Period PeriodAt(int64_t unix_seconds) const;
  Period RulePeriodAt(int64_t unix_seconds) const;

  std::string name_;
  // Instants at which the offset changes (strictly ascending) and the offset from each on;
  // transitions that do not change the offset are dropped.
  std::vector<int64_t> transitions_;
  std::vector<int32_t> offsets_;
  int32_t initial_offset_ = 0;  // before the first transition (time type 0)
  // The footer rule applies from footer_from_ on (the file's last transition, kept even when it
  // did not change the offset), for every instant when the file has no transitions.
  std::optional<PosixRule> rule_;
  int64_t footer_from_ = 0;
  bool footer_always_ = false;
};

}  // namespace steadfast::agent
