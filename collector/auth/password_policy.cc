#include "collector/auth/password_policy.h"

#include <algorithm>

namespace steadfast::collector::auth {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int kMaxLengthBound = 1024;
constexpr int kMaxHistory = 50;

// Decodes UTF-8 into code points. False for invalid UTF-8 (bad sequences, overlong forms,
// surrogates, values above U+10FFFF).
bool DecodeUtf8(std::string_view text, std::vector<char32_t>* out) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    char32_t cp;
    int extra;
    if (c < 0x80) {
      cp = c;
      extra = 0;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      extra = 2;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr char32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    out->push_back(cp);
    i += extra + 1;
  }
  return true;
}

bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ContainsFolded(const std::string& haystack_lower, std::string_view needle) {
  return haystack_lower.find(AsciiLower(needle)) != std::string::npos;
}

// Words of a display name worth checking: split on spaces and common separators, 3+ bytes.
std::vector<std::string_view> NameWords(std::string_view name) {
  std::vector<std::string_view> words;
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    bool sep = i == name.size() || name[i] == ' ' || name[i] == '.' || name[i] == ',' || name[i] == '-' ||
               name[i] == '_' || name[i] == '\t';
    if (!sep) continue;
    if (i - start >= 3) words.push_back(name.substr(start, i - start));
    start = i + 1;
  }
  return words;
}

std::string ClassList() { return "lowercase letters, uppercase letters, digits, symbols"; }

}  // namespace

std::string_view PasswordPresetName(PasswordPreset preset) {
  switch (preset) {
    case PasswordPreset::kBasic:
      return "basic";
    case PasswordPreset::kMlps2:
      return "mlps2";
    case PasswordPreset::kMlps3:
      return "mlps3";
  }
  return "?";
}

std::optional<PasswordPreset> ParsePasswordPreset(std::string_view name) {
  for (PasswordPreset p : {PasswordPreset::kBasic, PasswordPreset::kMlps2, PasswordPreset::kMlps3}) {
    if (PasswordPresetName(p) == name) return p;
  }
  return std::nullopt;
}

PasswordPolicy PasswordPolicy::FromPreset(PasswordPreset preset) {
  PasswordPolicy p;
  p.preset = preset;
  p.max_length = 128;
  switch (preset) {
    case PasswordPreset::kBasic:
      p.min_length = 8;
      p.min_classes = 1;
      p.history = 1;
      p.max_age_ms = 0;
      break;
    case PasswordPreset::kMlps2:
      p.min_length = 8;
      p.min_classes = 3;
      p.history = 3;
      p.max_age_ms = 90 * kDayMs;
      break;
    case PasswordPreset::kMlps3:
      p.min_length = 10;
      p.min_classes = 3;
      p.history = 5;
      p.max_age_ms = 90 * kDayMs;
      break;
  }
  return p;
}

std::vector<PasswordViolation> PasswordPolicy::Check(std::string_view password, std::string_view username,
                                                     std::string_view display_name) const {
  std::vector<PasswordViolation> out;
  std::vector<char32_t> cps;
  if (!DecodeUtf8(password, &cps)) {
    out.push_back({"encoding", "must be valid UTF-8 text"});
    // Without code points neither length nor classes can be judged meaningfully.
    return out;
  }
  if (std::any_of(cps.begin(), cps.end(), IsControl)) {
    out.push_back({"encoding", "must not contain control characters (tab, newline, ...)"});
  }
  int length = static_cast<int>(cps.size());
  if (length < min_length) {
    out.push_back({"min_length", "must be at least " + std::to_string(min_length) + " characters long (has " +
                                     std::to_string(length) + ")"});
  }
  if (length > max_length) {
    out.push_back({"max_length", "must be at most " + std::to_string(max_length) + " characters long (has " +
                                     std::to_string(length) + ")"});
  }
  bool lower = false, upper = false, digit = false, symbol = false;
  for (char32_t cp : cps) {
    if (cp >= 'a' && cp <= 'z') lower = true;
    else if (cp >= 'A' && cp <= 'Z') upper = true;
    else if (cp >= '0' && cp <= '9') digit = true;
    else if (!IsControl(cp)) symbol = true;
  }
  int classes = int{lower} + int{upper} + int{digit} + int{symbol};
  if (classes < min_classes) {
    out.push_back({"classes", "must contain at least " + std::to_string(min_classes) + " of: " + ClassList() +
                                  " (has " + std::to_string(classes) + ")"});
  }
  std::string folded = AsciiLower(password);
  if (username.size() >= 3 && ContainsFolded(folded, username)) {
    out.push_back({"username", "must not contain the username"});
  }
  for (std::string_view word : NameWords(display_name)) {
    if (ContainsFolded(folded, word)) {
      out.push_back({"display_name", "must not contain the user's name"});
      break;
    }
  }
  return out;
}

Status PasswordPolicy::Validate(std::string_view password, std::string_view username,
                                std::string_view display_name) const {
  std::vector<PasswordViolation> v = Check(password, username, display_name);
  if (v.empty()) return OkStatus();
  std::string message = "password: ";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) message += "; ";
    message += v[i].message;
  }
  return InvalidArgumentError(message);
}

StatusOr<bool> PasswordPolicy::ReusesHistory(std::string_view password,
                                             const std::vector<std::string>& history_hashes,
                                             const PasswordHasher& hasher) const {
  size_t n = std::min(history_hashes.size(), static_cast<size_t>(std::max(history, 0)));
  for (size_t i = 0; i < n; ++i) {
    if (history_hashes[i].empty()) continue;
    StatusOr<bool> match = hasher.Verify(password, history_hashes[i]);
    if (!match.ok()) {
      if (match.status().code() == StatusCode::kInvalidArgument) {
        return DataLossError("password history entry " + std::to_string(i) + ": " + match.status().message());
      }
      return match.status();
    }
    if (*match) return true;
  }
  return false;
}

std::optional<int64_t> PasswordPolicy::ExpiresAtMs(int64_t changed_at_ms) const {
  if (max_age_ms <= 0) return std::nullopt;
  return changed_at_ms + max_age_ms;
}

bool PasswordPolicy::IsExpired(int64_t changed_at_ms, int64_t now_ms) const {
  std::optional<int64_t> at = ExpiresAtMs(changed_at_ms);
  return at.has_value() && now_ms >= *at;
}

Status PasswordPolicy::Validate() const {
  if (min_length < 1 || min_length > kMaxLengthBound) {
    return InvalidArgumentError("min_length must be between 1 and " + std::to_string(kMaxLengthBound) + ", got " +
                                std::to_string(min_length));
  }
  if (max_length < min_length || max_length > kMaxLengthBound) {
    return InvalidArgumentError("max_length must be between min_length (" + std::to_string(min_length) + ") and " +
                                std::to_string(kMaxLengthBound) + ", got " + std::to_string(max_length));
  }
  if (min_classes < 1 || min_classes > 4) {
    return InvalidArgumentError("min_classes must be between 1 and 4, got " + std::to_string(min_classes));
  }
  if (history < 0 || history > kMaxHistory) {
    return InvalidArgumentError("history must be between 0 and " + std::to_string(kMaxHistory) + ", got " +
                                std::to_string(history));
  }
  if (max_age_ms != 0 && max_age_ms < kDayMs) {
    return InvalidArgumentError("max_age must be 0 (never) or at least 1d");
  }
  const PasswordPolicy floor = FromPreset(preset);
  const std::string name(PasswordPresetName(preset));
  if (min_length < floor.min_length) {
    return InvalidArgumentError("min_length " + std::to_string(min_length) + " is below preset " + name + "'s " +
                                std::to_string(floor.min_length));
  }
  if (min_classes < floor.min_classes) {
    return InvalidArgumentError("min_classes " + std::to_string(min_classes) + " is below preset " + name + "'s " +
                                std::to_string(floor.min_classes));
  }
  if (history < floor.history) {
    return InvalidArgumentError("history " + std::to_string(history) + " is below preset " + name + "'s " +
                                std::to_string(floor.history));
  }
  if (floor.max_age_ms > 0 && (max_age_ms == 0 || max_age_ms > floor.max_age_ms)) {
    return InvalidArgumentError("max_age must be at most preset " + name + "'s " +
                                std::to_string(floor.max_age_ms / kDayMs) + "d (0, never, is not allowed)");
  }
  return OkStatus();
}

std::string GenerateTemporaryPassword(const PasswordPolicy& policy, std::string_view username,
                                      std::string_view display_name, SecureRandom& random) {
  static constexpr std::string_view kClasses[] = {"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ",
                                                  "23456789", "#%+-=?@_"};
  std::string all;
  for (std::string_view c : kClasses) all += c;
  const size_t length = static_cast<size_t>(std::min(std::max(policy.min_length, 16), policy.max_length));
  // A draw fails the policy only by containing a name (or when max_length < 4 leaves no room
  // for every class); a few attempts make that vanishingly unlikely.
  std::string password;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    password.clear();
    for (std::string_view c : kClasses) {
      if (password.size() < length) password.push_back(c[random.Uniform(c.size())]);
    }
    while (password.size() < length) password.push_back(all[random.Uniform(all.size())]);
    for (size_t i = password.size(); i > 1; --i) std::swap(password[i - 1], password[random.Uniform(i)]);
    if (policy.Check(password, username, display_name).empty()) return password;
  }
  // Only a policy no generated password can meet gets here (min_classes above what max_length
  // allows); PasswordPolicy::Validate refuses such policies.
  SF_CHECK(false);
  return password;
}

StatusOr<PasswordPolicy> ParsePasswordPolicy(const config::ConfigNode& node) {
  SF_RETURN_IF_ERROR(
      node.CheckNoUnknownKeys({"preset", "min_length", "max_length", "min_classes", "history", "max_age"}));
  SF_ASSIGN_OR_RETURN(std::string preset_name, node["preset"].Enum({"basic", "mlps2", "mlps3"}, "mlps2"));
  // Enum() admitted only the three names.
  PasswordPolicy p = PasswordPolicy::FromPreset(*ParsePasswordPreset(preset_name));

  struct IntField {
    const char* key;
    int* field;
    int64_t min;
    int64_t max;
  };
  for (const IntField& f : {IntField{"min_length", &p.min_length, 1, kMaxLengthBound},
                            IntField{"max_length", &p.max_length, 1, kMaxLengthBound},
                            IntField{"min_classes", &p.min_classes, 1, 4},
                            IntField{"history", &p.history, 0, kMaxHistory}}) {
    SF_ASSIGN_OR_RETURN(int64_t v, node[f.key].Int(*f.field, f.min, f.max));
    *f.field = static_cast<int>(v);
  }
  SF_ASSIGN_OR_RETURN(p.max_age_ms, node["max_age"].DurationMillis(p.max_age_ms, 0, 3650 * kDayMs));

  Status valid = p.Validate();
  if (!valid.ok()) {
    // Name the key the message is about so the error points at the right line.
    for (const char* key : {"min_length", "max_length", "min_classes", "history", "max_age"}) {
      if (valid.message().rfind(key, 0) == 0) {
        config::ConfigNode at = node[key];
        return (at.present() ? at : node).Error(valid.message());
      }
    }
    return node.Error(valid.message());
  }
  return p;
}

}  // namespace steadfast::collector::auth
