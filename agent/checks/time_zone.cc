#include "agent/checks/time_zone.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <utility>

namespace steadfast::agent {
namespace {

// Instants and local times are clamped to +-2^59 s (zic's "big bang"), so that adding an offset
// or a window never overflows.
constexpr int64_t kMaxTime = int64_t{1} << 59;
// The largest |UTC offset| accepted (RFC 8536 recommends -89999..93599): 25:59:59.
constexpr int32_t kMaxOffset = 93599;
constexpr int64_t kDay = 86400;
// A zone file is a few KB; anything this large is something else.
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kHeaderBytes = 44;

// Period bounds for "since ever" and "for ever".
constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

int64_t Clamp(int64_t t) { return std::clamp(t, -kMaxTime, kMaxTime); }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). Not
// date.h's, which the dataentry check uses: its year is a short, and instants here are clamped
// only to +-2^59 s (billions of years), so the calendar must hold 64-bit years.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The year of a day since 1970-01-01 (civil_from_days, year only).
int64_t YearFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2);
}

// The day (since 1970-01-01) on which a footer rule's date falls in year `y`.
int64_t RuleDay(const TimeZone::PosixRule::Date& date, int64_t y) {
  using Kind = TimeZone::PosixRule::Date::Kind;
  const int64_t jan1 = DaysFromCivil(y, 1, 1);
  switch (date.kind) {
    case Kind::kJulian:  // 1..365, February 29 never counted
      return jan1 + date.day - 1 + (IsLeap(y) && date.day >= 60 ? 1 : 0);
    case Kind::kDayOfYear:  // 0..365
      return jan1 + date.day;
    case Kind::kMonthWeekDay:
      break;
  }
  const int64_t first = DaysFromCivil(y, date.month, 1);
  const auto first_weekday = static_cast<int>(first + 4 - FloorDiv(first + 4, 7) * 7);  // 0 = Sun
  int mday = 1 + (date.day - first_weekday + 7) % 7 + (date.week - 1) * 7;
  while (mday > DaysInMonth(y, date.month)) mday -= 7;  // week 5: the last one
  return first + mday - 1;
}

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

int64_t BigEndianTime(const unsigned char* p, size_t size) {
  if (size == 4) return static_cast<int32_t>(BigEndian32(p));
  const uint64_t v = (uint64_t{BigEndian32(p)} << 32) | BigEndian32(p + 4);
  return static_cast<int64_t>(v);
}

// The six counts of a TZif header (RFC 8536 3.1).
struct TzifCounts {
  uint64_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;

  // Bytes of the data block that follows the header, with `time_size`-byte times.
  uint64_t BlockBytes(uint64_t time_size) const {
    return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) +
           isstdcnt + isutcnt;
  }
};

// Reads the POSIX TZ string of a footer. Each Parse* returns false and sets error_ on bad input.
class PosixRuleParser {
 public:
  explicit PosixRuleParser(std::string_view s) : s_(s) {}

  StatusOr<TimeZone::PosixRule> Parse() {
    TimeZone::PosixRule r;
    int32_t west = 0;
    if (!ParseName("standard time name") || !ParseTime(-24, 24, west, "standard time offset")) {
      return Error();
    }
    r.std_offset = -west;
    if (AtEnd()) return r;
    if (!ParseName("daylight time name")) return Error();
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (!AtEnd() && s_[pos_] != ',') {
      if (!ParseTime(-24, 24, west, "daylight time offset")) return Error();
      r.dst_offset = -west;
    }
    if (AtEnd()) return Fail("daylight time without a rule saying when it applies");
    ++pos_;  // ','
    if (!ParseDate(r.start) || !ParseTransitionTime(r.start_time)) return Error();
    if (AtEnd() || s_[pos_] != ',') return Fail("expected ',' and the end of daylight time");
    ++pos_;
    if (!ParseDate(r.end) || !ParseTransitionTime(r.end_time)) return Error();
    if (!AtEnd()) return Fail("unexpected text after the rule");
    return r;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  Status Fail(const std::string& what) {
    error_ = what;
    return Error();
  }
  Status Error() const {
    return InvalidArgumentError(
        fmt::format("bad TZ string '{}': {} (at offset {})", s_, error_, pos_));
  }
  bool Set(std::string what) {
    error_ = std::move(what);
    return false;
  }

  // "CET" (3 or more letters) or "<+0330>" (letters, digits, '+' and '-').
  bool ParseName(const char* what) {
    if (!AtEnd() && s_[pos_] == '<') {
      const size_t start = ++pos_;
      while (!AtEnd() && s_[pos_] != '>') {
        const char c = s_[pos_];
        if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-') {
          return Set(fmt::format("bad character in the quoted {}", what));
        }
        ++pos_;
      }
      if (AtEnd()) return Set(fmt::format("unterminated quoted {}", what));
      if (pos_ == start) return Set(fmt::format("empty {}", what));
      ++pos_;  // '>'
      return true;
    }
    const size_t start = pos_;
    while (!AtEnd() && IsAlpha(s_[pos_])) ++pos_;
    if (pos_ - start < 3) return Set(fmt::format("expected a {} of 3 or more letters", what));
    return true;
  }

  // Up to `max_digits` digits into `out`.
  bool ParseNumber(size_t max_digits, int& out) {
    const size_t start = pos_;
    out = 0;
    while (!AtEnd() && IsDigit(s_[pos_]) && pos_ - start < max_digits) {
      out = out * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    return pos_ > start;
  }

  // [+-]hh[:mm[:ss]] with min_hours <= signed hours <= max_hours, into seconds.
  bool ParseTime(int min_hours, int max_hours, int32_t& out, const char* what) {
    int sign = 1;
    if (!AtEnd() && (s_[pos_] == '+' || s_[pos_] == '-')) sign = s_[pos_++] == '-' ? -1 : 1;
    int h = 0, m = 0, sec = 0;
    if (!ParseNumber(3, h)) return Set(fmt::format("expected the {} (hh[:mm[:ss]])", what));
    if (!AtEnd() && s_[pos_] == ':') {
      ++pos_;
      if (!ParseNumber(2, m) || m > 59) return Set(fmt::format("bad minutes in the {}", what));
      if (!AtEnd() && s_[pos_] == ':') {
        ++pos_;
        if (!ParseNumber(2, sec) || sec > 59) {
          return Set(fmt::format("bad seconds in the {}", what));
        }
      }
    }
    if (sign * h < min_hours || sign * h > max_hours) {
      return Set(fmt::format("{} hours out of range {}..{}", what, min_hours, max_hours));
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  // Jn, n or Mm.w.d.
  bool ParseDate(TimeZone::PosixRule::Date& d) {
    using Kind = TimeZone::PosixRule::Date::Kind;
    if (!AtEnd() && s_[pos_] == 'J') {
      ++pos_;
      d.kind = Kind::kJulian;
      if (!ParseNumber(3, d.day) || d.day < 1 || d.day > 365) {
        return Set("expected Jn with n in 1..365");
      }
      return true;
    }
    if (!AtEnd() && s_[pos_] == 'M') {
      ++pos_;
      d.kind = Kind::kMonthWeekDay;
      if (!ParseNumber(2, d.month) || d.month < 1 || d.month > 12 || AtEnd() || s_[pos_++] != '.' ||
          !ParseNumber(1, d.week) || d.week < 1 || d.week > 5 || AtEnd() || s_[pos_++] != '.' ||
          !ParseNumber(1, d.day) || d.day > 6) {
        return Set("expected Mm.w.d (month 1..12, week 1..5, weekday 0..6)");
      }
      return true;
    }
    d.kind = Kind::kDayOfYear;
    if (!ParseNumber(3, d.day) || d.day > 365) {
      return Set("expected a date: Jn, n or Mm.w.d");
    }
    return true;
  }

  // [/time]; version 3 allows -167..167 hours.
  bool ParseTransitionTime(int32_t& out) {
    if (AtEnd() || s_[pos_] != '/') return true;  // default 02:00
    ++pos_;
    return ParseTime(-167, 167, out, "transition time");
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

// Why `name` is not a zone name, or "" when it is one.
std::string ZoneNameProblem(const std::string& name) {
  if (name.empty()) return "empty";
  if (name.size() > 255) return "longer than 255 characters";
  if (name[0] == '/') return "an absolute path; expected a name like Europe/Berlin";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) return "only letters, digits and / _ + - . are allowed";
  }
  size_t start = 0;
  while (true) {
    const size_t slash = name.find('/', start);
    const std::string_view part = std::string_view(name).substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty()) return "an empty path component";
    if (part == "." || part == "..") return fmt::format("a '{}' path component", part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return "";
}

// The whole of a small regular file. NotFound when absent or not a regular file.
StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: a FIFO put in place of the file must not hang the agent.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return NotFoundError("no such file");
    if (err == EACCES || err == EPERM) return PermissionDeniedError(std::strerror(err));
    return InvalidArgumentError(std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotFoundError(S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
  }
  std::string data;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return InvalidArgumentError(std::strerror(err));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return InvalidArgumentError(fmt::format("larger than {} bytes", max_bytes));
    }
  }
  ::close(fd);
  return data;
}

// The zone name in a path below a zoneinfo directory: "/usr/share/zoneinfo/Europe/Berlin" or
// "../usr/share/zoneinfo/Europe/Berlin" -> "Europe/Berlin" ("" when there is none). posix/
// (the same files again) is dropped.
std::string ZoneNameInPath(const std::string& path, const std::string& zoneinfo_dir) {
  std::string name;
  const std::string dir = zoneinfo_dir + "/";
  size_t pos = path.find(dir);
  if (pos != std::string::npos) {
    name = path.substr(pos + dir.size());
  } else {
    pos = path.rfind("zoneinfo/");
    if (pos == std::string::npos || (pos > 0 && path[pos - 1] != '/')) return "";
    name = path.substr(pos + 9);
  }
  if (name.rfind("posix/", 0) == 0) name.erase(0, 6);
  return name;
}

}  // namespace

StatusOr<TimeZone::PosixRule> TimeZone::ParsePosixRule(std::string_view tz) {
  return PosixRuleParser(tz).Parse();
}

std::unique_ptr<TimeZone> TimeZone::Utc() {
  std::unique_ptr<TimeZone> z(new TimeZone());
  z->name_ = "UTC";
  return z;
}

StatusOr<std::unique_ptr<TimeZone>> TimeZone::Parse(std::string name, std::string_view tzif) {
  const auto bad = [&](const std::string& what) {
    return InvalidArgumentError(
        fmt::format("time zone '{}': not a valid TZif file: {}", name, what));
  };
  const auto* bytes = reinterpret_cast<const unsigned char*>(tzif.data());
  const uint64_t size = tzif.size();

  // Reads the header at `at`, checking that it and its data block (with `time_size`-byte times)
  // fit in the file.
  const auto read_header = [&](uint64_t at, uint64_t time_size, const char* which,
                               TzifCounts& c) -> Status {
    if (size < at + kHeaderBytes) {
      return bad(fmt::format("truncated {} header ({} of {} bytes)", which,
                             size > at ? size - at : 0, kHeaderBytes));
    }
    if (std::memcmp(bytes + at, "TZif", 4) != 0) {
      return bad(fmt::format("bad magic in the {} header (expected \"TZif\")", which));
    }
    const unsigned char* p = bytes + at + 20;
    c = TzifCounts{BigEndian32(p),      BigEndian32(p + 4),  BigEndian32(p + 8),
                   BigEndian32(p + 12), BigEndian32(p + 16), BigEndian32(p + 20)};
    const uint64_t block = c.BlockBytes(time_size);  // counts < 2^32: no overflow
    if (size - at - kHeaderBytes < block) {
      return bad(fmt::format(
          "the {} header's counts (timecnt {}, typecnt {}, charcnt {}, leapcnt {}) need {} bytes "
          "of data, the file has {}",
          which, c.timecnt, c.typecnt, c.charcnt, c.leapcnt, block, size - at - kHeaderBytes));
    }
    return OkStatus();
  };

  TzifCounts c{};
  SF_RETURN_IF_ERROR(read_header(0, 4, "first", c));
  const unsigned char version = bytes[4];
  uint64_t at = kHeaderBytes;
  uint64_t time_size = 4;
  if (version != 0) {
    // Version 2 and later: skip the 32-bit block, use the 64-bit one after the second header.
    at += c.BlockBytes(4);
    SF_RETURN_IF_ERROR(read_header(at, 8, "second (64-bit)", c));
    at += kHeaderBytes;
    time_size = 8;
  }
  if (c.typecnt == 0) return bad("no time types (typecnt 0)");
  if (c.typecnt > 256) return bad(fmt::format("typecnt {} above 256", c.typecnt));
  if (c.charcnt == 0) return bad("no time zone designations (charcnt 0)");
  if (c.isutcnt != 0 && c.isutcnt != c.typecnt) return bad("isutcnt is neither 0 nor typecnt");
  if (c.isstdcnt != 0 && c.isstdcnt != c.typecnt) return bad("isstdcnt is neither 0 nor typecnt");
  if (c.leapcnt != 0) {
    return bad("it has leap-second records (a \"right/\" zone); use the zone without them");
  }

  const unsigned char* times = bytes + at;
  const unsigned char* indices = times + c.timecnt * time_size;
  const unsigned char* types = indices + c.timecnt;
  std::vector<int32_t> type_offsets(c.typecnt);
  for (uint64_t i = 0; i < c.typecnt; ++i) {
    const unsigned char* t = types + i * 6;
    const auto utoff = static_cast<int32_t>(BigEndian32(t));
    if (utoff < -kMaxOffset || utoff > kMaxOffset) {
      return bad(fmt::format("time type {} has a UTC offset of {} s", i, utoff));
    }
    if (t[4] > 1) return bad(fmt::format("time type {} has isdst {}", i, t[4]));
    if (t[5] >= c.charcnt) {
      return bad(fmt::format("time type {} has a designation index past charcnt", i));
    }
    type_offsets[i] = utoff;
  }

  std::unique_ptr<TimeZone> z(new TimeZone());
  z->name_ = name;  // a copy: the errors below still name it
  z->initial_offset_ = type_offsets[0];
  int32_t current = z->initial_offset_;
  for (uint64_t i = 0; i < c.timecnt; ++i) {
    const int64_t t = BigEndianTime(times + i * time_size, time_size);
    if (i > 0 && t <= BigEndianTime(times + (i - 1) * time_size, time_size)) {
      return bad(fmt::format("transition {} is not after the one before", i));
    }
    if (indices[i] >= c.typecnt) {
      return bad(fmt::format("transition {} has time type {} of {}", i, indices[i], c.typecnt));
    }
    const int32_t offset = type_offsets[indices[i]];
    if (offset != current) {
      z->transitions_.push_back(t);
      z->offsets_.push_back(offset);
      current = offset;
    }
    z->footer_from_ = t;
  }
  if (version == 0) return z;

  // The footer: "\n<POSIX TZ string>\n".
  at += c.BlockBytes(8);
  if (at >= size || bytes[at] != '\n') return bad("missing footer after the 64-bit data");
  const size_t footer_start = static_cast<size_t>(at) + 1;
  const size_t footer_end = tzif.find('\n', footer_start);
  if (footer_end == std::string_view::npos) return bad("unterminated footer");
  const std::string_view footer = tzif.substr(footer_start, footer_end - footer_start);
  if (!footer.empty()) {
    StatusOr<PosixRule> rule = ParsePosixRule(footer);
    if (!rule.ok()) return bad("footer: " + rule.status().message());
    z->rule_ = *rule;
    z->footer_always_ = c.timecnt == 0;
  }
  return z;
}

StatusOr<std::unique_ptr<TimeZone>> TimeZone::Load(const std::string& name,
                                                   const std::string& zoneinfo_dir) {
  const std::string problem = ZoneNameProblem(name);
  if (!problem.empty()) {
    return InvalidArgumentError(
        fmt::format("unknown time zone '{}' (not a zone name: {})", name, problem));
  }
  const std::string path = zoneinfo_dir + "/" + name;
  StatusOr<std::string> data = ReadSmallFile(path, kMaxFileBytes);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) {
      return NotFoundError(fmt::format("unknown time zone '{}' (no such zone in {}: {})", name,
                                       zoneinfo_dir, data.status().message()));
    }
    return Status(data.status().code(), fmt::format("time zone '{}': cannot read {}: {}", name,
                                                    path, data.status().message()));
  }
  return Parse(name, *data);
}

StatusOr<std::unique_ptr<TimeZone>> TimeZone::Current(const LocalZoneSources& sources) {
  // One source's zone name: nullopt when it names no installed zone (try the next source).
  const auto try_name =
      [&](const std::string& name,
          const std::string& from) -> std::optional<StatusOr<std::unique_ptr<TimeZone>>> {
    if (!ZoneNameProblem(name).empty()) return std::nullopt;
    StatusOr<std::unique_ptr<TimeZone>> z = Load(name, sources.zoneinfo_dir);
    if (z.status().code() == StatusCode::kNotFound) return std::nullopt;
    if (!z.ok()) {
      return Status(z.status().code(), fmt::format("the machine's time zone (from {}): {}", from,
                                                   z.status().message()));
    }
    return z;
  };

  std::string tz = sources.tz_env;
  if (!tz.empty() && tz[0] == ':') tz.erase(0, 1);
  if (!tz.empty()) {
    // TZ may also be a POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3", no zone name) or a file
    // elsewhere: passed over.
    const std::string name = tz[0] == '/' ? ZoneNameInPath(tz, sources.zoneinfo_dir) : tz;
    std::optional<StatusOr<std::unique_ptr<TimeZone>>> z = try_name(name, "TZ");
    if (z) return std::move(*z);
  }
  struct stat st {};
  if (::lstat(sources.localtime_path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char target[PATH_MAX + 1] = {};
    const ssize_t n = ::readlink(sources.localtime_path.c_str(), target, PATH_MAX);
    if (n > 0) {
      const std::string name =
          ZoneNameInPath(std::string(target, static_cast<size_t>(n)), sources.zoneinfo_dir);
      std::optional<StatusOr<std::unique_ptr<TimeZone>>> z = try_name(name, sources.localtime_path);
      if (z) return std::move(*z);
    }
  }
  StatusOr<std::string> file = ReadSmallFile(sources.timezone_path, 4096);
  if (file.ok()) {
    std::string name = file->substr(0, file->find('\n'));
    const size_t first = name.find_first_not_of(" \t\r");
    const size_t last = name.find_last_not_of(" \t\r");
    name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
    std::optional<StatusOr<std::unique_ptr<TimeZone>>> z = try_name(name, sources.timezone_path);
    if (z) return std::move(*z);
  }
  return Utc();
}

TimeZone::Period TimeZone::RulePeriodAt(int64_t t) const {
  const PosixRule& r = *rule_;
  if (!r.has_dst) return {kNever, kForever, r.std_offset};
  // The DST starts and ends of the years around t, in time order, as tzcode's tzparse() makes
  // them: a year whose end precedes its start (southern hemisphere) has DST before the end and
  // after the start; a year whose DST would last a whole year or more has no changes, and when
  // no year has any, DST holds all year ("EST5EDT4,0/0,J365/25", RFC 8536 3.3.1). Then merged to
  // the instants at which the offset changes.
  struct Event {
    int64_t at;
    bool dst;
  };
  Event events[10];
  size_t n = 0;
  const int64_t year = YearFromDays(FloorDiv(t + r.std_offset, kDay));
  for (int64_t y = year - 2; y <= year + 2; ++y) {
    const int64_t start = RuleDay(r.start, y) * kDay + r.start_time - r.std_offset;
    const int64_t end = RuleDay(r.end, y) * kDay + r.end_time - r.dst_offset;
    if (end < start) {
      events[n++] = {end, false};
      events[n++] = {start, true};
    } else if (start < end && end - start < (IsLeap(y) ? 366 : 365) * kDay) {
      events[n++] = {start, true};
      events[n++] = {end, false};
    }
  }
  if (n == 0) return {kNever, kForever, r.dst_offset};
  // Insertion sort: at most 10 events (and std::sort on them trips GCC 12's -Warray-bounds).
  const auto before = [](const Event& a, const Event& b) {
    return a.at != b.at ? a.at < b.at : (!a.dst && b.dst);
  };
  for (size_t i = 1; i < n; ++i) {
    for (size_t j = i; j > 0 && before(events[j], events[j - 1]); --j) {
      std::swap(events[j], events[j - 1]);
    }
  }
  size_t m = 0;  // events[0, m): the merged ones
  for (size_t i = 0; i < n; ++i) {
    if (m > 0 && events[m - 1].at == events[i].at) {
      events[m - 1].dst = events[i].dst;
    } else {
      events[m++] = events[i];
    }
    if (m > 1 && events[m - 1].dst == events[m - 2].dst) --m;  // no change
  }
  // The last change at or before t.
  size_t i = 0;
  while (i < m && events[i].at <= t) ++i;
  if (i == 0) return {kNever, events[0].at, events[0].dst ? r.std_offset : r.dst_offset};
  return {events[i - 1].at, i < m ? events[i].at : kForever,
          events[i - 1].dst ? r.dst_offset : r.std_offset};
}

TimeZone::Period TimeZone::PeriodAt(int64_t t) const {
  t = Clamp(t);
  if (rule_ && (footer_always_ || t >= footer_from_)) {
    Period p = RulePeriodAt(t);
    if (!footer_always_) p.begin = std::max(p.begin, footer_from_);
    return p;
  }
  // Transitions at or before t.
  const auto idx = static_cast<size_t>(
      std::upper_bound(transitions_.begin(), transitions_.end(), t) - transitions_.begin());
  Period p;
  p.begin = idx == 0 ? kNever : transitions_[idx - 1];
  p.end = idx < transitions_.size() ? transitions_[idx] : rule_ ? footer_from_ : kForever;
  p.offset = idx == 0 ? initial_offset_ : offsets_[idx - 1];
  return p;
}

int32_t TimeZone::OffsetAt(int64_t unix_seconds) const { return PeriodAt(unix_seconds).offset; }

int64_t TimeZone::ToLocal(int64_t unix_seconds) const {
  const int64_t t = Clamp(unix_seconds);
  return t + PeriodAt(t).offset;
}

int64_t TimeZone::ToUnix(int64_t local_seconds) const {
  // Clamped so that the window below stays inside the range PeriodAt clamps to.
  const int64_t local =
      std::clamp(local_seconds, -kMaxTime + 2 * (kMaxOffset + 1), kMaxTime - 2 * (kMaxOffset + 1));
  // Every instant showing `local` lies within kMaxOffset of it. Walk the periods over that
  // window in time order: the first whose offset maps `local` into it holds the earliest such
  // instant. When none does, `local` falls in a gap: the offset rose at an instant T with
  // local - (offset before) >= T > local - (offset after); the answer is T.
  const int64_t window_end = local + kMaxOffset + 1;
  Period p = PeriodAt(local - kMaxOffset - 1);
  std::optional<int64_t> gap;
  std::optional<int32_t> previous_offset;
  while (true) {
    const int64_t t = local - p.offset;
    if (t >= p.begin && t < p.end) return t;
    if (!gap && previous_offset && local - *previous_offset >= p.begin && t < p.begin) {
      gap = p.begin;
    }
    if (p.end > window_end) break;
    previous_offset = p.offset;
    const Period next = PeriodAt(p.end);  // begins at p.end
    if (next.end <= p.end) break;         // cannot happen inside the clamped range; never loop
    p = next;
  }
  return gap ? *gap : local - p.offset;
}

}  // namespace steadfast::agent
