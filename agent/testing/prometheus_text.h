// A strict parser of the Prometheus text exposition format 0.0.4 (test targets only), to check
// what /metrics serves the way a scrape would: metric and label names, label value escapes,
// values, # TYPE before a family's samples and at most once, each family's lines together,
// and no series twice (Prometheus fails a scrape with a duplicate sample).
#pragma once

#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace steadfast::agent::testing {

struct ScrapedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Scrape {
  std::vector<ScrapedSample> samples;
  std::map<std::string, std::string> types;  // family -> counter, gauge, ...
  std::string error;                         // "" when the text is valid

  // The value of the series `name` with exactly `labels`, if present.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
  size_t CountFamily(const std::string& name) const {
    size_t n = 0;
    for (const auto& s : samples) n += s.name == name ? 1 : 0;
    return n;
  }
};

inline bool ValidMetricName(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
  }
  return true;
}

inline bool ValidLabelName(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0])) || n.rfind("__", 0) == 0) {
    return false;
  }
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The family a sample belongs to (histogram and summary series carry suffixes).
inline std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

inline Scrape ParsePrometheusText(const std::string& text) {
  Scrape out;
  std::set<std::string> series;
  std::set<std::string> finished;  // families whose lines ended
  std::string current;
  size_t line_no = 0;
  size_t pos = 0;
  auto fail = [&](const std::string& why, const std::string& line) {
    out.error = "line " + std::to_string(line_no) + ": " + why + ": " + line;
    return out;
  };
  auto enter_family = [&](const std::string& family) {
    if (family == current) return true;
    if (finished.count(family)) return false;
    if (!current.empty()) finished.insert(current);
    current = family;
    return true;
  };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) return fail("last line has no newline", text.substr(pos));
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
        const bool is_type = line[2] == 'T';
        std::string rest = line.substr(7);
        std::string name = rest.substr(0, rest.find(' '));
        if (!ValidMetricName(name)) return fail("bad metric name", line);
        if (!enter_family(name)) return fail("family lines are not together", line);
        if (is_type) {
          std::string type = rest.size() > name.size() ? rest.substr(name.size() + 1) : "";
          static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                       "untyped"};
          if (!kTypes.count(type)) return fail("bad type", line);
          if (out.types.count(name)) return fail("second TYPE", line);
          out.types[name] = type;
        }
      }
      continue;
    }
    ScrapedSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    if (!ValidMetricName(s.name)) return fail("bad metric name", line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string lname;
        while (i < line.size() && line[i] != '=') lname += line[i++];
        if (!ValidLabelName(lname)) return fail("bad label name '" + lname + "'", line);
        if (i + 1 >= line.size() || line[i + 1] != '"') return fail("label value not quoted", line);
        i += 2;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) return fail("dangling escape", line);
            char e = line[i++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return fail("bad escape", line);
            }
            continue;
          }
          value += c;
        }
        if (!closed) return fail("unterminated label value", line);
        if (!s.labels.emplace(lname, value).second) return fail("label twice", line);
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail("unterminated label set", line);
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return fail("no value", line);
    std::string value_text = line.substr(i + 1);
    value_text = value_text.substr(0, value_text.find(' '));  // an optional timestamp follows
    if (value_text == "+Inf" || value_text == "-Inf" || value_text == "NaN") {
      s.value = value_text == "NaN" ? 0 : (value_text[0] == '-' ? -1e308 : 1e308);
    } else {
      char* end = nullptr;
      s.value = std::strtod(value_text.c_str(), &end);
      if (value_text.empty() || *end != '\0') return fail("bad value", line);
    }
    const std::string family = FamilyOf(s.name, out.types);
    if (!enter_family(family)) return fail("family lines are not together", line);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += '\x1f' + k + '\x1e' + v;
    if (!series.insert(key).second) return fail("duplicate series", line);
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace steadfast::agent::testing
