#include "agent/checks/time_zone.h"

#include <date/tz.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/testing/test_util.h"

namespace steadfast::agent {
namespace {

using testing::TempDir;

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr int64_t k1900 = -2'208'988'800;  // 1900-01-01T00:00Z
constexpr int64_t k1970 = 0;
constexpr int64_t k2037 = 2'114'380'800;  // 2037-01-01T00:00Z
constexpr int64_t k2040 = 2'208'988'800;
constexpr int64_t k2100 = 4'102'444'800;
// A sampling step that is no whole number of hours or days, so samples fall at every time of day.
constexpr int64_t kStep = 6 * kHour + 7 * 60 + 13;
const std::string kZoneinfo = "/usr/share/zoneinfo";

// The zones the conformance tests compare in detail: half-hour and 45-minute offsets, half-hour
// DST (Lord Howe), southern hemisphere, negative DST and Ramadan changes (Casablanca), a 2-hour
// DST (Troll), zones without DST.
const char* const kZones[] = {"UTC",
                              "Etc/GMT+5",
                              "Asia/Shanghai",
                              "Asia/Kolkata",
                              "Asia/Tehran",
                              "Australia/Lord_Howe",
                              "Europe/Berlin",
                              "Europe/London",
                              "America/New_York",
                              "America/Sao_Paulo",
                              "Pacific/Chatham",
                              "America/St_Johns",
                              "Africa/Casablanca",
                              "Antarctica/Troll",
                              "America/Nuuk",
                              "Asia/Jerusalem",
                              "America/Santiago",
                              "Europe/Dublin"};

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

bool IsInstalledZone(const std::string& name) {
  return ReadBytes(kZoneinfo + "/" + name).rfind("TZif", 0) == 0;
}

// True when the file's footer has a DST rule: past the file's last transition the offset still
// changes, which date-tz (it reads the transitions, not the footer) does not know.
bool FooterHasRule(const std::string& bytes) {
  const size_t end = bytes.rfind('\n');
  const size_t start = end == std::string::npos ? end : bytes.rfind('\n', end - 1);
  return start != std::string::npos &&
         bytes.substr(start, end - start).find(',') != std::string::npos;
}

template <class TimePoint>
int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::unique_ptr<TimeZone> MustLoad(const std::string& name, const std::string& dir = kZoneinfo) {
  auto z = TimeZone::Load(name, dir);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? std::move(*z) : TimeZone::Utc();
}

// Counts comparisons of ours with an oracle; reports the first few mismatches of a zone.
class Comparer {
 public:
  explicit Comparer(std::string zone) : zone_(std::move(zone)) {}
  void Expect(const char* what, int64_t at, int64_t ours, int64_t oracle) {
    ++count_;
    if (ours != oracle && ++failures_ <= 10) {
      ADD_FAILURE() << zone_ << ": " << what << "(" << at << ") = " << ours << ", the oracle says "
                    << oracle;
    }
  }
  int64_t count() const { return count_; }

 private:
  std::string zone_;
  int64_t count_ = 0;
  int failures_ = 0;
};

// The answer for a local time L near an isolated transition at T from offset o1 to o2 (the next
// transition more than a day away): before both mappings L - o1, after both L - o2; in an
// overlap the earlier, L - o1; in a gap, T (what date::time_zone::to_sys(choose::earliest) does).
int64_t IsolatedToUnix(int64_t local, int64_t t, int64_t o1, int64_t o2) {
  if (local < t + o1) return local - o1;
  if (local >= t + o2) return local - o2;
  return t;
}

std::vector<int64_t> LocalTimesAround(int64_t t, int64_t o1, int64_t o2) {
  return {t + o1 - kHour,
          t + o1 - 1,
          t + o1,
          t + o1 + 1,
          t + o2 - 1,
          t + o2,
          t + o2 + 1,
          t + o2 + kHour,
          t + (o1 + o2) / 2,
          t + std::min(o1, o2) + 1,
          t + std::max(o1, o2) - 1};
}

// date-tz, the oracle up to a zone file's last transition.
void CompareWithDateTz(const TimeZone& z, const date::time_zone* d, bool dense, Comparer& c) {
  const std::string bytes = ReadBytes(kZoneinfo + "/" + z.name());
  // After the file's last transition date-tz keeps that offset for ever; right unless the footer
  // has a DST rule.
  std::vector<int64_t> transitions;
  int64_t last = k1900;
  for (int64_t t = k1900;;) {
    const date::sys_info info = d->get_info(date::sys_seconds{std::chrono::seconds{t}});
    const int64_t end = Seconds(info.end);
    if (end >= k2100) break;
    transitions.push_back(end);
    last = end;
    t = end;
  }
  const int64_t valid_until = FooterHasRule(bytes) ? last : k2100;
  const auto offset = [&](int64_t u) {
    return static_cast<int64_t>(
        d->get_info(date::sys_seconds{std::chrono::seconds{u}}).offset.count());
  };
  const auto to_unix = [&](int64_t local) {
    return Seconds(
        d->to_sys(date::local_seconds{std::chrono::seconds{local}}, date::choose::earliest));
  };
  const auto compare_instant = [&](int64_t u) {
    const int64_t o = offset(u);
    c.Expect("OffsetAt", u, z.OffsetAt(u), o);
    c.Expect("ToLocal", u, z.ToLocal(u), u + o);
  };
  // Before 1900, at the transitions (+-1 s, +-1 h) and local times in and around their gaps and
  // overlaps.
  for (int64_t u : {int64_t{-100'000'000'000}, k1900 - 1, k1900}) compare_instant(u);
  for (int64_t t : transitions) {
    if (t > valid_until) break;
    for (int64_t u : {t - kHour, t - 1, t, t + 1, t + kHour}) {
      if (u <= valid_until) compare_instant(u);
    }
    for (int64_t local : LocalTimesAround(t, offset(t - 1), offset(t))) {
      if (local + 2 * kDay < valid_until)
        c.Expect("ToUnix", local, z.ToUnix(local), to_unix(local));
    }
  }
  if (!dense) return;
  // Every kStep from 1970 to 2040 (or the file's last transition): instants, and the same
  // numbers as local times.
  for (int64_t u = k1970; u < std::min(valid_until, k2040); u += kStep) {
    compare_instant(u);
    c.Expect("ToUnix", u, z.ToUnix(u), to_unix(u));
  }
}

// The C library with TZ set: the oracle where date-tz is not (after a file's last transition,
// where the footer rules) and for footer rules alone.
class CLibraryZone {
 public:
  explicit CLibraryZone(const std::string& tz) {
    if (const char* old = ::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz.c_str(), 1);
    ::tzset();
  }
  ~CLibraryZone() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  CLibraryZone(const CLibraryZone&) = delete;
  CLibraryZone& operator=(const CLibraryZone&) = delete;

  int64_t Offset(int64_t u) const {
    const auto t = static_cast<time_t>(u);
    struct tm tm {};
    ::localtime_r(&t, &tm);
    return tm.tm_gmtoff;
  }

 private:
  std::optional<std::string> old_;
};

// Samples [from, to) every `step`; at each change of the C library's offset, finds the
// transition's second and compares around it, and with `local_times` (for isolated transitions:
// those a footer rule makes) the local times around it. Returns the transitions seen.
int CompareWithCLibrary(const TimeZone& z, const std::string& tz, int64_t from, int64_t to,
                        int64_t step, bool local_times, Comparer& c) {
  CLibraryZone lib(tz);
  int transitions = 0;
  int64_t prev_u = from;
  int64_t prev = lib.Offset(from);
  for (int64_t u = from; u < to; u += step) {
    const int64_t o = lib.Offset(u);
    c.Expect("OffsetAt", u, z.OffsetAt(u), o);
    c.Expect("ToLocal", u, z.ToLocal(u), u + o);
    if (o != prev) {
      int64_t lo = prev_u, hi = u;  // lib.Offset(lo) == prev != lib.Offset(hi)
      while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        (lib.Offset(mid) == prev ? lo : hi) = mid;
      }
      const int64_t t = hi;
      const int64_t after = lib.Offset(t);
      for (int64_t v : {t - 1, t, t + 1}) c.Expect("OffsetAt", v, z.OffsetAt(v), lib.Offset(v));
      for (int64_t local : LocalTimesAround(t, prev, after)) {
        if (local_times) {
          c.Expect("ToUnix", local, z.ToUnix(local), IsolatedToUnix(local, t, prev, after));
        }
      }
      ++transitions;
    }
    prev = o;
    prev_u = u;
  }
  return transitions;
}

// ---------------------------------------------------------------------------------------------
// Conformance with date-tz (and, past the files' last transitions, the C library).

TEST(TimeZoneConformanceTest, ListedZonesMatchDateTz) {
  int zones = 0;
  int64_t comparisons = 0;
  for (const std::string name : kZones) {
    if (!IsInstalledZone(name)) continue;
    SCOPED_TRACE(name);
    const auto ours = MustLoad(name);
    EXPECT_EQ(ours->name(), name);
    Comparer c(name);
    CompareWithDateTz(*ours, date::locate_zone(name), /*dense=*/true, c);
    comparisons += c.count();
    ++zones;
  }
  EXPECT_GE(zones, 10);
  RecordProperty("zones", zones);
  RecordProperty("comparisons", std::to_string(comparisons));
}

// From 1900 to 2100 against the C library (which reads the footer): every kStep, and each
// transition after 2037, where only the footer's rule makes them, to the second.
TEST(TimeZoneConformanceTest, ListedZonesMatchTheCLibraryTo2100) {
  for (const std::string name : kZones) {
    if (!IsInstalledZone(name)) continue;
    SCOPED_TRACE(name);
    const auto ours = MustLoad(name);
    Comparer c(name);
    CompareWithCLibrary(*ours, ":" + name, k1900, k2037, kStep, /*local_times=*/false, c);
    const int transitions =
        CompareWithCLibrary(*ours, ":" + name, k2037, k2100, kStep, /*local_times=*/true, c);
    if (FooterHasRule(ReadBytes(kZoneinfo + "/" + name))) {
      EXPECT_GE(transitions, 2 * 60) << "the footer's DST rule, 2037-2100";
    }
  }
}

// Every zone date-tz knows (its directory walk of /usr/share/zoneinfo): transitions and the
// local times around them against date-tz, then 2037-2100 against the C library.
TEST(TimeZoneConformanceTest, EveryInstalledZone) {
  int zones = 0;
  int64_t comparisons = 0;
  for (const date::time_zone& d : date::get_tzdb().zones) {
    const std::string name(d.name());
    if (!IsInstalledZone(name)) continue;  // zone1970.tab, tzdata.zi, ...
    SCOPED_TRACE(name);
    auto ours = TimeZone::Load(name);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    Comparer c(name);
    CompareWithDateTz(**ours, &d, /*dense=*/false, c);
    CompareWithCLibrary(**ours, ":" + name, k2037, k2100, 5 * kDay + 7 * kHour + 13,
                        /*local_times=*/true, c);
    comparisons += c.count();
    ++zones;
  }
  EXPECT_GE(zones, 300);
  RecordProperty("zones", zones);
  RecordProperty("comparisons", std::to_string(comparisons));
}

TEST(TimeZoneTest, GapsAndOverlapsAsDateTzChooses) {
  const auto berlin = MustLoad("Europe/Berlin");
  // 2024-03-31: 02:00 CET -> 03:00 CEST at 01:00Z (1711846800).
  EXPECT_EQ(berlin->OffsetAt(1'711'846'799), 3600);
  EXPECT_EQ(berlin->OffsetAt(1'711'846'800), 7200);
  EXPECT_EQ(berlin->ToUnix(1'711'846'800 + 3600 - 1), 1'711'846'799);  // 01:59:59
  EXPECT_EQ(berlin->ToUnix(1'711'846'800 + 3600), 1'711'846'800);      // 02:00, skipped
  EXPECT_EQ(berlin->ToUnix(1'711'846'800 + 5400), 1'711'846'800);      // 02:30, skipped
  EXPECT_EQ(berlin->ToUnix(1'711'846'800 + 7200), 1'711'846'800);      // 03:00
  // 2024-10-27: 03:00 CEST -> 02:00 CET at 01:00Z (1729990800); 02:30 happens twice.
  EXPECT_EQ(berlin->ToUnix(1'729'990'800 + 5400), 1'729'989'000);
  EXPECT_EQ(berlin->ToLocal(1'729'989'000), berlin->ToLocal(1'729'992'600));
  EXPECT_EQ(berlin->ToLocal(1'729'990'799), 1'729'990'799 + 7200);
  EXPECT_EQ(berlin->ToLocal(1'729'990'800), 1'729'990'800 + 3600);
  // 2050, from the footer (date-tz would still say CET in July).
  EXPECT_EQ(berlin->OffsetAt(2'540'246'400), 7200);  // 2050-07-01
  EXPECT_EQ(berlin->OffsetAt(2'555'971'200), 3600);  // 2050-12-30
}

TEST(TimeZoneTest, ExtremeInstantsAreClampedNotUndefined) {
  const auto z = MustLoad("America/New_York");
  for (int64_t t : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    int64_t{1} << 62, -(int64_t{1} << 62)}) {
    EXPECT_LE(std::abs(z->OffsetAt(t)), 24 * 3600);
    (void)z->ToLocal(t);
    (void)z->ToUnix(t);
  }
  EXPECT_GT(TimeZone::Utc()->ToUnix(std::numeric_limits<int64_t>::max()), int64_t{1} << 58);
  EXPECT_LT(TimeZone::Utc()->ToUnix(std::numeric_limits<int64_t>::min()), -(int64_t{1} << 58));
}

TEST(TimeZoneTest, BuiltInUtc) {
  const auto utc = TimeZone::Utc();
  EXPECT_EQ(utc->name(), "UTC");
  for (int64_t t : {k1900, k1970, k2100}) {
    EXPECT_EQ(utc->OffsetAt(t), 0);
    EXPECT_EQ(utc->ToLocal(t), t);
    EXPECT_EQ(utc->ToUnix(t), t);
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-made TZif files (RFC 8536).

struct TzifType {
  int32_t utoff;
  uint8_t isdst;
  uint8_t desigidx;
};

struct TzifSpec {
  char version = '2';  // '\0': version 1 only
  std::vector<int64_t> times;
  std::vector<uint8_t> indices;
  std::vector<TzifType> types = {{0, 0, 0}};
  std::string chars = std::string("UTC\0", 4);
  std::string footer;
  bool minimal_v1_block = false;  // version 2+: a v1 block with one UTC type and nothing else
};

void Put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Tzif(const TzifSpec& spec) {
  std::string s;
  const auto header = [&](char version, size_t timecnt, size_t typecnt, size_t charcnt) {
    s += "TZif";
    s.push_back(version);
    s.append(15, '\0');
    Put32(s, 0);  // isutcnt
    Put32(s, 0);  // isstdcnt
    Put32(s, 0);  // leapcnt
    Put32(s, static_cast<uint32_t>(timecnt));
    Put32(s, static_cast<uint32_t>(typecnt));
    Put32(s, static_cast<uint32_t>(charcnt));
  };
  const auto block = [&](size_t time_size) {
    for (int64_t t : spec.times) {
      if (time_size == 8) Put32(s, static_cast<uint32_t>(static_cast<uint64_t>(t) >> 32));
      Put32(s, static_cast<uint32_t>(t));
    }
    for (uint8_t i : spec.indices) s.push_back(static_cast<char>(i));
    for (const TzifType& t : spec.types) {
      Put32(s, static_cast<uint32_t>(t.utoff));
      s.push_back(static_cast<char>(t.isdst));
      s.push_back(static_cast<char>(t.desigidx));
    }
    s += spec.chars;
  };
  if (spec.version != '\0' && spec.minimal_v1_block) {
    header(spec.version, 0, 1, 4);
    Put32(s, 0);
    s.push_back('\0');
    s.push_back('\0');
    s += std::string("UTC\0", 4);
  } else {
    header(spec.version, spec.times.size(), spec.types.size(), spec.chars.size());
    block(4);
  }
  if (spec.version == '\0') return s;
  header(spec.version, spec.times.size(), spec.types.size(), spec.chars.size());
  block(8);
  s += "\n" + spec.footer + "\n";
  return s;
}

// Berlin-like: CET/CEST with two transitions in 2000, then the footer's rule.
TzifSpec CetSpec() {
  TzifSpec spec;
  spec.times = {954'032'400, 972'781'200};  // 2000-03-26T01:00Z, 2000-10-29T01:00Z
  spec.indices = {1, 0};
  spec.types = {{3600, 0, 0}, {7200, 1, 4}};
  spec.chars = std::string("CET\0CEST\0", 9);
  spec.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
  return spec;
}

class TzifFileTest : public ::testing::Test {
 protected:
  std::string dir() const { return dir_.path() + "/zoneinfo"; }
  StatusOr<std::unique_ptr<TimeZone>> LoadBytes(const std::string& name, const std::string& bytes) {
    WriteBytes(dir() + "/" + name, bytes);
    return TimeZone::Load(name, dir());
  }

  TempDir dir_;
};

TEST_F(TzifFileTest, VersionOneOnly) {
  TzifSpec spec = CetSpec();
  spec.version = '\0';
  auto z = LoadBytes("Test/V1", Tzif(spec));
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ((*z)->name(), "Test/V1");
  EXPECT_EQ((*z)->OffsetAt(0), 3600);  // before the first transition: type 0
  EXPECT_EQ((*z)->OffsetAt(954'032'399), 3600);
  EXPECT_EQ((*z)->OffsetAt(954'032'400), 7200);
  EXPECT_EQ((*z)->OffsetAt(972'781'199), 7200);
  EXPECT_EQ((*z)->OffsetAt(972'781'200), 3600);
  EXPECT_EQ((*z)->OffsetAt(2'540'246'400), 3600);  // no footer: the last offset for ever
  EXPECT_EQ((*z)->ToUnix(954'032'400 + 3600 + 1800), 954'032'400);  // in the gap
}

// The 64-bit block is used (the v1 block says UTC) and the footer's rule drives every instant
// after the last transition: the same offsets as Europe/Berlin from 2001 to 2100.
TEST_F(TzifFileTest, VersionTwoFooterRulesAfterTheLastTransition) {
  for (char version : {'2', '3', '4'}) {
    TzifSpec spec = CetSpec();
    spec.version = version;
    spec.minimal_v1_block = true;
    auto z = LoadBytes("Test/CET", Tzif(spec));
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    EXPECT_EQ((*z)->OffsetAt(954'032'400), 7200);
    EXPECT_EQ((*z)->OffsetAt(972'781'200), 3600);
    if (!IsInstalledZone("Europe/Berlin")) continue;
    const auto berlin = MustLoad("Europe/Berlin");
    Comparer c(std::string("footer v") + version);
    for (int64_t u = 972'781'200; u < k2100; u += kStep) {
      c.Expect("OffsetAt", u, (*z)->OffsetAt(u), berlin->OffsetAt(u));
      c.Expect("ToUnix", u, (*z)->ToUnix(u), berlin->ToUnix(u));
    }
  }
}

TEST(TimeZoneRuleTest, ParsesTheForms) {
  using Kind = TimeZone::PosixRule::Date::Kind;
  auto r = TimeZone::ParsePosixRule("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->std_offset, 3600);
  EXPECT_TRUE(r->has_dst);
  EXPECT_EQ(r->dst_offset, 7200);
  EXPECT_EQ(r->start.kind, Kind::kMonthWeekDay);
  EXPECT_EQ(r->start.month, 3);
  EXPECT_EQ(r->start.week, 5);
  EXPECT_EQ(r->start.day, 0);
  EXPECT_EQ(r->start_time, 7200);
  EXPECT_EQ(r->end.month, 10);
  EXPECT_EQ(r->end_time, 3 * 3600);

  r = TimeZone::ParsePosixRule("<+0330>-3:30");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->std_offset, 3 * 3600 + 1800);
  EXPECT_FALSE(r->has_dst);

  r = TimeZone::ParsePosixRule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->std_offset, -5 * 3600);
  EXPECT_EQ(r->dst_offset, -4 * 3600);

  r = TimeZone::ParsePosixRule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");  // America/Nuuk, version 3
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->start_time, -3600);
  EXPECT_EQ(r->end_time, 0);

  r = TimeZone::ParsePosixRule("IST-2IDT,M3.4.4/26,M10.5.0");  // Asia/Jerusalem, version 3
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->start_time, 26 * 3600);

  r = TimeZone::ParsePosixRule("XXX3YYY2:30:15,J60/-167,59/167:59:59");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->std_offset, -3 * 3600);
  EXPECT_EQ(r->dst_offset, -(2 * 3600 + 30 * 60 + 15));
  EXPECT_EQ(r->start.kind, Kind::kJulian);
  EXPECT_EQ(r->start.day, 60);
  EXPECT_EQ(r->start_time, -167 * 3600);
  EXPECT_EQ(r->end.kind, Kind::kDayOfYear);
  EXPECT_EQ(r->end.day, 59);
  EXPECT_EQ(r->end_time, 167 * 3600 + 59 * 60 + 59);

  r = TimeZone::ParsePosixRule("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->std_offset, 12 * 3600 + 45 * 60);
  EXPECT_EQ(r->dst_offset, 13 * 3600 + 45 * 60);
}

TEST(TimeZoneRuleTest, RejectsMalformedStrings) {
  for (const char* bad : {"",
                          "C",
                          "CE-1",
                          "CET",
                          "CET-",
                          "CET-25",
                          "CET-1:60",
                          "CET-1:30:60",
                          "CET-1CEST",
                          "CET-1CEST,",
                          "CET-1CEST,M3.5.0",
                          "CET-1CEST,M3.5.0,",
                          "CET-1CEST,M13.5.0,M10.5.0",
                          "CET-1CEST,M3.6.0,M10.5.0",
                          "CET-1CEST,M3.5.7,M10.5.0",
                          "CET-1CEST,M3.5,M10.5.0",
                          "CET-1CEST,J0,J365",
                          "CET-1CEST,J366,J1",
                          "CET-1CEST,366,1",
                          "CET-1CEST,M3.5.0/168,M10.5.0",
                          "CET-1CEST,M3.5.0/-168,M10.5.0",
                          "CET-1CEST,M3.5.0,M10.5.0/3x",
                          "<+03",
                          "<>3",
                          "<+0 3>-3",
                          "CET-1CEST,M3.5.0,M10.5.0,M11.1.0",
                          "CET-1CE,M3.5.0,M10.5.0",
                          "3CET"}) {
    auto r = TimeZone::ParsePosixRule(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("bad TZ string"), std::string::npos);
    }
  }
}

// Footer rules alone (a version 2/3 file without transitions), against the C library's reading
// of the same POSIX TZ string, 1970-2100: every form, quoted names, version 3's times.
TEST_F(TzifFileTest, FooterRulesMatchTheCLibrary) {
  int index = 0;
  for (const std::string rule :
       {"CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30",
        "NST3:30NDT,M3.2.0,M11.1.0", "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "IST-2IDT,M3.4.4/26,M10.5.0",
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3", "XXX3YYY,J60/2,J300/2", "XXX3YYY,59/2,299/2",
        "AAA-10BBB-11:30:15,J1/-167,J365/167", "ABC+5DEF+3,M1.1.0,M12.5.6/12:30:30"}) {
    SCOPED_TRACE(rule);
    auto parsed = TimeZone::ParsePosixRule(rule);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    TzifSpec spec;
    spec.version = '3';
    spec.types = {{parsed->std_offset, 0, 0}};
    spec.footer = rule;
    const std::string name = "Rule/N" + std::to_string(index++);
    auto z = LoadBytes(name, Tzif(spec));
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    Comparer c(rule);
    const int transitions =
        CompareWithCLibrary(**z, rule, k1970, k2100, kStep, /*local_times=*/true, c);
    EXPECT_GT(c.count(), 100'000);
    if (rule.find(',') != std::string::npos && rule.find("J1/-167") == std::string::npos) {
      EXPECT_GE(transitions, 2 * 129);
    }
  }
}

// DST all year, as RFC 8536 3.3.1 spells it (the C library gets the first hours of each UTC
// year wrong here, so the expectation is written out).
TEST_F(TzifFileTest, DaylightTimeAllYear) {
  TzifSpec spec;
  spec.version = '3';
  spec.types = {{-4 * 3600, 1, 0}};
  spec.footer = "EST5EDT4,0/0,J365/25";
  auto z = LoadBytes("Rule/AllYear", Tzif(spec));
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  for (int64_t u = k1970 - kDay; u < k2100; u += kHour * 7 + 13) {
    ASSERT_EQ((*z)->OffsetAt(u), -4 * 3600) << u;
  }
  EXPECT_EQ((*z)->ToUnix(0), 4 * 3600);
}

TEST_F(TzifFileTest, EveryTruncationIsACleanError) {
  TzifSpec spec = CetSpec();
  const std::string whole = Tzif(spec);
  ASSERT_TRUE(LoadBytes("Test/Whole", whole).ok());
  for (size_t n = 0; n < whole.size(); ++n) {
    auto z = LoadBytes("Test/Cut", whole.substr(0, n));
    ASSERT_FALSE(z.ok()) << n << " bytes";
    EXPECT_EQ(z.status().code(), StatusCode::kInvalidArgument) << n;
    EXPECT_EQ(z.status().message().rfind("time zone 'Test/Cut': not a valid TZif file: ", 0), 0u)
        << z.status().message();
  }
  // A real file too (parsed from memory: thousands of lengths).
  if (IsInstalledZone("Europe/Berlin")) {
    const std::string berlin = ReadBytes(kZoneinfo + "/Europe/Berlin");
    for (size_t n = 0; n < berlin.size(); ++n) {
      ASSERT_FALSE(TimeZone::Parse("Europe/Berlin", std::string_view(berlin).substr(0, n)).ok())
          << n;
    }
    ASSERT_TRUE(TimeZone::Parse("Europe/Berlin", berlin).ok());
  }
}

TEST_F(TzifFileTest, MalformedFilesAreCleanErrors) {
  const std::string good = Tzif(CetSpec());
  const auto error = [&](const std::string& bytes) {
    auto z = LoadBytes("Test/Bad", bytes);
    EXPECT_FALSE(z.ok());
    if (z.ok()) return std::string("accepted");
    EXPECT_EQ(z.status().code(), StatusCode::kInvalidArgument);
    return z.status().message();
  };
  const auto has = [](const std::string& message, const std::string& part) {
    EXPECT_NE(message.find(part), std::string::npos) << message;
  };
  // Bad magic, in each header.
  std::string bytes = good;
  bytes[0] = 'X';
  has(error(bytes), "bad magic in the first header");
  bytes = good;
  bytes[44 + 2 * 5 + 2 * 6 + 9] = 'X';  // the second header's first byte
  has(error(bytes), "bad magic in the second (64-bit) header");
  // Counts that point past the end: timecnt 2^32-1 in each header, charcnt in the second.
  bytes = good;
  for (int i = 0; i < 4; ++i) bytes[32 + i] = '\xff';
  has(error(bytes), "need 21474836496 bytes");
  const size_t second = 44 + 2 * 5 + 2 * 6 + 9;
  bytes = good;
  for (int i = 0; i < 4; ++i) bytes[second + 32 + i] = '\xff';
  has(error(bytes), "the second (64-bit) header's counts");
  bytes = good;
  bytes[second + 43] = 100;
  has(error(bytes), "the second (64-bit) header's counts");
  // Structure.
  TzifSpec spec = CetSpec();
  spec.types.clear();
  spec.indices.clear();
  spec.times.clear();
  has(error(Tzif(spec)), "no time types");
  spec = CetSpec();
  spec.chars.clear();
  spec.types = {{3600, 0, 0}};
  spec.indices = {0, 0};
  has(error(Tzif(spec)), "no time zone designations");
  spec = CetSpec();
  spec.indices = {1, 2};
  has(error(Tzif(spec)), "transition 1 has time type 2 of 2");
  spec = CetSpec();
  spec.times = {972'781'200, 954'032'400};
  has(error(Tzif(spec)), "transition 1 is not after the one before");
  spec = CetSpec();
  spec.types[1].utoff = 100'000;
  has(error(Tzif(spec)), "time type 1 has a UTC offset of 100000 s");
  spec = CetSpec();
  spec.types[1].utoff = std::numeric_limits<int32_t>::min();
  has(error(Tzif(spec)), "UTC offset");
  spec = CetSpec();
  spec.types[1].isdst = 2;
  has(error(Tzif(spec)), "isdst 2");
  spec = CetSpec();
  spec.types[1].desigidx = 9;
  has(error(Tzif(spec)), "designation index");
  // Leap-second records (leapcnt 1 in both headers, with the bytes they need).
  bytes = Tzif(CetSpec());
  {
    std::string v1 = bytes.substr(0, second);
    std::string v2 = bytes.substr(second);
    v1[31] = 1;
    v1.insert(44 + 2 * 5 + 2 * 6 + 9, std::string(8, '\0'));
    v2[31] = 1;
    v2.insert(44 + 2 * 9 + 2 * 6 + 9, std::string(12, '\0'));
    has(error(v1 + v2), "leap-second records");
  }
  // Footers.
  has(error(good.substr(0, good.size() - 1)), "unterminated footer");
  bytes = good;
  bytes[bytes.size() - 2 - CetSpec().footer.size()] = 'x';  // the footer's leading newline
  has(error(bytes), "missing footer");
  for (const std::string footer : {"CET-1CEST", "CET-1CEST,M3.5.0,M13.5.0", "<CET-1", "-1"}) {
    spec = CetSpec();
    spec.footer = footer;
    has(error(Tzif(spec)), "footer: bad TZ string '" + footer + "'");
  }
  // Not TZif at all; an empty file; a directory.
  has(error("# tzdata.zi\nZ Europe/Berlin 0:53:28 - LMT 1893 Ap\n"), "bad magic");
  has(error(""), "truncated first header (0 of 44 bytes)");
  std::filesystem::create_directories(dir() + "/Region");
  auto directory = TimeZone::Load("Region", dir());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kNotFound);
}

// An empty footer is allowed: the last transition's offset holds for ever.
TEST_F(TzifFileTest, EmptyFooter) {
  TzifSpec spec = CetSpec();
  spec.footer = "";
  auto z = LoadBytes("Test/NoRule", Tzif(spec));
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ((*z)->OffsetAt(2'540'246'400), 3600);
}

TEST(TimeZoneLoadTest, BadNames) {
  for (const auto& [name, why] : std::vector<std::pair<std::string, std::string>>{
           {"../etc/passwd", "a '..' path component"},
           {"Europe/../../etc/passwd", "a '..' path component"},
           {"/etc/passwd", "an absolute path"},
           {"", "empty"},
           {"./UTC", "a '.' path component"},
           {"Europe//Berlin", "an empty path component"},
           {"Europe/Berlin/", "an empty path component"},
           {"Europe/Ber lin", "only letters, digits"},
           {"Europe\\Berlin", "only letters, digits"},
           {std::string(300, 'a'), "longer than 255"}}) {
    auto z = TimeZone::Load(name);
    ASSERT_FALSE(z.ok()) << name;
    EXPECT_EQ(z.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(z.status().message().rfind("unknown time zone '" + name + "' (not a zone name: ", 0),
              0u)
        << z.status().message();
    EXPECT_NE(z.status().message().find(why), std::string::npos) << z.status().message();
  }
  auto missing = TimeZone::Load("Mars/Olympus");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "unknown time zone 'Mars/Olympus' (no such zone in /usr/share/zoneinfo: no such file)");
  // Names with every allowed character load when the file is there.
  if (IsInstalledZone("Etc/GMT+5") && IsInstalledZone("America/Port-au-Prince")) {
    EXPECT_TRUE(TimeZone::Load("Etc/GMT+5").ok());
    EXPECT_TRUE(TimeZone::Load("America/Port-au-Prince").ok());
  }
}

// ---------------------------------------------------------------------------------------------
// The machine's zone.

class CurrentZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sources_.zoneinfo_dir = dir_.path() + "/usr/share/zoneinfo";
    sources_.localtime_path = dir_.path() + "/etc/localtime";
    sources_.timezone_path = dir_.path() + "/etc/timezone";
    std::filesystem::create_directories(dir_.path() + "/etc");
    for (const char* name : {"Europe/Berlin", "Asia/Shanghai", "America/New_York"}) {
      TzifSpec spec = CetSpec();
      spec.chars += name;  // tells them apart
      WriteBytes(sources_.zoneinfo_dir + "/" + name, Tzif(spec));
    }
    WriteBytes(sources_.zoneinfo_dir + "/Damaged/Zone", "TZif2 too short");
  }
  std::string Current() {
    auto z = TimeZone::Current(sources_);
    if (!z.ok()) return z.status().ToString();
    return (*z)->name();
  }
  void Link(const std::string& target) {
    std::filesystem::remove(sources_.localtime_path);
    std::filesystem::create_symlink(target, sources_.localtime_path);
  }

  TempDir dir_;
  LocalZoneSources sources_;
};

TEST_F(CurrentZoneTest, SourcesInOrder) {
  EXPECT_EQ(Current(), "UTC");  // nothing configured
  WriteBytes(sources_.timezone_path, "  Asia/Shanghai \n# more\n");
  EXPECT_EQ(Current(), "Asia/Shanghai");
  Link(sources_.zoneinfo_dir + "/Europe/Berlin");
  EXPECT_EQ(Current(), "Europe/Berlin");
  Link("../usr/share/zoneinfo/posix/Europe/Berlin");  // relative, and posix/ dropped
  EXPECT_EQ(Current(), "Europe/Berlin");
  sources_.tz_env = ":America/New_York";
  EXPECT_EQ(Current(), "America/New_York");
  sources_.tz_env = sources_.zoneinfo_dir + "/America/New_York";
  EXPECT_EQ(Current(), "America/New_York");
  // A POSIX rule or an unknown name in TZ is passed over.
  for (const char* tz : {"CET-1CEST,M3.5.0,M10.5.0/3", "JST-9", ":", ":/etc/localtime"}) {
    sources_.tz_env = tz;
    EXPECT_EQ(Current(), "Europe/Berlin") << tz;
  }
  // A link to a zone that is not installed, or not into a zoneinfo directory: /etc/timezone.
  sources_.tz_env = "";
  Link(sources_.zoneinfo_dir + "/Mars/Olympus");
  EXPECT_EQ(Current(), "Asia/Shanghai");
  Link("/somewhere/else");
  EXPECT_EQ(Current(), "Asia/Shanghai");
  WriteBytes(sources_.timezone_path, "../../etc/passwd\n");
  EXPECT_EQ(Current(), "UTC");
  // A regular /etc/localtime (a copy) is no name: /etc/timezone says it.
  std::filesystem::remove(sources_.localtime_path);
  WriteBytes(sources_.localtime_path, Tzif(CetSpec()));
  WriteBytes(sources_.timezone_path, "Europe/Berlin");
  EXPECT_EQ(Current(), "Europe/Berlin");
}

TEST_F(CurrentZoneTest, DamagedZoneIsAnError) {
  Link(sources_.zoneinfo_dir + "/Damaged/Zone");
  EXPECT_EQ(
      Current().rfind("invalid_argument: the machine's time zone (from " + sources_.localtime_path +
                          "): time zone 'Damaged/Zone': not a valid TZif file",
                      0),
      0u)
      << Current();
}

// On this machine: what date::current_zone() says (it reads no TZ), or UTC where it finds none.
TEST(TimeZoneMachineTest, SameAsDateTzCurrentZone) {
  auto ours = TimeZone::Current(LocalZoneSources{});
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  std::string expected = "UTC";
  try {
    expected = std::string(date::current_zone()->name());
  } catch (const std::exception&) {
  }
  EXPECT_EQ((*ours)->name(), expected);
}

}  // namespace
}  // namespace steadfast::agent
