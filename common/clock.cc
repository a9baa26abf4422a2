#include "common/clock.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace steadfast {

std::string FormatRfc3339Millis(int64_t unix_millis) {
  int64_t secs = unix_millis / 1000;
  int64_t ms = unix_millis % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

StatusOr<int64_t> ParseRfc3339Millis(const std::string& text) {
  int year, mon, day, hour, min, sec;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec,
                  &consumed) != 6 ||
      consumed != 19) {
    return InvalidArgumentError("not an RFC 3339 timestamp: '" + text + "'");
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return InvalidArgumentError("timestamp out of range: '" + text + "'");
  }
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    int64_t scale = 100;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 3) frac_ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0) return InvalidArgumentError("timestamp has an empty fraction: '" + text + "'");
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') && text[pos + 3] == ':') {
    int oh, om;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
      return InvalidArgumentError("bad timezone offset in '" + text + "'");
    }
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return InvalidArgumentError("timestamp needs 'Z' or an offset: '" + text + "'");
  }
  if (pos != text.size()) return InvalidArgumentError("trailing characters in timestamp '" + text + "'");
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return secs * 1000 + frac_ms;
}

StatusOr<int64_t> ParseDurationMillis(const std::string& text) {
  if (text.empty()) return InvalidArgumentError("empty duration");
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return InvalidArgumentError("duration must start with a number: '" + text + "'");
  double n = 0;
  try {
    n = std::stod(text.substr(0, i));
  } catch (...) {
    return InvalidArgumentError("bad number in duration '" + text + "'");
  }
  std::string unit = text.substr(i);
  double mult;
  if (unit.empty() || unit == "s") mult = 1000;
  else if (unit == "ms") mult = 1;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  else return InvalidArgumentError("unknown duration unit '" + unit + "' in '" + text + "' (use ms, s, m, h, d)");
  return static_cast<int64_t>(n * mult);
}

}  // namespace steadfast
