#include "common/config/config_node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/clock.h"

namespace steadfast::config {

struct ConfigNode::Impl {
  YAML::Node node;  // invalid/undefined when absent
  std::string file;
  std::string path;
  int line = 0;  // 1-based line of this node, or of the parent when absent
  bool present = false;
};

ConfigNode::ConfigNode() : impl_(std::make_unique<Impl>()) {}
ConfigNode::~ConfigNode() = default;
ConfigNode::ConfigNode(const ConfigNode& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
ConfigNode& ConfigNode::operator=(const ConfigNode& other) {
  if (this != &other) *impl_ = *other.impl_;
  return *this;
}

bool ConfigNode::present() const { return impl_->present; }
bool ConfigNode::IsMap() const { return impl_->present && impl_->node.IsMap(); }
bool ConfigNode::IsList() const { return impl_->present && impl_->node.IsSequence(); }
const std::string& ConfigNode::path() const { return impl_->path; }
int ConfigNode::line() const { return impl_->line; }

Status ConfigNode::Error(const std::string& message) const {
  std::string where = impl_->file;
  if (impl_->line > 0) where += ":" + std::to_string(impl_->line);
  std::string key = impl_->path.empty() ? std::string("(top level)") : impl_->path;
  return InvalidArgumentError(where + ": " + key + ": " + message);
}

namespace {
int LineOf(const YAML::Node& n, int fallback) {
  if (!n.IsDefined()) return fallback;
  int line = n.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}
std::string JoinPath(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}
}  // namespace

ConfigNode ConfigNode::operator[](const std::string& key) const {
  ConfigNode child;
  child.impl_->file = impl_->file;
  child.impl_->path = JoinPath(impl_->path, key);
  child.impl_->line = impl_->line;
  if (!IsMap()) return child;
  for (const auto& kv : impl_->node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) {
      child.impl_->node = kv.second;
      // A key with an empty value ("key:") is null: treat as absent, but keep its line.
      child.impl_->present = !kv.second.IsNull();
      child.impl_->line = LineOf(kv.second, LineOf(kv.first, impl_->line));
      if (kv.second.IsNull()) child.impl_->line = LineOf(kv.first, impl_->line);
      return child;
    }
  }
  return child;
}

StatusOr<std::vector<ConfigNode>> ConfigNode::Items() const {
  std::vector<ConfigNode> out;
  if (!present()) return out;
  if (!impl_->node.IsSequence()) return Error("expected a list");
  size_t i = 0;
  for (const auto& item : impl_->node) {
    ConfigNode child;
    child.impl_->file = impl_->file;
    child.impl_->path = impl_->path + "[" + std::to_string(i++) + "]";
    child.impl_->node = static_cast<const YAML::Node&>(item);
    child.impl_->present = !item.IsNull();
    child.impl_->line = LineOf(item, impl_->line);
    out.push_back(std::move(child));
  }
  return out;
}

StatusOr<std::vector<std::string>> ConfigNode::Keys() const {
  std::vector<std::string> out;
  if (!present()) return out;
  if (!impl_->node.IsMap()) return Error("expected a mapping (key: value)");
  for (const auto& kv : impl_->node) {
    if (!kv.first.IsScalar()) return Error("mapping keys must be plain strings");
    out.push_back(kv.first.Scalar());
  }
  return out;
}

StatusOr<std::string> ConfigNode::String(const std::string& fallback) const {
  if (!present()) return fallback;
  if (!impl_->node.IsScalar()) return Error("expected a string");
  return impl_->node.Scalar();
}

StatusOr<std::string> ConfigNode::RequiredString() const {
  if (!present()) return Error("required key is missing");
  SF_ASSIGN_OR_RETURN(std::string s, String());
  if (s.empty()) return Error("must not be empty");
  return s;
}

StatusOr<int64_t> ConfigNode::Int(int64_t fallback, int64_t min, int64_t max) const {
  if (!present()) return fallback;
  if (!impl_->node.IsScalar()) return Error("expected an integer");
  const std::string& s = impl_->node.Scalar();
  int64_t v = 0;
  size_t used = 0;
  try {
    v = std::stoll(s, &used, 10);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != s.size()) return Error("expected an integer, got '" + s + "'");
  if (v < min || v > max) {
    return Error("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + s);
  }
  return v;
}

StatusOr<double> ConfigNode::Double(double fallback, double min, double max) const {
  if (!present()) return fallback;
  if (!impl_->node.IsScalar()) return Error("expected a number");
  const std::string& s = impl_->node.Scalar();
  double v = 0;
  size_t used = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != s.size()) return Error("expected a number, got '" + s + "'");
  if (v < min || v > max) {
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max << ", got " << s;
    return Error(msg.str());
  }
  return v;
}

StatusOr<bool> ConfigNode::Bool(bool fallback) const {
  if (!present()) return fallback;
  if (!impl_->node.IsScalar()) return Error("expected true or false");
  std::string s = impl_->node.Scalar();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  return Error("expected true or false, got '" + impl_->node.Scalar() + "'");
}

StatusOr<int64_t> ConfigNode::DurationMillis(int64_t fallback, int64_t min, int64_t max) const {
  if (!present()) return fallback;
  if (!impl_->node.IsScalar()) return Error("expected a duration like 30s");
  auto ms = ParseDurationMillis(impl_->node.Scalar());
  if (!ms.ok()) return Error("expected a duration like 30s, 5m or 250ms, got '" + impl_->node.Scalar() + "'");
  if (*ms < min || *ms > max) {
    return Error("duration must be between " + std::to_string(min) + "ms and " + std::to_string(max) +
                 "ms, got '" + impl_->node.Scalar() + "'");
  }
  return *ms;
}

StatusOr<std::vector<std::string>> ConfigNode::StringList() const {
  std::vector<std::string> out;
  if (!present()) return out;
  if (!impl_->node.IsSequence()) return Error("expected a list of strings");
  SF_ASSIGN_OR_RETURN(auto items, Items());
  for (const auto& item : items) {
    if (!item.present() || !item.impl_->node.IsScalar()) return item.Error("expected a string");
    out.push_back(item.impl_->node.Scalar());
  }
  return out;
}

StatusOr<std::string> ConfigNode::Enum(const std::vector<std::string>& allowed, const std::string& fallback) const {
  SF_ASSIGN_OR_RETURN(std::string v, String(fallback));
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return Error("must be one of " + list + ", got '" + v + "'");
}

Status ConfigNode::CheckNoUnknownKeys(const std::vector<std::string>& known) const {
  if (!present()) return OkStatus();
  if (!impl_->node.IsMap()) return Error("expected a mapping (key: value)");
  for (const auto& kv : impl_->node) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      ConfigNode child;
      child.impl_->file = impl_->file;
      child.impl_->path = JoinPath(impl_->path, key);
      child.impl_->line = LineOf(kv.first, impl_->line);
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return child.Error("unknown key (known keys here: " + list + ")");
    }
  }
  return OkStatus();
}

StatusOr<ConfigDocument> ConfigDocument::Parse(const std::string& text, const std::string& file_name) {
  ConfigDocument doc;
  try {
    YAML::Node root = YAML::Load(text);
    doc.root_.impl_->node = root;
    doc.root_.impl_->present = root.IsDefined() && !root.IsNull();
    doc.root_.impl_->line = 1;
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(file_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                                std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  doc.root_.impl_->file = file_name;
  if (doc.root_.present() && !doc.root_.IsMap()) {
    return doc.root_.Error("the top level of a config file must be a mapping (key: value)");
  }
  return doc;
}

StatusOr<ConfigDocument> ConfigDocument::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot open config file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

}  // namespace steadfast::config
