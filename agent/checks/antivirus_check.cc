#include "agent/checks/antivirus_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/checks/stream_socket.h"
#include "agent/command_runner.h"
#include "agent/host_port.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
constexpr size_t kMaxReplyBytes = 64 << 10;
constexpr double kDay = 86'400.0;

// EICAR, each byte XOR 0x20 (see EicarTestFile).
constexpr std::array<unsigned char, 68> kEicarMasked = {
    0x78, 0x15, 0x6f, 0x01, 0x70, 0x05, 0x60, 0x61, 0x70, 0x7b, 0x14, 0x7c, 0x70, 0x7a,
    0x78, 0x15, 0x14, 0x08, 0x70, 0x7e, 0x09, 0x17, 0x63, 0x63, 0x09, 0x17, 0x5d, 0x04,
    0x65, 0x69, 0x63, 0x61, 0x72, 0x0d, 0x73, 0x74, 0x61, 0x6e, 0x64, 0x61, 0x72, 0x64,
    0x0d, 0x61, 0x6e, 0x74, 0x69, 0x76, 0x69, 0x72, 0x75, 0x73, 0x0d, 0x74, 0x65, 0x73,
    0x74, 0x0d, 0x66, 0x69, 0x6c, 0x65, 0x01, 0x04, 0x68, 0x0b, 0x68, 0x0a};

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == '\0' || s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// One clamd command on its own connection: sends `request`, returns the reply up to its NUL.
StatusOr<std::string> ClamdCommand(const AntivirusCheckOptions& o, const std::string& request,
                                   StreamSocket::TimePoint deadline) {
  StatusOr<StreamSocket> sock = o.tcp_host.empty()
                                    ? StreamSocket::ConnectUnix(o.socket_path, deadline)
                                    : StreamSocket::ConnectTcp(o.tcp_host, o.tcp_port, deadline);
  if (!sock.ok()) return sock.status();
  SF_RETURN_IF_ERROR(sock->WriteAll(request));
  return sock->ReadUntil('\0', kMaxReplyBytes);
}

std::string DaysText(double days) { return fmt::format("{:.1f} days", days); }

// Grades a signature age; appends the problem (if any) to `problems`.
CheckStatus GradeAge(double age_days, const Thresholds& t, std::vector<std::string>* problems) {
  CheckStatus st = t.Grade(age_days);
  if (st == CheckStatus::kCritical) {
    problems->push_back(
        fmt::format("signatures {} old (critical at {:g} days)", DaysText(age_days), *t.critical));
  } else if (st == CheckStatus::kWarning) {
    problems->push_back(
        fmt::format("signatures {} old (warning at {:g} days)", DaysText(age_days), *t.warning));
  }
  return st;
}

std::string FirstLine(std::string_view text) {
  text = Trim(text);
  return std::string(text.substr(0, text.find('\n')));
}

}  // namespace

StatusOr<ClamdVersion> ParseClamdVersion(std::string_view reply) {
  reply = Trim(reply);
  constexpr std::string_view kPrefix = "ClamAV ";
  if (reply.substr(0, kPrefix.size()) != kPrefix) {
    return DataLossError(fmt::format("unexpected VERSION reply '{}'", reply));
  }
  reply.remove_prefix(kPrefix.size());
  ClamdVersion v;
  size_t slash = reply.find('/');
  v.engine = std::string(Trim(reply.substr(0, slash)));
  if (slash == std::string_view::npos) return v;
  std::string_view rest = reply.substr(slash + 1);
  size_t slash2 = rest.find('/');
  std::string_view version = rest.substr(0, slash2);
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(version.data(), version.data() + version.size(), n);
  if (ec != std::errc() || ptr != version.data() + version.size()) {
    return DataLossError(fmt::format("unexpected database version '{}' in VERSION reply", version));
  }
  v.db_version = n;
  if (slash2 == std::string_view::npos) return v;
  v.db_time_text = std::string(Trim(rest.substr(slash2 + 1)));
  std::tm tm{};
  const char* end = ::strptime(v.db_time_text.c_str(), "%a %b %d %H:%M:%S %Y", &tm);
  if (end == nullptr || *end != '\0') {
    return DataLossError(
        fmt::format("unexpected database time '{}' in VERSION reply", v.db_time_text));
  }
  v.db_time = tm;
  return v;
}

StatusOr<std::string> ParseClamdScanReply(std::string_view reply) {
  reply = Trim(reply);
  constexpr std::string_view kFound = " FOUND";
  constexpr std::string_view kError = " ERROR";
  if (reply.size() > kFound.size() && reply.substr(reply.size() - kFound.size()) == kFound) {
    std::string_view body = reply.substr(0, reply.size() - kFound.size());
    size_t colon = body.rfind(": ");
    return std::string(colon == std::string_view::npos ? body : body.substr(colon + 2));
  }
  if (reply.size() >= kError.size() && reply.substr(reply.size() - kError.size()) == kError) {
    return FailedPreconditionError(std::string(reply));
  }
  if (reply == "stream: OK" || (reply.size() > 4 && reply.substr(reply.size() - 4) == ": OK")) {
    return std::string();
  }
  return DataLossError(fmt::format("unexpected scan reply '{}'", reply));
}

std::string EicarTestFile() {
  std::string out;
  out.reserve(kEicarMasked.size());
  for (unsigned char c : kEicarMasked) out.push_back(static_cast<char>(c ^ 0x20));
  return out;
}

std::string ClamdInstreamRequest(std::string_view data, size_t chunk_bytes) {
  std::string out("zINSTREAM", 9);
  out.push_back('\0');
  auto put_length = [&out](uint32_t n) {
    out.push_back(static_cast<char>((n >> 24) & 0xff));
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
  };
  while (!data.empty()) {
    std::string_view chunk = data.substr(0, chunk_bytes);
    put_length(static_cast<uint32_t>(chunk.size()));
    out.append(chunk);
    data.remove_prefix(chunk.size());
  }
  put_length(0);
  return out;
}

StatusOr<int64_t> NewestModifiedTime(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    if (ec == std::errc::permission_denied) {
      return PermissionDeniedError(fmt::format("{}: permission denied", path));
    }
    return NotFoundError(fmt::format("{}: no such file or directory", path));
  }
  auto to_unix = [](fs::file_time_type t) {
    auto sys = std::chrono::file_clock::to_sys(t);
    return static_cast<int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count());
  };
  if (!fs::is_directory(st)) {
    auto t = fs::last_write_time(path, ec);
    if (ec) return UnavailableError(fmt::format("{}: {}", path, ec.message()));
    return to_unix(t);
  }
  std::optional<int64_t> newest;
  size_t entries = 0;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  if (ec) return UnavailableError(fmt::format("{}: {}", path, ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return UnavailableError(fmt::format("{}: {}", path, ec.message()));
    if (++entries > 100'000) break;
    if (it.depth() >= 2) it.disable_recursion_pending();  // at most 3 levels below `path`
    std::error_code fec;
    if (!it->is_regular_file(fec) || fec) continue;
    auto t = it->last_write_time(fec);
    if (fec) continue;
    int64_t unix_seconds = to_unix(t);
    if (!newest || unix_seconds > *newest) newest = unix_seconds;
  }
  if (!newest) return FailedPreconditionError(fmt::format("{}: no file in the directory", path));
  return *newest;
}

std::string AntivirusCheck::Target() const {
  if (options_.product == AntivirusCheckOptions::Product::kGeneric) return options_.display_name;
  if (!options_.tcp_host.empty()) {
    if (options_.tcp_host.find(':') != std::string::npos) {
      return fmt::format("[{}]:{}", options_.tcp_host, options_.tcp_port);
    }
    return fmt::format("{}:{}", options_.tcp_host, options_.tcp_port);
  }
  return options_.socket_path;
}

std::vector<CheckResult> AntivirusCheck::Run(const CheckContext& ctx) {
  if (options_.product == AntivirusCheckOptions::Product::kGeneric) return {RunGeneric(ctx)};
  return {RunClamav(ctx)};
}

CheckResult AntivirusCheck::RunClamav(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, Target());
  const auto deadline = DeadlineOr(ctx.deadline, kDefaultTimeout);
  nlohmann::json details = {{"product", "clamav"}};

  auto pong = ClamdCommand(options_, std::string("zPING\0", 6), deadline);
  if (!pong.ok() || Trim(*pong) != "PONG") {
    r.status = CheckStatus::kUnknown;
    r.summary = fmt::format("cannot reach clamd at {}: {}", Target(),
                            pong.ok() ? fmt::format("unexpected PING reply '{}'", Trim(*pong))
                                      : pong.status().message());
    r.metrics.push_back({"antivirus_engine_up", {}, 0, ""});
    r.details_json = details.dump();
    return r;
  }
  r.metrics.push_back({"antivirus_engine_up", {}, 1, ""});

  auto version_reply = ClamdCommand(options_, std::string("zVERSION\0", 9), deadline);
  StatusOr<ClamdVersion> version = version_reply.ok()
                                       ? ParseClamdVersion(*version_reply)
                                       : StatusOr<ClamdVersion>(version_reply.status());
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems;
  std::vector<std::string> facts;
  if (!version.ok()) {
    status = CheckStatus::kUnknown;
    problems.push_back("cannot read clamd's version: " + version.status().message());
    facts.push_back("clamd up");
  } else {
    details["engine_version"] = version->engine;
    facts.push_back(fmt::format("ClamAV {} up", version->engine));
    if (!version->db_version) {
      status = CheckStatus::kWarning;
      problems.push_back(
          "clamd reports no signature database version (only local signatures loaded?)");
    } else {
      details["database_version"] = *version->db_version;
      details["database_time"] = version->db_time_text;
      r.metrics.push_back(
          {"antivirus_signature_version", {}, static_cast<double>(*version->db_version), ""});
      std::string fact = fmt::format("signatures {}", *version->db_version);
      if (version->db_time) {
        std::tm local = *version->db_time;
        local.tm_isdst = -1;
        const std::time_t built = std::mktime(&local);
        const double age_seconds =
            std::max(0.0, static_cast<double>(ctx.clock.NowMillis() / 1000 - built));
        r.metrics.push_back({"antivirus_signature_age_seconds", {}, age_seconds, "seconds"});
        details["database_age_seconds"] = age_seconds;
        status = protocol::WorseStatus(
            status, GradeAge(age_seconds / kDay, options_.signature_age_days, &problems));
        fact +=
            fmt::format(" built {} ({} old)", version->db_time_text, DaysText(age_seconds / kDay));
      }
      facts.push_back(std::move(fact));
    }
  }

  if (options_.self_test) {
    auto scan = ClamdCommand(options_, ClamdInstreamRequest(EicarTestFile()), deadline);
    StatusOr<std::string> found =
        scan.ok() ? ParseClamdScanReply(*scan) : StatusOr<std::string>(scan.status());
    if (!scan.ok()) {
      status = protocol::WorseStatus(status, CheckStatus::kUnknown);
      problems.push_back("EICAR self-test could not run: " + scan.status().message());
    } else if (!found.ok()) {
      status = CheckStatus::kCritical;
      problems.push_back("EICAR self-test failed: " + found.status().message());
      r.metrics.push_back({"antivirus_selftest_detected", {}, 0, ""});
    } else if (found->empty()) {
      status = CheckStatus::kCritical;
      problems.push_back("clamd did NOT detect the EICAR test file");
      r.metrics.push_back({"antivirus_selftest_detected", {}, 0, ""});
    } else {
      details["selftest_signature"] = *found;
      facts.push_back(fmt::format("EICAR self-test detected ({})", *found));
      r.metrics.push_back({"antivirus_selftest_detected", {}, 1, ""});
    }
  }

  r.status = status;
  r.summary = problems.empty() ? JoinText(facts, ", ")
                               : JoinText(problems, "; ") + "; " + JoinText(facts, ", ");
  r.details_json = details.dump();
  return r;
}

CheckResult AntivirusCheck::RunGeneric(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, Target());
  nlohmann::json details = {{"product", "generic"}};
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems;
  std::vector<std::string> facts;
  bool running = true;
  bool running_known = true;

  if (!options_.unit.empty()) {
    details["unit"] = options_.unit;
    if (ctx.commands == nullptr) {
      running_known = false;
      problems.push_back("cannot ask systemd: no command runner in this context");
    } else {
      CommandRequest req;
      req.argv = {"systemctl", "is-active", options_.unit};
      auto deadline = DeadlineOr(ctx.deadline, kDefaultTimeout);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      req.timeout = std::clamp(left, std::chrono::milliseconds(100), kDefaultTimeout);
      req.max_output_bytes = 4096;
      auto res = ctx.commands->Run(req);
      std::string state = res.ok() ? FirstLine(res->out) : "";
      if (!res.ok()) {
        running_known = false;
        problems.push_back("cannot run systemctl: " + res.status().message());
      } else if (res->timed_out) {
        running_known = false;
        problems.push_back("systemctl is-active timed out");
      } else if (state.empty()) {
        running_known = false;
        problems.push_back(
            fmt::format("cannot ask systemd about {}: {}", options_.unit,
                        FirstLine(res->err).empty() ? "no answer" : FirstLine(res->err)));
      } else {
        details["unit_state"] = state;
        if (state == "active" || state == "reloading") {
          facts.push_back(fmt::format("{} {}", options_.unit, state));
        } else {
          running = false;
          problems.push_back(fmt::format("{} is {}", options_.unit, state));
        }
      }
    }
  }
  if (!options_.process.empty()) {
    details["process"] = options_.process;
    // /proc/<pid>/comm holds at most 15 characters of the name.
    const std::string want = options_.process.substr(0, 15);
    auto entries = ctx.fs.ListDirectory(ctx.proc_root);
    if (!entries.ok()) {
      running_known = false;
      problems.push_back("cannot list processes: " + entries.status().message());
    } else {
      int count = 0;
      for (const std::string& e : *entries) {
        if (e.empty() || e.find_first_not_of("0123456789") != std::string::npos) continue;
        auto comm = ctx.fs.ReadFile(ctx.proc_root + "/" + e + "/comm", 256);
        if (comm.ok() && FirstLine(*comm) == want) ++count;
      }
      details["process_count"] = count;
      if (count > 0) {
        facts.push_back(fmt::format("process {} running ({})", options_.process, count));
      } else {
        running = false;
        problems.push_back(fmt::format("process {} is not running", options_.process));
      }
    }
  }
  if (!running) {
    status = CheckStatus::kCritical;
  } else if (!running_known) {
    status = CheckStatus::kUnknown;
  }
  r.metrics.push_back({"antivirus_engine_up", {}, running && running_known ? 1.0 : 0.0, ""});

  details["definitions"] = options_.definitions;
  auto mtime = mtime_(options_.definitions);
  if (!mtime.ok()) {
    status = protocol::WorseStatus(status, CheckStatus::kUnknown);
    problems.push_back("cannot read the definitions' age: " + mtime.status().message());
  } else {
    const double age_seconds =
        std::max(0.0, static_cast<double>(ctx.clock.NowMillis() / 1000 - *mtime));
    r.metrics.push_back({"antivirus_signature_age_seconds", {}, age_seconds, "seconds"});
    details["definitions_age_seconds"] = age_seconds;
    status = protocol::WorseStatus(
        status, GradeAge(age_seconds / kDay, options_.signature_age_days, &problems));
    facts.push_back(fmt::format("definitions {} old", DaysText(age_seconds / kDay)));
  }
  r.status = status;
  r.summary = options_.display_name + ": " +
              (problems.empty() ? JoinText(facts, ", ")
                                : JoinText(problems, "; ") + (facts.empty() ? "" : "; ") +
                                      JoinText(facts, ", "));
  r.details_json = details.dump();
  return r;
}

StatusOr<std::unique_ptr<Check>> NewAntivirusCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(),
               {"product", "socket", "address", "self_test", "unit", "process", "definitions",
                "display_name", "signature_warning_days", "signature_critical_days"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  AntivirusCheckOptions o;
  SF_ASSIGN_OR_RETURN(std::string product, n["product"].Enum({"clamav", "generic"}, "clamav"));
  SF_ASSIGN_OR_RETURN(
      o.signature_age_days,
      ReadThresholds(n, "signature_warning_days", "signature_critical_days", 3.0, 7.0, 0, 3650));
  if (product == "clamav") {
    o.product = AntivirusCheckOptions::Product::kClamav;
    for (const char* key : {"unit", "process", "definitions", "display_name"}) {
      if (n[key].present()) return n[key].Error("only for product: generic");
    }
    if (n["socket"].present() && n["address"].present()) {
      return n["address"].Error("set either socket (unix) or address (host:port), not both");
    }
    if (n["address"].present()) {
      SF_ASSIGN_OR_RETURN(std::string address, n["address"].RequiredString());
      Status st = SplitHostPort(address, &o.tcp_host, &o.tcp_port);
      if (!st.ok()) return n["address"].Error(st.message());
      if (o.tcp_port == 0) return n["address"].Error("port must be between 1 and 65535");
    } else {
      SF_ASSIGN_OR_RETURN(o.socket_path, n["socket"].String(o.socket_path));
      if (o.socket_path.empty() || o.socket_path[0] != '/') {
        return n["socket"].Error("expected the absolute path of clamd's LocalSocket");
      }
      if (o.socket_path.size() > 107) return n["socket"].Error("longer than 107 bytes");
    }
    SF_ASSIGN_OR_RETURN(o.self_test, n["self_test"].Bool(false));
  } else {
    o.product = AntivirusCheckOptions::Product::kGeneric;
    for (const char* key : {"socket", "address", "self_test"}) {
      if (n[key].present()) return n[key].Error("only for product: clamav");
    }
    SF_ASSIGN_OR_RETURN(o.unit, n["unit"].String(""));
    SF_ASSIGN_OR_RETURN(o.process, n["process"].String(""));
    if (o.unit.empty() && o.process.empty()) {
      return n["unit"].Error("product: generic needs a unit or a process that must be running");
    }
    if (!n["definitions"].present()) {
      return n["definitions"].Error("required key is missing (the definitions file or directory)");
    }
    SF_ASSIGN_OR_RETURN(o.definitions, n["definitions"].RequiredString());
    if (o.definitions.empty() || o.definitions[0] != '/') {
      return n["definitions"].Error("expected an absolute path");
    }
    SF_ASSIGN_OR_RETURN(o.display_name,
                        n["display_name"].String(o.unit.empty() ? o.process : o.unit));
  }
  return std::unique_ptr<Check>(std::make_unique<AntivirusCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
