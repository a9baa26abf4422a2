#include "alerting/notify/templates.h"

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include <map>

namespace steadfast::alerting {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;
using nlohmann::json;

struct Defaults {
  const char* subject;
  const char* text;
  const char* html;
  const char* firing;
  const char* resolved;
};

constexpr Defaults kEnglish{
    "[{{status_text}}{{#has_firing}}:{{count_firing}}{{/has_firing}}] {{title}}",
    "{{#alerts}}"
    "[{{status_text}}] {{severity}} {{alertname}} on {{host}}\n"
    "{{#summary}}  {{summary}}\n{{/summary}}"
    "{{#description}}  {{description}}\n{{/description}}"
    "  since {{starts_at}}{{#resolved}}, resolved {{ends_at}}{{/resolved}}\n"
    "  labels: {{labels}}\n"
    "{{#runbook_url}}  runbook: {{runbook_url}}\n{{/runbook_url}}"
    "{{#url}}  details: {{url}}\n{{/url}}"
    "{{#ack_url}}  acknowledge: {{ack_url}}\n{{/ack_url}}"
    "\n{{/alerts}}"
    "-- Steadfast{{#external_url}} ({{external_url}}){{/external_url}}\n",
    "<html><body style=\"font-family:sans-serif\">"
    "<h2>[{{status_text}}{{#has_firing}}:{{count_firing}}{{/has_firing}}] {{title}}</h2>"
    "<table cellpadding=\"4\" style=\"border-collapse:collapse\">"
    "<tr><th align=\"left\">Status</th><th align=\"left\">Severity</th><th align=\"left\">Alert</th>"
    "<th align=\"left\">Host</th><th align=\"left\">Summary</th><th align=\"left\">Since</th><th></th></tr>"
    "{{#alerts}}<tr><td>{{status_text}}</td><td>{{severity}}</td><td>{{alertname}}</td><td>{{host}}</td>"
    "<td>{{summary}}{{#description}}<br><small>{{description}}</small>{{/description}}</td>"
    "<td>{{starts_at}}{{#resolved}}<br>resolved {{ends_at}}{{/resolved}}</td>"
    "<td>{{#url}}<a href=\"{{url}}\">details</a>{{/url}}"
    "{{#ack_url}} <a href=\"{{ack_url}}\">acknowledge</a>{{/ack_url}}</td></tr>{{/alerts}}"
    "</table><p><small>Steadfast{{#external_url}} &middot; <a href=\"{{external_url}}\">console</a>"
    "{{/external_url}}</small></p></body></html>",
    "FIRING",
    "RESOLVED"};

constexpr Defaults kChinese{
    "[{{status_text}}{{#has_firing}} {{count_firing}} 条{{/has_firing}}] {{title}}",
    "{{#alerts}}"
    "【{{status_text}}】{{severity}} {{alertname}}（主机 {{host}}）\n"
    "{{#summary}}  {{summary}}\n{{/summary}}"
    "{{#description}}  {{description}}\n{{/description}}"
    "  开始时间：{{starts_at}}{{#resolved}}，恢复时间：{{ends_at}}{{/resolved}}\n"
    "  标签：{{labels}}\n"
    "{{#runbook_url}}  处置手册：{{runbook_url}}\n{{/runbook_url}}"
    "{{#url}}  详情：{{url}}\n{{/url}}"
    "{{#ack_url}}  确认（认领）：{{ack_url}}\n{{/ack_url}}"
    "\n{{/alerts}}"
    "-- Steadfast 运维监控{{#external_url}}（{{external_url}}）{{/external_url}}\n",
    "<html><body style=\"font-family:sans-serif\">"
    "<h2>[{{status_text}}{{#has_firing}} {{count_firing}} 条{{/has_firing}}] {{title}}</h2>"
    "<table cellpadding=\"4\" style=\"border-collapse:collapse\">"
    "<tr><th align=\"left\">状态</th><th align=\"left\">级别</th><th align=\"left\">告警</th>"
    "<th align=\"left\">主机</th><th align=\"left\">摘要</th><th align=\"left\">开始时间</th><th></th></tr>"
    "{{#alerts}}<tr><td>{{status_text}}</td><td>{{severity}}</td><td>{{alertname}}</td><td>{{host}}</td>"
    "<td>{{summary}}{{#description}}<br><small>{{description}}</small>{{/description}}</td>"
    "<td>{{starts_at}}{{#resolved}}<br>恢复于 {{ends_at}}{{/resolved}}</td>"
    "<td>{{#url}}<a href=\"{{url}}\">详情</a>{{/url}}"
    "{{#ack_url}} <a href=\"{{ack_url}}\">确认</a>{{/ack_url}}</td></tr>{{/alerts}}"
    "</table><p><small>Steadfast 运维监控{{#external_url}} &middot; <a href=\"{{external_url}}\">控制台</a>"
    "{{/external_url}}</small></p></body></html>",
    "告警",
    "已恢复"};

const Defaults* DefaultsFor(const std::string& language) {
  if (language.empty() || language == "en") return &kEnglish;
  if (language == "zh-CN" || language == "zh") return &kChinese;
  return nullptr;
}

Status Compile(const std::string& part, const std::string& text) {
  mustache m(text);
  if (!m.is_valid()) return InvalidArgumentError(part + ": " + m.error_message());
  return OkStatus();
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Render(const std::string& text, const data& d, bool html) {
  mustache m(text);
  if (!html) m.set_custom_escape([](const std::string& s) { return s; });
  return m.render(d);
}

}  // namespace

Status ValidateTemplates(const MessageTemplates& t, const std::string& language) {
  if (DefaultsFor(language) == nullptr) {
    return InvalidArgumentError("language '" + language + "': expected en or zh-CN");
  }
  if (!t.subject.empty()) SF_RETURN_IF_ERROR(Compile("subject", t.subject));
  if (!t.text.empty()) SF_RETURN_IF_ERROR(Compile("text", t.text));
  if (!t.html.empty()) SF_RETURN_IF_ERROR(Compile("html", t.html));
  return OkStatus();
}

StatusOr<RenderedMessage> RenderMessage(const std::string& body_json, const MessageTemplates& t,
                                        const std::string& language) {
  const Defaults* defaults = DefaultsFor(language);
  if (defaults == nullptr) return InvalidArgumentError("language '" + language + "': expected en or zh-CN");
  json body = json::parse(body_json, nullptr, false);
  if (!body.is_object() || !body.contains("alerts") || !body["alerts"].is_array()) {
    return InvalidArgumentError("not a notification body");
  }
  int firing = 0, resolved = 0;
  data alerts{data::type::list};
  for (const json& a : body["alerts"]) {
    const json labels = a.value("labels", json::object());
    const json annotations = a.value("annotations", json::object());
    const bool is_resolved = Str(a, "status") == "resolved";
    (is_resolved ? resolved : firing)++;
    std::string label_text;
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      if (!label_text.empty()) label_text += ", ";
      label_text += it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
    }
    data item;
    item.set("status", is_resolved ? "resolved" : "firing");
    item.set("status_text", is_resolved ? defaults->resolved : defaults->firing);
    item.set("resolved", is_resolved ? data::type::bool_true : data::type::bool_false);
    for (const char* key : {"alertname", "severity", "host", "check", "target"}) item.set(key, Str(labels, key));
    for (const char* key : {"summary", "description", "runbook_url"}) item.set(key, Str(annotations, key));
    item.set("starts_at", Str(a, "startsAt"));
    item.set("ends_at", is_resolved ? Str(a, "endsAt") : std::string());
    item.set("labels", label_text);
    item.set("url", Str(a, "generatorURL"));
    item.set("fingerprint", Str(a, "fingerprint"));
    item.set("ack_url", Str(a, "ackURL"));
    alerts.push_back(item);
  }
  std::string title;
  const json group_labels = body.value("groupLabels", json::object());
  for (auto it = group_labels.begin(); it != group_labels.end(); ++it) {
    if (!title.empty()) title += " ";
    title += it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (title.empty()) title = Str(body, "receiver");
  data d;
  d.set("status", firing > 0 ? "firing" : "resolved");
  d.set("status_text", firing > 0 ? defaults->firing : defaults->resolved);
  d.set("has_firing", firing > 0 ? data::type::bool_true : data::type::bool_false);
  d.set("count_firing", std::to_string(firing));
  d.set("count_resolved", std::to_string(resolved));
  d.set("title", title);
  d.set("receiver", Str(body, "receiver"));
  d.set("external_url", Str(body, "externalURL"));
  d.set("group_key", Str(body, "groupKey"));
  d.set("alerts", alerts);
  RenderedMessage out;
  out.subject = Render(t.subject.empty() ? defaults->subject : t.subject, d, false);
  // A subject is one line.
  for (char& c : out.subject) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  out.text = Render(t.text.empty() ? defaults->text : t.text, d, false);
  out.html = Render(t.html.empty() ? defaults->html : t.html, d, true);
  return out;
}

}  // namespace steadfast::alerting
