#include "alerting/labels.h"

#include <fmt/format.h>

#include <cstdint>

namespace steadfast::alerting {
namespace {

bool IsNameChar(char c, bool first) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

// The value of a matcher: a double-quoted string with \" \\ \n escapes, or a bare word.
StatusOr<std::string> ParseValue(std::string_view s, std::string_view whole) {
  if (s.empty()) return std::string();
  if (s.front() != '"') {
    if (s.find_first_of("\" ") != std::string_view::npos) {
      return InvalidArgumentError(fmt::format("matcher {}: quote a value with spaces or quotes", whole));
    }
    return std::string(s);
  }
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      if (i + 1 != s.size()) {
        return InvalidArgumentError(fmt::format("matcher {}: text after the closing quote", whole));
      }
      return out;
    }
    if (c == '\\' && i + 1 < s.size()) {
      char n = s[++i];
      out.push_back(n == 'n' ? '\n' : n);
      continue;
    }
    out.push_back(c);
  }
  return InvalidArgumentError(fmt::format("matcher {}: missing closing quote", whole));
}

}  // namespace

bool IsLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0)) return false;
  }
  return true;
}

uint64_t LabelPairHash(std::string_view name, std::string_view value) {
  // FNV-1a 64 over name, 0xff, value, 0xff; then the splitmix64 finaliser, so that sums of
  // pair hashes do not inherit FNV's linear structure.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(name);
  mix(value);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

uint64_t LabelsHash(const Labels& labels) {
  uint64_t sum = 0;
  for (const auto& [k, v] : labels) sum += LabelPairHash(k, v);
  return sum;
}

std::string FingerprintText(uint64_t hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<size_t>(i)] = kHex[hash & 15];
  return out;
}

std::string Fingerprint(const Labels& labels) { return FingerprintText(LabelsHash(labels)); }

std::string LabelsText(const Labels& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ", ";
    out += k;
    out += "=\"";
    // Escaped as in Prometheus' text format, so that distinct label sets never read the same
    // (group keys are built from this).
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

StatusOr<Matcher> Matcher::Parse(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const size_t name_start = i;
  while (i < text.size() && IsNameChar(text[i], i == name_start)) ++i;
  Matcher m;
  m.name_ = std::string(text.substr(name_start, i - name_start));
  if (m.name_.empty()) {
    return InvalidArgumentError(fmt::format(
        "matcher '{}': expected a label name then =, !=, =~ or !~ and a value, like host=~\"db-.*\"",
        text));
  }
  while (i < text.size() && text[i] == ' ') ++i;
  std::string_view rest = text.substr(i);
  if (rest.rfind("=~", 0) == 0) {
    m.op_ = Op::kRegex;
    rest.remove_prefix(2);
  } else if (rest.rfind("!~", 0) == 0) {
    m.op_ = Op::kNotRegex;
    rest.remove_prefix(2);
  } else if (rest.rfind("!=", 0) == 0) {
    m.op_ = Op::kNotEqual;
    rest.remove_prefix(2);
  } else if (rest.rfind("=", 0) == 0) {
    m.op_ = Op::kEqual;
    rest.remove_prefix(1);
  } else {
    return InvalidArgumentError(
        fmt::format("matcher '{}': expected =, !=, =~ or !~ after '{}'", text, m.name_));
  }
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  SF_ASSIGN_OR_RETURN(m.value_, ParseValue(rest, text));
  if (m.op_ == Op::kRegex || m.op_ == Op::kNotRegex) {
    re2::RE2::Options o;
    o.set_log_errors(false);
    auto re = std::make_shared<re2::RE2>(m.value_, o);  // FullMatch anchors it
    if (!re->ok()) {
      return InvalidArgumentError(
          fmt::format("matcher '{}': bad regular expression: {}", text, re->error()));
    }
    m.re_ = std::move(re);
  }
  return m;
}

bool Matcher::Matches(std::string_view v) const {
  switch (op_) {
    case Op::kEqual:
      return v == value_;
    case Op::kNotEqual:
      return v != value_;
    case Op::kRegex:
      return re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re_);
    case Op::kNotRegex:
      return !re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re_);
  }
  return false;
}

bool Matcher::Matches(const Labels& labels) const {
  auto it = labels.find(name_);
  return Matches(it == labels.end() ? std::string_view() : std::string_view(it->second));
}

std::string Matcher::ToString() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  return fmt::format("{}{}\"{}\"", name_, kOps[static_cast<int>(op_)], value_);
}

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

}  // namespace steadfast::alerting
