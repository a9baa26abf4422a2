#include "alerting/alerting_config.h"

#include <set>

namespace steadfast::alerting {
namespace {

using config::ConfigNode;

constexpr int64_t kDay = 86'400'000;

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Status ReadSecret(const ConfigNode& node, FileSystem& fs, WebhookConfig* out) {
  SF_ASSIGN_OR_RETURN(out->secret_file, node.String());
  if (out->secret_file.empty()) return OkStatus();
  StatusOr<std::string> text = fs.ReadFile(out->secret_file, 64 << 10);
  if (!text.ok()) return node.Error("cannot read '" + out->secret_file + "': " + text.status().message());
  StatusOr<uint32_t> mode = fs.FileMode(out->secret_file);
  if (mode.ok() && (*mode & 0004) != 0) {
    return node.Error("'" + out->secret_file + "' holds a secret but is readable by everyone; chmod o-r it");
  }
  out->secret = Trimmed(*text);
  if (out->secret.size() < 16) return node.Error("the secret in '" + out->secret_file + "' is shorter than 16 characters");
  return OkStatus();
}

Status ReadWebhook(const ConfigNode& n, FileSystem& fs, WebhookConfig* out) {
  if (!n.IsMap()) return n.Error("expected a mapping: url, secret_file, send_resolved, timeout");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"url", "secret_file", "send_resolved", "timeout"}));
  SF_ASSIGN_OR_RETURN(out->url, n["url"].RequiredString());
  if (out->url.rfind("http://", 0) != 0 && out->url.rfind("https://", 0) != 0) {
    return n["url"].Error("expected an http:// or https:// URL, got '" + out->url + "'");
  }
  SF_RETURN_IF_ERROR(ReadSecret(n["secret_file"], fs, out));
  SF_ASSIGN_OR_RETURN(out->send_resolved, n["send_resolved"].Bool(true));
  SF_ASSIGN_OR_RETURN(out->timeout_ms, n["timeout"].DurationMillis(out->timeout_ms, 100, 300'000));
  return OkStatus();
}

}  // namespace

const ReceiverConfig* AlertingConfig::FindReceiver(const std::string& name) const {
  for (const ReceiverConfig& r : receivers) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

StatusOr<AlertingConfig> ParseAlertingConfig(const ConfigNode& node, const std::string& config_dir,
                                             FileSystem& fs) {
  AlertingConfig c;
  if (!node.present()) return c;
  if (!node.IsMap()) return node.Error("expected a mapping: rule_files, route, receivers, ...");
  SF_RETURN_IF_ERROR(node.CheckNoUnknownKeys(
      {"rule_files", "evaluation_interval", "external_url", "route", "receivers", "delivery"}));
  c.enabled = true;

  SF_ASSIGN_OR_RETURN(std::vector<std::string> files, node["rule_files"].StringList());
  for (const std::string& f : files) {
    if (f.empty()) return node["rule_files"].Error("an empty file name");
    c.rule_files.push_back(f.front() == '/' || config_dir.empty() ? f : config_dir + "/" + f);
  }
  if (c.rule_files.empty()) return node["rule_files"].Error("required: at least one rule file");
  StatusOr<RuleSet> rules = LoadRuleFiles(c.rule_files);
  // The rule files' own errors already name file:line:key.
  if (!rules.ok()) return rules.status();
  c.rules = std::move(rules).value();

  SF_ASSIGN_OR_RETURN(c.evaluation_interval_ms,
                      node["evaluation_interval"].DurationMillis(c.evaluation_interval_ms, 100, 60'000));
  SF_ASSIGN_OR_RETURN(c.external_url, node["external_url"].String());

  std::set<std::string> names;
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> receivers, node["receivers"].Items());
  for (const ConfigNode& r : receivers) {
    if (!r.IsMap()) return r.Error("expected a receiver: name, webhook_configs");
    SF_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"name", "webhook_configs"}));
    ReceiverConfig rc;
    SF_ASSIGN_OR_RETURN(rc.name, r["name"].RequiredString());
    if (!names.insert(rc.name).second) return r["name"].Error("a second receiver named '" + rc.name + "'");
    SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> hooks, r["webhook_configs"].Items());
    for (const ConfigNode& h : hooks) {
      WebhookConfig w;
      SF_RETURN_IF_ERROR(ReadWebhook(h, fs, &w));
      rc.webhooks.push_back(std::move(w));
    }
    c.receivers.push_back(std::move(rc));
  }

  if (!node["route"].present()) return node["route"].Error("required: the routing tree (at least a receiver)");
  SF_ASSIGN_OR_RETURN(c.route, ParseRoute(node["route"]));
  for (const std::string& name : ReceiversOf(c.route)) {
    if (names.count(name) == 0) {
      return node["route"].Error("receiver '" + name + "' is not among the receivers");
    }
  }

  const ConfigNode delivery = node["delivery"];
  SF_RETURN_IF_ERROR(delivery.CheckNoUnknownKeys({"retry_for", "max_backoff"}));
  SF_ASSIGN_OR_RETURN(c.retry_for_ms, delivery["retry_for"].DurationMillis(c.retry_for_ms, 60'000, 30 * kDay));
  SF_ASSIGN_OR_RETURN(c.max_backoff_ms, delivery["max_backoff"].DurationMillis(c.max_backoff_ms, 1'000, kDay));
  return c;
}

}  // namespace steadfast::alerting
