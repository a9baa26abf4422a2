#include "agent/checks/ups_check.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "agent/checks/stream_socket.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;

constexpr size_t kMaxLineBytes = 64 << 10;
constexpr size_t kMaxListLines = 10'000;
constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

std::optional<double> Number(const std::map<std::string, std::string>& vars,
                             const std::string& name) {
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  const std::string& text = it->second;
  double v = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  while (begin < end && *begin == ' ') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr == begin || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string Value(const std::map<std::string, std::string>& vars, const std::string& name) {
  auto it = vars.find(name);
  return it == vars.end() ? std::string() : it->second;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// A protocol argument in double quotes, with " and \ escaped.
std::string QuoteNutWord(const std::string& word) {
  std::string out = "\"";
  for (char c : word) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Checks the BEGIN/END framing of a LIST reply and returns the item lines in between.
StatusOr<std::vector<std::string_view>> ListItems(std::string_view reply, const std::string& what) {
  std::vector<std::string_view> lines = Lines(reply);
  if (lines.empty()) return DataLossError("empty reply from upsd");
  if (lines.front().substr(0, 4) == "ERR " || lines.front() == "ERR") {
    return FailedPreconditionError(NutErrorText(lines.front()));
  }
  if (lines.front() != "BEGIN LIST " + what) {
    return DataLossError(fmt::format("unexpected reply from upsd: '{}'", lines.front()));
  }
  if (lines.size() < 2 || lines.back() != "END LIST " + what) {
    return DataLossError(fmt::format("upsd's LIST {} reply has no END line", what));
  }
  return std::vector<std::string_view>(lines.begin() + 1, lines.end() - 1);
}

// Sends `request` and reads one reply: a single line, or for a LIST request every line up to
// "END LIST ..." (or a single ERR line). Returns the lines joined by '\n'.
StatusOr<std::string> Exchange(StreamSocket& sock, const std::string& request, bool list) {
  SF_RETURN_IF_ERROR(sock.WriteAll(request + "\n"));
  std::string reply;
  for (size_t n = 0; n < kMaxListLines; ++n) {
    SF_ASSIGN_OR_RETURN(std::string line, sock.ReadUntil('\n', kMaxLineBytes));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    reply += line;
    reply += '\n';
    if (!list || line.rfind("END LIST ", 0) == 0 || (n == 0 && line.rfind("ERR", 0) == 0)) {
      return reply;
    }
  }
  return ResourceExhaustedError(fmt::format("upsd sent more than {} lines", kMaxListLines));
}

}  // namespace

StatusOr<std::vector<std::string>> SplitNutWords(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    std::string word;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '\\' && i < line.size()) {
          word.push_back(line[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          word.push_back(c);
        }
      }
      if (!closed) return InvalidArgumentError("unterminated quoted value");
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') word.push_back(line[i++]);
    }
    words.push_back(std::move(word));
  }
  return words;
}

std::string NutErrorText(std::string_view line) {
  std::string_view rest = line.substr(std::min<size_t>(line.size(), 3));
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string_view code = rest.substr(0, rest.find(' '));
  std::string text;
  if (code == "ACCESS-DENIED") {
    text = "upsd denied access (credentials or host not allowed)";
  } else if (code == "UNKNOWN-UPS") {
    text = "upsd does not know this UPS";
  } else if (code == "DATA-STALE") {
    text = "upsd's data from the UPS driver is stale (the driver lost contact with the UPS)";
  } else if (code == "DRIVER-NOT-CONNECTED") {
    text = "upsd is not connected to the UPS driver";
  } else if (code == "VAR-NOT-SUPPORTED") {
    text = "the UPS does not support this variable";
  } else if (code == "USERNAME-REQUIRED" || code == "PASSWORD-REQUIRED") {
    text = "upsd wants a username and password";
  } else if (code == "INVALID-USERNAME" || code == "INVALID-PASSWORD") {
    text = "upsd rejected the username or password";
  } else {
    text = "upsd answered an error";
  }
  return fmt::format("{} ({})", text, line);
}

StatusOr<std::map<std::string, std::string>> ParseNutListVar(std::string_view reply,
                                                             const std::string& ups) {
  SF_ASSIGN_OR_RETURN(std::vector<std::string_view> items, ListItems(reply, "VAR " + ups));
  std::map<std::string, std::string> vars;
  for (std::string_view line : items) {
    auto words = SplitNutWords(line);
    if (!words.ok() || words->size() != 4 || (*words)[0] != "VAR" || (*words)[1] != ups) {
      return DataLossError(fmt::format("malformed line in upsd's reply: '{}'", line));
    }
    vars[(*words)[2]] = (*words)[3];
  }
  return vars;
}

StatusOr<std::vector<NutUps>> ParseNutListUps(std::string_view reply) {
  SF_ASSIGN_OR_RETURN(std::vector<std::string_view> items, ListItems(reply, "UPS"));
  std::vector<NutUps> out;
  for (std::string_view line : items) {
    auto words = SplitNutWords(line);
    if (!words.ok() || words->size() < 2 || words->size() > 3 || (*words)[0] != "UPS") {
      return DataLossError(fmt::format("malformed line in upsd's reply: '{}'", line));
    }
    out.push_back({(*words)[1], words->size() == 3 ? (*words)[2] : ""});
  }
  return out;
}

UpsState UpsStateFromNutVars(const std::map<std::string, std::string>& vars) {
  UpsState s;
  ApplyNutStatusFlags(Value(vars, "ups.status"), &s);
  s.alarm_text = Value(vars, "ups.alarm");
  s.charge_percent = Number(vars, "battery.charge");
  s.runtime_seconds = Number(vars, "battery.runtime");
  s.load_percent = Number(vars, "ups.load");
  s.input_voltage = Number(vars, "input.voltage");
  s.output_voltage = Number(vars, "output.voltage");
  s.temperature_celsius = Number(vars, "ups.temperature");
  return s;
}

std::string UpsCheck::Server() const {
  if (options_.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", options_.host, options_.port);
  }
  return fmt::format("{}:{}", options_.host, options_.port);
}

CheckResult UpsCheck::Unknown(const CheckContext& ctx, const std::string& target,
                              const std::string& why) const {
  CheckResult r = NewResult(ctx, target);
  r.status = CheckStatus::kUnknown;
  r.summary = why;
  r.metrics.push_back({"ups_up", {}, 0, ""});
  return r;
}

CheckResult UpsCheck::Graded(const CheckContext& ctx, const std::string& ups,
                             const std::map<std::string, std::string>& vars) const {
  CheckResult r = NewResult(ctx, ups + "@" + Server());
  UpsState state = UpsStateFromNutVars(vars);
  UpsGrade g = GradeUps(state, options_.thresholds);
  r.status = g.status;
  r.summary = std::move(g.summary);
  r.metrics.push_back({"ups_up", {}, 1, ""});
  for (auto& m : g.metrics) r.metrics.push_back(std::move(m));
  nlohmann::json details = {{"ups", ups}, {"status", Value(vars, "ups.status")}};
  for (const char* key :
       {"device.mfr", "device.model", "device.serial", "ups.mfr", "ups.model", "ups.serial",
        "driver.name", "battery.charge.low", "battery.runtime.low", "battery.date", "ups.alarm"}) {
    std::string v = Value(vars, key);
    if (!v.empty()) details[key] = v;
  }
  r.details_json = details.dump();
  return r;
}

std::vector<CheckResult> UpsCheck::Run(const CheckContext& ctx) {
  const std::string server = Server();
  const std::string all_target =
      (options_.ups.empty() ? std::string("upsd") : options_.ups) + "@" + server;
  const auto deadline = DeadlineOr(ctx.deadline, kDefaultTimeout);

  std::string password;
  if (!options_.username.empty()) {
    auto text = ctx.fs.ReadFile(options_.password_file, 4096);
    if (!text.ok()) {
      return {Unknown(ctx, all_target,
                      "cannot read the upsd password file: " + text.status().message())};
    }
    password = text->substr(0, text->find('\n'));
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }

  auto sock = StreamSocket::ConnectTcp(options_.host, options_.port, deadline);
  if (!sock.ok()) {
    return {
        Unknown(ctx, all_target,
                fmt::format("cannot connect to upsd at {}: {}", server, sock.status().message()))};
  }
  if (!options_.username.empty()) {
    // Credentials go out as two commands; neither is ever logged or put in a result.
    for (const std::string& cmd :
         {"USERNAME " + options_.username, "PASSWORD " + QuoteNutWord(password)}) {
      auto reply = Exchange(*sock, cmd, /*list=*/false);
      if (!reply.ok()) {
        return {Unknown(ctx, all_target,
                        fmt::format("upsd at {}: {}", server, reply.status().message()))};
      }
      if (reply->rfind("OK", 0) != 0) {
        std::string line = reply->substr(0, reply->find('\n'));
        return {
            Unknown(ctx, all_target,
                    fmt::format("upsd at {}: {}", server,
                                line.rfind("ERR", 0) == 0 ? NutErrorText(line)
                                                          : "unexpected reply '" + line + "'"))};
      }
    }
  }

  std::vector<std::string> names;
  if (options_.ups.empty()) {
    auto reply = Exchange(*sock, "LIST UPS", /*list=*/true);
    StatusOr<std::vector<NutUps>> list =
        reply.ok() ? ParseNutListUps(*reply) : StatusOr<std::vector<NutUps>>(reply.status());
    if (!list.ok()) {
      return {Unknown(
          ctx, all_target,
          fmt::format("cannot list UPSes at upsd {}: {}", server, list.status().message()))};
    }
    if (list->empty()) {
      return {Unknown(ctx, all_target, fmt::format("upsd at {} serves no UPS", server))};
    }
    for (const NutUps& u : *list) names.push_back(u.name);
  } else {
    names.push_back(options_.ups);
  }

  std::vector<CheckResult> results;
  Status broken = OkStatus();  // once the connection fails, the remaining UPSes are unknown
  for (const std::string& ups : names) {
    const std::string target = ups + "@" + server;
    if (!broken.ok()) {
      results.push_back(Unknown(ctx, target, "cannot read UPS from upsd: " + broken.message()));
      continue;
    }
    auto reply = Exchange(*sock, "LIST VAR " + ups, /*list=*/true);
    if (!reply.ok()) {
      broken = reply.status();
      results.push_back(Unknown(ctx, target, "cannot read UPS from upsd: " + broken.message()));
      continue;
    }
    auto vars = ParseNutListVar(*reply, ups);
    if (!vars.ok()) {
      results.push_back(Unknown(ctx, target, "cannot read UPS: " + vars.status().message()));
      continue;
    }
    results.push_back(Graded(ctx, ups, *vars));
  }
  if (broken.ok()) {
    // A polite goodbye; upsd closes the connection either way.
    Exchange(*sock, "LOGOUT", /*list=*/false).status().IgnoreError();
  }
  return results;
}

StatusOr<std::unique_ptr<Check>> NewUpsCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"host", "port", "ups", "username", "password_file"});
  known.insert(known.end(), UpsThresholdKeys().begin(), UpsThresholdKeys().end());
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  UpsCheckOptions o;
  SF_ASSIGN_OR_RETURN(o.host, n["host"].String("127.0.0.1"));
  if (o.host.empty()) return n["host"].Error("must not be empty");
  SF_ASSIGN_OR_RETURN(int64_t port, n["port"].Int(3493, 1, 65535));
  o.port = static_cast<uint16_t>(port);
  SF_ASSIGN_OR_RETURN(o.ups, n["ups"].String(""));
  if (o.ups == "all") o.ups.clear();
  for (char c : o.ups) {
    if (c == ' ' || c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '@') {
      return n["ups"].Error("a UPS name has no spaces, quotes, backslashes or '@'");
    }
  }
  SF_ASSIGN_OR_RETURN(o.username, n["username"].String(""));
  SF_ASSIGN_OR_RETURN(o.password_file, n["password_file"].String(""));
  if (o.username.find_first_of(" \t\r\n\"\\") != std::string::npos) {
    return n["username"].Error("a NUT username has no spaces, quotes or backslashes");
  }
  if (o.username.empty() != o.password_file.empty()) {
    return (o.username.empty() ? n["password_file"] : n["username"])
        .Error("username and password_file go together");
  }
  if (!o.password_file.empty() && o.password_file[0] != '/') {
    return n["password_file"].Error("expected an absolute path");
  }
  SF_ASSIGN_OR_RETURN(o.thresholds, ReadUpsThresholds(n));
  return std::unique_ptr<Check>(std::make_unique<UpsCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
