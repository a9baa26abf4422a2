#include "alerting/suppression.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>

#include "alerting/time_zone.h"

namespace steadfast::alerting {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr std::array<const char*, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int DayIndex(const std::string& name) {
  for (size_t i = 0; i < kDays.size(); ++i) {
    if (name == kDays[i]) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

StatusOr<unsigned> ParseWeekdays(const std::string& text) {
  if (text == "daily") return 0x7fu;
  unsigned mask = 0;
  size_t i = 0;
  while (i <= text.size()) {
    size_t comma = text.find(',', i);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(i, comma - i);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    const size_t dash = item.find('-');
    const int from = DayIndex(dash == std::string::npos ? item : item.substr(0, dash));
    const int to = dash == std::string::npos ? from : DayIndex(item.substr(dash + 1));
    if (from < 0 || to < 0) {
      return InvalidArgumentError(fmt::format(
          "days '{}': expected daily, or days like mon,wed or mon-fri (mon tue wed thu fri sat sun)",
          text));
    }
    for (int d = from;; d = (d + 1) % 7) {  // sat-mon wraps over the weekend
      mask |= 1u << d;
      if (d == to) break;
    }
    i = comma + 1;
  }
  return mask;
}

StatusOr<int> ParseTimeOfDay(const std::string& text) {
  int h = -1, m = -1;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 ||
      m > 59 || text.size() != 5) {
    return InvalidArgumentError(fmt::format("time '{}': expected HH:MM, 00:00 to 23:59", text));
  }
  return h * 60 + m;
}

Status ValidateSilence(const Silence& s) {
  if (s.matchers.empty()) {
    return InvalidArgumentError("a silence needs at least one matcher (it would silence everything)");
  }
  if (s.ends_ms != 0 && s.ends_ms <= s.starts_ms) {
    return InvalidArgumentError("a silence must end after it starts");
  }
  if (!s.weekly) {
    if (s.ends_ms == 0) return InvalidArgumentError("a one-off silence needs an end");
    return OkStatus();
  }
  if (s.weekly->days == 0) return InvalidArgumentError("a recurring silence needs days");
  if (s.weekly->duration_ms <= 0 || s.weekly->duration_ms > 7 * kDayMs) {
    return InvalidArgumentError("a recurring silence lasts more than nothing and at most a week");
  }
  if (FindTimeZone(s.weekly->time_zone) == nullptr) {
    return InvalidArgumentError(fmt::format("unknown time zone '{}' (an IANA name, like Asia/Shanghai)",
                                            s.weekly->time_zone));
  }
  return OkStatus();
}

bool SilenceActiveAt(const Silence& s, int64_t now_ms) {
  if (now_ms < s.starts_ms) return false;
  if (s.ends_ms != 0 && now_ms >= s.ends_ms) return false;
  if (!s.weekly) return true;
  const WeeklyRecurrence& w = *s.weekly;
  const date::time_zone* zone = FindTimeZone(w.time_zone);
  if (zone == nullptr) return false;
  using namespace std::chrono;
  const sys_time<milliseconds> now{milliseconds(now_ms)};
  const auto local = zone->to_local(now);
  const date::local_days today = date::floor<date::days>(local);
  // Windows that opened today or on one of the days before and may still be open.
  const int64_t back = w.duration_ms / kDayMs + 1;
  for (int64_t k = 0; k <= back; ++k) {
    const date::local_days day = today - date::days(k);
    const unsigned iso = date::weekday(day).iso_encoding();  // Monday 1 .. Sunday 7
    if ((w.days & (1u << (iso - 1))) == 0) continue;
    const auto opens_local = day + minutes(w.start_minute);
    // A start time inside a DST gap opens at the transition; in an overlap, at its first instant.
    const auto opens = zone->to_sys(opens_local, date::choose::earliest);
    const int64_t opens_ms = duration_cast<milliseconds>(opens.time_since_epoch()).count();
    if (opens_ms <= now_ms && now_ms < opens_ms + w.duration_ms) return true;
  }
  return false;
}

std::vector<std::string> SilencedBy(const std::vector<Silence>& silences, const Labels& labels,
                                    int64_t now_ms) {
  std::vector<std::string> ids;
  for (const Silence& s : silences) {
    if (MatchesAll(s.matchers, labels) && SilenceActiveAt(s, now_ms)) ids.push_back(s.id);
  }
  return ids;
}

std::set<std::string> Inhibited(const AlertBook& book, const std::vector<InhibitRule>& rules) {
  std::set<std::string> out;
  for (const InhibitRule& rule : rules) {
    auto key_of = [&](const Labels& l) {
      std::vector<std::string> key;
      for (const std::string& name : rule.equal) {
        auto it = l.find(name);
        key.push_back(it == l.end() ? std::string() : it->second);
      }
      return key;
    };
    // Equal values -> the firing sources, and how many of them are not targets themselves.
    struct Sources {
      size_t all = 0;
      size_t not_targets = 0;
    };
    std::map<std::vector<std::string>, Sources> sources;
    for (const auto& [id, a] : book.active) {
      if (a.phase == AlertPhase::kFiring && MatchesAll(rule.source, a.labels)) {
        Sources& s = sources[key_of(a.labels)];
        ++s.all;
        if (!MatchesAll(rule.target, a.labels)) ++s.not_targets;
      }
    }
    if (sources.empty()) continue;
    for (const auto& [id, a] : book.active) {
      if (!MatchesAll(rule.target, a.labels)) continue;
      auto it = sources.find(key_of(a.labels));
      if (it == sources.end()) continue;
      // An alert matching both sides is inhibited only by a source that is not a target itself
      // (as Alertmanager does): otherwise two such alerts would silence each other.
      if (MatchesAll(rule.source, a.labels) && it->second.not_targets == 0) continue;
      out.insert(a.fingerprint);
    }
  }
  return out;
}

}  // namespace steadfast::alerting
