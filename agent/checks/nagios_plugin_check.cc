#include "agent/checks/nagios_plugin_check.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "agent/checks/check_util.h"

namespace steadfast::agent {
namespace {

using protocol::CheckResult;
using protocol::CheckStatus;
using protocol::Metric;

constexpr size_t kMaxOutputBytes = 64 << 10;
constexpr size_t kMaxLongOutputBytes = 8 << 10;
constexpr size_t kMaxStderrBytes = 2 << 10;
constexpr size_t kMaxPerfdataItems = 200;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Lines(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return lines;
}

std::string FirstLine(std::string_view s) { return std::string(Trim(s.substr(0, s.find('\n')))); }

std::string Cut(std::string s, size_t max) {
  if (s.size() > max) {
    s.resize(max);
    s += "...";
  }
  return s;
}

// Splits "12.5ms" into 12.5 and "ms". False when it does not start with a number.
bool SplitValue(std::string_view text, double* value, std::string* uom) {
  std::string number;
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) number += text[i++];
    return i > start;
  };
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) number += text[i++];
  bool any = digits();
  // Some plugins print a locale's decimal comma.
  if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
    number += '.';
    ++i;
    any = digits() || any;
  }
  if (!any) return false;
  if (i + 1 < text.size() && (text[i] == 'e' || text[i] == 'E') &&
      (std::isdigit(static_cast<unsigned char>(text[i + 1])) ||
       ((text[i + 1] == '-' || text[i + 1] == '+') && i + 2 < text.size() &&
        std::isdigit(static_cast<unsigned char>(text[i + 2]))))) {
    number += text[i++];
    if (text[i] == '-' || text[i] == '+') number += text[i++];
    digits();
  }
  char* end = nullptr;
  *value = std::strtod(number.c_str(), &end);
  *uom = std::string(text.substr(i));
  return end != nullptr && *end == '\0';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string StatusWord(int exit_code) {
  switch (exit_code) {
    case 0:
      return "ok";
    case 1:
      return "warning";
    case 2:
      return "critical";
    default:
      return "unknown";
  }
}

}  // namespace

PluginOutput SplitPluginOutput(std::string_view out) {
  PluginOutput p;
  std::vector<std::string_view> lines = Lines(out);
  if (lines.empty()) return p;
  auto add_perf = [&](std::string_view part) {
    part = Trim(part);
    if (part.empty()) return;
    if (!p.perfdata.empty()) p.perfdata += ' ';
    p.perfdata += part;
  };
  size_t bar = lines[0].find('|');
  p.summary = std::string(Trim(lines[0].substr(0, bar)));
  if (bar != std::string_view::npos) add_perf(lines[0].substr(bar + 1));
  bool in_perfdata = false;
  std::vector<std::string_view> text;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (in_perfdata) {
      add_perf(lines[i]);
      continue;
    }
    size_t b = lines[i].find('|');
    if (b != std::string_view::npos) {
      in_perfdata = true;
      text.push_back(lines[i].substr(0, b));
      add_perf(lines[i].substr(b + 1));
    } else {
      text.push_back(lines[i]);
    }
  }
  while (!text.empty() && Trim(text.back()).empty()) text.pop_back();
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0) p.long_output += '\n';
    p.long_output += text[i];
  }
  return p;
}

std::vector<PerfdataItem> ParsePerfdata(std::string_view s, std::vector<std::string>* errors) {
  std::vector<PerfdataItem> items;
  auto fail = [&](size_t from, size_t to, const std::string& why) {
    if (errors != nullptr) {
      errors->push_back(fmt::format("'{}': {}", Cut(std::string(s.substr(from, to - from)), 80), why));
    }
  };
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) break;
    const size_t start = i;
    PerfdataItem item;
    if (s[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            item.label += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        item.label += s[i++];
      }
      if (!closed) {
        fail(start, s.size(), "unterminated quoted label");
        break;
      }
    } else {
      while (i < s.size() && s[i] != '=' && !IsSpace(s[i])) item.label += s[i++];
    }
    size_t end = i;
    while (end < s.size() && !IsSpace(s[end])) ++end;
    if (i >= s.size() || s[i] != '=') {
      fail(start, end, "expected label=value");
      i = end;
      continue;
    }
    std::string_view rest = s.substr(i + 1, end - i - 1);
    i = end;
    if (item.label.empty()) {
      fail(start, end, "empty label");
      continue;
    }
    std::vector<std::string_view> fields;
    while (true) {
      size_t semi = rest.find(';');
      fields.push_back(rest.substr(0, semi));
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
    if (fields[0] == "U") {
      item.value = std::nullopt;
    } else {
      double v = 0;
      if (!SplitValue(fields[0], &v, &item.uom)) {
        fail(start, end, "value is not a number");
        continue;
      }
      item.value = v;
    }
    if (fields.size() > 1) item.warn = fields[1];
    if (fields.size() > 2) item.crit = fields[2];
    if (fields.size() > 3) item.min = fields[3];
    if (fields.size() > 4) item.max = fields[4];
    items.push_back(std::move(item));
  }
  return items;
}

std::optional<Metric> PerfdataMetric(const PerfdataItem& item) {
  if (!item.value) return std::nullopt;
  Metric m;
  m.labels = {{"label", item.label}};
  double v = *item.value;
  const std::string& u = item.uom;
  struct ByteUnit {
    const char* name;
    double factor;
  };
  static constexpr ByteUnit kBytes[] = {
      {"B", 1},           {"KB", 1024.0},     {"MB", 1048576.0}, {"GB", 1073741824.0},
      {"TB", 1099511627776.0}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0}};
  if (u == "s" || u == "ms" || u == "us" || u == "ns") {
    m.name = "perfdata_seconds";
    m.unit = "seconds";
    m.value = u == "s" ? v : u == "ms" ? v / 1e3 : u == "us" ? v / 1e6 : v / 1e9;
    return m;
  }
  if (u == "%") {
    m.name = "perfdata_ratio";
    m.unit = "ratio";
    m.value = v / 100.0;
    return m;
  }
  if (u == "c") {
    m.name = "perfdata_total";
    m.value = v;
    return m;
  }
  for (const ByteUnit& b : kBytes) {
    if (EqualsIgnoreCase(u, b.name)) {
      m.name = "perfdata_bytes";
      m.unit = "bytes";
      m.value = v * b.factor;
      return m;
    }
  }
  m.name = "perfdata_value";
  m.unit = SanitizeUtf8(u.substr(0, 32));
  m.value = v;
  return m;
}

std::string NagiosPluginCheck::ResolveProgram(const CheckContext& ctx) const {
  const std::string& program = options_.command.front();
  if (program.find('/') != std::string::npos) return program;
  for (const std::string& dir : options_.plugin_dirs) {
    std::string path = dir + "/" + program;
    if (ctx.fs.Exists(path)) return path;
  }
  return program;  // the runner looks it up in its fixed PATH
}

std::vector<CheckResult> NagiosPluginCheck::Run(const CheckContext& ctx) {
  CheckResult r = NewResult(ctx, options_.target);
  r.status = CheckStatus::kUnknown;
  if (ctx.commands == nullptr) {
    r.summary = "cannot run plugins here: no command runner";
    return {r};
  }
  CommandRequest req;
  req.argv = options_.command;
  req.argv.front() = ResolveProgram(ctx);
  req.env = options_.env;
  req.timeout = TimeLeft(ctx, options_.timeout);
  req.max_output_bytes = kMaxOutputBytes;
  nlohmann::json details = {{"command", req.argv}};
  auto finish = [&]() {
    r.details_json = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return std::vector<CheckResult>{r};
  };

  StatusOr<CommandResult> run = ctx.commands->Run(req);
  if (!run.ok()) {
    const std::string& program = req.argv.front();
    switch (run.status().code()) {
      case StatusCode::kNotFound:
        r.summary = fmt::format("plugin {} not found", program);
        break;
      case StatusCode::kPermissionDenied:
        r.summary = fmt::format("plugin {} is not executable", program);
        break;
      default:
        r.summary = fmt::format("cannot run plugin {}: {}", program, run.status().message());
    }
    details["error"] = run.status().ToString();
    return finish();
  }
  const CommandResult& res = *run;
  r.duration_ms = res.duration_ms;
  details["exit_code"] = res.exit_code;
  if (res.out_truncated) details["output_truncated"] = true;
  const std::string out = SanitizeUtf8(res.out);
  const std::string err = SanitizeUtf8(res.err);
  if (!err.empty()) details["stderr"] = Cut(err, kMaxStderrBytes);

  PluginOutput parsed = SplitPluginOutput(out);
  std::string text = parsed.summary.empty() ? FirstLine(err) : parsed.summary;
  if (!parsed.long_output.empty()) details["long_output"] = Cut(parsed.long_output, kMaxLongOutputBytes);

  if (res.timed_out) {
    r.summary = fmt::format("timed out after {}", ShortDuration(req.timeout));
    if (!text.empty()) r.summary += " (last output: " + text + ")";
    details["timed_out"] = true;
    return finish();
  }
  if (res.term_signal != 0) {
    details["signal"] = res.term_signal;
    r.summary = fmt::format("plugin killed by signal {} ({})", res.term_signal,
                            ::strsignal(res.term_signal));
    if (!text.empty()) r.summary += ": " + text;
    return finish();
  }

  std::vector<std::string> errors;
  std::vector<PerfdataItem> items = ParsePerfdata(parsed.perfdata, &errors);
  if (items.size() > kMaxPerfdataItems) {
    errors.push_back(fmt::format("{} perfdata items; only the first {} are kept", items.size(),
                                 kMaxPerfdataItems));
    items.resize(kMaxPerfdataItems);
  }
  nlohmann::json perf = nlohmann::json::array();
  for (const PerfdataItem& item : items) {
    nlohmann::json j = {{"label", item.label}, {"uom", item.uom}};
    if (item.value) {
      j["value"] = *item.value;
    } else {
      j["value"] = nullptr;
    }
    for (const auto& [key, value] : {std::pair{"warn", &item.warn}, std::pair{"crit", &item.crit},
                                     std::pair{"min", &item.min}, std::pair{"max", &item.max}}) {
      if (!value->empty()) j[key] = *value;
    }
    perf.push_back(std::move(j));
    if (auto m = PerfdataMetric(item)) {
      m->labels["label"] = SanitizeUtf8(m->labels["label"]);
      r.metrics.push_back(std::move(*m));
    }
  }
  if (!perf.empty()) details["perfdata"] = std::move(perf);
  if (!errors.empty()) details["perfdata_errors"] = errors;

  if (res.exit_code >= 0 && res.exit_code <= 3) {
    r.status = static_cast<CheckStatus>(res.exit_code);
    r.summary = text.empty() ? fmt::format("(no output, exit code {} = {})", res.exit_code,
                                           StatusWord(res.exit_code))
                             : text;
  } else {
    r.summary = fmt::format("plugin exited with code {}{}", res.exit_code,
                            text.empty() ? std::string() : ": " + text);
  }
  return finish();
}

StatusOr<std::unique_ptr<Check>> NewNagiosPluginCheck(const CheckSpec& spec) {
  std::vector<std::string> known = CommonCheckKeys();
  known.insert(known.end(), {"command", "plugin_dirs", "target", "env"});
  const config::ConfigNode& n = spec.node;
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys(known));
  NagiosPluginOptions o;
  if (!n["command"].present()) {
    return n["command"].Error("required key is missing (a list: [program, arg, ...])");
  }
  if (!n["command"].IsList()) {
    return n["command"].Error(
        "expected a list [program, arg, ...]; commands run without a shell, so one string is "
        "not split");
  }
  SF_ASSIGN_OR_RETURN(o.command, n["command"].StringList());
  if (o.command.empty() || o.command.front().empty()) {
    return n["command"].Error("the first element must name the plugin");
  }
  const std::string& program = o.command.front();
  if (program.front() != '/' && program.find('/') != std::string::npos) {
    return n["command"].Error("'" + program +
                              "' is a relative path; use an absolute path or a bare name");
  }
  if (n["plugin_dirs"].present()) {
    SF_ASSIGN_OR_RETURN(o.plugin_dirs, n["plugin_dirs"].StringList());
    for (const std::string& dir : o.plugin_dirs) {
      if (dir.empty() || dir.front() != '/') {
        return n["plugin_dirs"].Error("'" + dir + "' is not an absolute directory path");
      }
    }
  }
  SF_ASSIGN_OR_RETURN(o.target, n["target"].String(program.substr(program.rfind('/') + 1)));
  const config::ConfigNode env = n["env"];
  if (env.present()) {
    if (!env.IsMap()) return env.Error("expected a mapping NAME: value");
    SF_ASSIGN_OR_RETURN(std::vector<std::string> names, env.Keys());
    for (const std::string& name : names) {
      bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front()));
      for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid) return env[name].Error("environment variable names use letters, digits and '_'");
      SF_ASSIGN_OR_RETURN(o.env[name], env[name].String());
    }
  }
  o.timeout = Millis(spec.timeout_ms);
  return std::unique_ptr<Check>(std::make_unique<NagiosPluginCheck>(spec.name, std::move(o)));
}

}  // namespace steadfast::agent
