#include "alerting/alerting_config.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "alerting/oncall_config.h"
#include "alerting/suppression.h"
#include "common/clock.h"
#include "common/random.h"

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

Status ReadPasswordFile(const ConfigNode& node, FileSystem& fs, std::string* file, std::string* out) {
  SF_ASSIGN_OR_RETURN(*file, node.String());
  if (file->empty()) return OkStatus();
  StatusOr<std::string> text = fs.ReadFile(*file, 64 << 10);
  if (!text.ok()) return node.Error("cannot read '" + *file + "': " + text.status().message());
  StatusOr<uint32_t> mode = fs.FileMode(*file);
  if (mode.ok() && (*mode & 0004) != 0) {
    return node.Error("'" + *file + "' holds a secret but is readable by everyone; chmod o-r it");
  }
  *out = Trimmed(*text);
  return OkStatus();
}

Status ReadEmail(const ConfigNode& n, FileSystem& fs, EmailConfig* out, bool need_to = true) {
  if (!n.IsMap()) return n.Error("expected a mapping: to, from, smarthost, tls, ...");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"to", "from", "smarthost", "tls", "ca_file", "auth_username",
                                           "auth_password_file", "send_resolved", "timeout", "language",
                                           "templates"}));
  if (!need_to) {
    if (n["to"].present()) return n["to"].Error("each person is emailed at their own account's address");
  } else if (n["to"].IsList()) {
    SF_ASSIGN_OR_RETURN(out->to, n["to"].StringList());
  } else {
    SF_ASSIGN_OR_RETURN(std::string to, n["to"].RequiredString());
    out->to.push_back(to);
  }
  if (need_to && out->to.empty()) return n["to"].Error("at least one address");
  for (const std::string& t : out->to) {
    if (t.find('@') == std::string::npos) return n["to"].Error("'" + t + "' is not an email address");
  }
  SF_ASSIGN_OR_RETURN(out->from, n["from"].RequiredString());
  if (out->from.find('@') == std::string::npos) return n["from"].Error("'" + out->from + "' is not an email address");
  SF_ASSIGN_OR_RETURN(out->smarthost, n["smarthost"].RequiredString());
  const size_t colon = out->smarthost.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == out->smarthost.size()) {
    return n["smarthost"].Error("expected host:port, got '" + out->smarthost + "'");
  }
  const std::string port = out->smarthost.substr(colon + 1);
  SF_ASSIGN_OR_RETURN(std::string tls, n["tls"].Enum({"starttls", "implicit", "none"},
                                                     port == "465" ? "implicit" : "starttls"));
  out->tls = tls == "implicit" ? SmtpTls::kImplicit : tls == "none" ? SmtpTls::kNone : SmtpTls::kStartTls;
  SF_ASSIGN_OR_RETURN(out->ca_file, n["ca_file"].String());
  if (!out->ca_file.empty() && !fs.Exists(out->ca_file)) {
    return n["ca_file"].Error("file '" + out->ca_file + "' does not exist");
  }
  SF_ASSIGN_OR_RETURN(out->auth_username, n["auth_username"].String());
  SF_RETURN_IF_ERROR(ReadPasswordFile(n["auth_password_file"], fs, &out->auth_password_file, &out->auth_password));
  if (!out->auth_username.empty() && out->auth_password_file.empty()) {
    return n["auth_password_file"].Error("required with auth_username (the password is never written inline)");
  }
  if (!out->auth_username.empty() && out->tls == SmtpTls::kNone) {
    return n["tls"].Error("auth over a connection without TLS would send the password in clear; use starttls or implicit");
  }
  SF_ASSIGN_OR_RETURN(out->send_resolved, n["send_resolved"].Bool(true));
  SF_ASSIGN_OR_RETURN(out->timeout_ms, n["timeout"].DurationMillis(out->timeout_ms, 1'000, 300'000));
  SF_ASSIGN_OR_RETURN(out->language, n["language"].Enum({"en", "zh-CN"}, "en"));
  const ConfigNode t = n["templates"];
  SF_RETURN_IF_ERROR(t.CheckNoUnknownKeys({"subject", "text", "html"}));
  SF_ASSIGN_OR_RETURN(out->templates.subject, t["subject"].String());
  SF_ASSIGN_OR_RETURN(out->templates.text, t["text"].String());
  SF_ASSIGN_OR_RETURN(out->templates.html, t["html"].String());
  Status valid = ValidateTemplates(out->templates, out->language);
  if (!valid.ok()) return t.Error(valid.message());
  return OkStatus();
}

Status ReadChat(const ConfigNode& n, ChatKind kind, FileSystem& fs, ChatConfig* out) {
  if (!n.IsMap()) return n.Error("expected a mapping: url, secret_file, send_resolved, ...");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"url", "secret_file", "chat_id", "send_resolved", "timeout", "language",
                                           "templates", "rate_limit"}));
  out->kind = kind;
  // "20/1m": messages per window; 0 or "none": no limit.
  out->rate_limit_messages = DefaultRateLimit(kind);
  if (n["rate_limit"].present()) {
    SF_ASSIGN_OR_RETURN(std::string text, n["rate_limit"].String());
    const size_t slash = text.find('/');
    if (text == "none" || text == "0") {
      out->rate_limit_messages = 0;
    } else {
      int count = 0;
      StatusOr<int64_t> window = slash == std::string::npos ? StatusOr<int64_t>(InvalidArgumentError(""))
                                                            : ParseDurationMillis(text.substr(slash + 1));
      if (slash == std::string::npos || std::sscanf(text.substr(0, slash).c_str(), "%d", &count) != 1 || count < 1 ||
          !window.ok() || *window < 1000) {
        return n["rate_limit"].Error("expected messages/window like 20/1m, or none");
      }
      out->rate_limit_messages = count;
      out->rate_limit_window_ms = *window;
    }
  }
  const bool url_required = kind != ChatKind::kTelegram && kind != ChatKind::kPagerDuty;
  SF_ASSIGN_OR_RETURN(out->url, url_required ? n["url"].RequiredString() : n["url"].String());
  if (!out->url.empty() && out->url.rfind("http://", 0) != 0 && out->url.rfind("https://", 0) != 0) {
    return n["url"].Error("expected an http:// or https:// URL");
  }
  SF_RETURN_IF_ERROR(ReadPasswordFile(n["secret_file"], fs, &out->secret_file, &out->secret));
  if ((kind == ChatKind::kTelegram || kind == ChatKind::kPagerDuty) && out->secret.empty()) {
    return n["secret_file"].Error(kind == ChatKind::kTelegram ? "required: the bot token" : "required: the routing key");
  }
  SF_ASSIGN_OR_RETURN(out->chat_id, n["chat_id"].String());
  if (kind == ChatKind::kTelegram && out->chat_id.empty()) return n["chat_id"].Error("required for telegram");
  if (kind != ChatKind::kTelegram && n["chat_id"].present()) return n["chat_id"].Error("only for telegram");
  SF_ASSIGN_OR_RETURN(out->send_resolved, n["send_resolved"].Bool(true));
  SF_ASSIGN_OR_RETURN(out->timeout_ms, n["timeout"].DurationMillis(out->timeout_ms, 100, 300'000));
  SF_ASSIGN_OR_RETURN(out->language, n["language"].Enum({"en", "zh-CN"}, "en"));
  const ConfigNode t = n["templates"];
  SF_RETURN_IF_ERROR(t.CheckNoUnknownKeys({"subject", "text"}));
  SF_ASSIGN_OR_RETURN(out->templates.subject, t["subject"].String());
  SF_ASSIGN_OR_RETURN(out->templates.text, t["text"].String());
  Status valid = ValidateTemplates(out->templates, out->language);
  if (!valid.ok()) return t.Error(valid.message());
  return OkStatus();
}

Status ReadHeartbeat(const ConfigNode& n, FileSystem& fs, HeartbeatEntry* out) {
  if (!n.IsMap()) return n.Error("expected a heartbeat: name, period, grace, max_runtime, token_file, labels");
  SF_RETURN_IF_ERROR(n.CheckNoUnknownKeys({"name", "period", "grace", "max_runtime", "token_file", "labels"}));
  SF_ASSIGN_OR_RETURN(out->config.name, n["name"].RequiredString());
  const std::string& name = out->config.name;
  if (name.empty() || name.size() > 64 ||
      !std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; })) {
    return n["name"].Error("letters, digits, '-', '_' and '.' only, at most 64 (it is part of a URL)");
  }
  SF_ASSIGN_OR_RETURN(out->config.period_ms, n["period"].DurationMillis(out->config.period_ms, 60'000, 366 * kDay));
  SF_ASSIGN_OR_RETURN(out->config.grace_ms, n["grace"].DurationMillis(out->config.grace_ms, 0, 30 * kDay));
  if (n["max_runtime"].present()) {
    SF_ASSIGN_OR_RETURN(int64_t max, n["max_runtime"].DurationMillis(0, 1'000, 30 * kDay));
    out->config.max_runtime_ms = max;
  }
  std::string token;
  SF_RETURN_IF_ERROR(ReadPasswordFile(n["token_file"], fs, &out->token_file, &token));
  if (out->token_file.empty()) return n["token_file"].Error("required: the pings' bearer token");
  if (token.size() < 16) return n["token_file"].Error("the token in '" + out->token_file + "' is shorter than 16 characters");
  out->token_sha256 = Sha256Hex(token);
  const ConfigNode labels = n["labels"];
  if (labels.present()) {
    SF_ASSIGN_OR_RETURN(std::vector<std::string> keys, labels.Keys());
    for (const std::string& k : keys) {
      if (!IsLabelName(k) || k == "check" || k == "target") {
        return labels[k].Error("'" + k + "' is not a label this can set (check and target are the heartbeat's)");
      }
      SF_ASSIGN_OR_RETURN(out->labels[k], labels[k].String());
    }
  }
  return OkStatus();
}

}  // namespace

std::vector<IntegrationRef> ReceiverConfig::Integrations() const {
  std::vector<IntegrationRef> out;
  for (size_t i = 0; i < webhooks.size(); ++i) {
    out.push_back({"webhook[" + std::to_string(i) + "]", &webhooks[i], nullptr, nullptr, webhooks[i].send_resolved});
  }
  for (size_t i = 0; i < emails.size(); ++i) {
    out.push_back({"email[" + std::to_string(i) + "]", nullptr, &emails[i], nullptr, emails[i].send_resolved});
  }
  std::map<ChatKind, int> seen;
  for (const ChatConfig& c : chats) {
    out.push_back({std::string(ChatKindName(c.kind)) + "[" + std::to_string(seen[c.kind]++) + "]", nullptr, nullptr,
                   &c, c.send_resolved});
  }
  return out;
}

std::optional<IntegrationRef> ReceiverConfig::FindIntegration(const std::string& name) const {
  for (IntegrationRef& i : Integrations()) {
    if (i.name == name) return std::move(i);
  }
  return std::nullopt;
}

const EscalationPolicy* AlertingConfig::FindPolicy(const std::string& name) const {
  for (const EscalationPolicy& p : escalation_policies) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

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
      {"rule_files", "evaluation_interval", "external_url", "route", "receivers", "delivery", "schedules",
       "escalation_policies", "user_email", "heartbeats"}));
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
    if (!r.IsMap()) return r.Error("expected a receiver: name, webhook_configs, email_configs");
    std::vector<std::string> keys = {"name", "webhook_configs", "email_configs"};
    for (ChatKind k : kAllChatKinds) keys.push_back(std::string(ChatKindName(k)) + "_configs");
    SF_RETURN_IF_ERROR(r.CheckNoUnknownKeys(keys));
    ReceiverConfig rc;
    SF_ASSIGN_OR_RETURN(rc.name, r["name"].RequiredString());
    if (!names.insert(rc.name).second) return r["name"].Error("a second receiver named '" + rc.name + "'");
    SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> hooks, r["webhook_configs"].Items());
    for (const ConfigNode& h : hooks) {
      WebhookConfig w;
      SF_RETURN_IF_ERROR(ReadWebhook(h, fs, &w));
      rc.webhooks.push_back(std::move(w));
    }
    SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> emails, r["email_configs"].Items());
    for (const ConfigNode& e : emails) {
      EmailConfig ec;
      SF_RETURN_IF_ERROR(ReadEmail(e, fs, &ec));
      rc.emails.push_back(std::move(ec));
    }
    for (ChatKind k : kAllChatKinds) {
      SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> chats, r[std::string(ChatKindName(k)) + "_configs"].Items());
      for (const ConfigNode& ch : chats) {
        ChatConfig cc;
        SF_RETURN_IF_ERROR(ReadChat(ch, k, fs, &cc));
        rc.chats.push_back(std::move(cc));
      }
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

  std::set<std::string> schedule_names;
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> schedules, node["schedules"].Items());
  for (const ConfigNode& n : schedules) {
    SF_ASSIGN_OR_RETURN(Schedule sc, ParseSchedule(n));
    if (!schedule_names.insert(sc.name).second) return n["name"].Error("a second schedule named '" + sc.name + "'");
    c.schedules.push_back(std::move(sc));
  }
  std::set<std::string> policy_names;
  bool pages_people = false;
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> policies, node["escalation_policies"].Items());
  for (const ConfigNode& n : policies) {
    SF_ASSIGN_OR_RETURN(EscalationPolicy p, ParsePolicy(n, c.schedules));
    if (!policy_names.insert(p.name).second) return n["name"].Error("a second policy named '" + p.name + "'");
    for (size_t i = 0; i < p.tiers.size(); ++i) {
      pages_people = pages_people || !p.tiers[i].users.empty() || !p.tiers[i].schedules.empty();
      for (const std::string& r : p.tiers[i].receivers) {
        if (names.count(r) == 0) {
          return n["tiers"].Error("tier " + std::to_string(i + 1) + ": receiver '" + r + "' is not among the receivers");
        }
      }
    }
    c.escalation_policies.push_back(std::move(p));
  }
  if (node["user_email"].present()) {
    EmailConfig e;
    SF_RETURN_IF_ERROR(ReadEmail(node["user_email"], fs, &e, /*need_to=*/false));
    c.user_email = std::move(e);
  } else if (pages_people) {
    return node["user_email"].Error("required: escalation tiers page people (users, schedules), who are emailed");
  }
  // Routes may name policies made through the API: that is checked once they are added
  // (oncall_config.h, when the collector starts or reloads).

  std::set<std::string> heartbeat_names;
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> heartbeats, node["heartbeats"].Items());
  for (const ConfigNode& n : heartbeats) {
    HeartbeatEntry h;
    SF_RETURN_IF_ERROR(ReadHeartbeat(n, fs, &h));
    if (!heartbeat_names.insert(h.config.name).second) {
      return n["name"].Error("a second heartbeat named '" + h.config.name + "'");
    }
    c.heartbeats.push_back(std::move(h));
  }

  const ConfigNode delivery = node["delivery"];
  SF_RETURN_IF_ERROR(delivery.CheckNoUnknownKeys({"retry_for", "max_backoff"}));
  SF_ASSIGN_OR_RETURN(c.retry_for_ms, delivery["retry_for"].DurationMillis(c.retry_for_ms, 60'000, 30 * kDay));
  SF_ASSIGN_OR_RETURN(c.max_backoff_ms, delivery["max_backoff"].DurationMillis(c.max_backoff_ms, 1'000, kDay));
  return c;
}

}  // namespace steadfast::alerting
