#include "collector/collector_config.h"

#include <cctype>
#include <charconv>
#include <sstream>

namespace steadfast::collector {

namespace {

using config::ConfigDocument;
using config::ConfigNode;

Status ParseListen(const ConfigNode& node, CollectorConfig* out) {
  SF_ASSIGN_OR_RETURN(std::string text, node.String(out->listen_host + ":" + std::to_string(out->listen_port)));
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return node.Error("expected [ipv6-address]:port, got '" + text + "'");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return node.Error("expected host:port (IPv6 as [addr]:port), got '" + text + "'");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return node.Error("the host part is empty (use 0.0.0.0 to listen on every address)");
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    return node.Error("port must be a number from 0 to 65535, got '" + port_text + "'");
  }
  out->listen_host = host;
  out->listen_port = static_cast<uint16_t>(port);
  return OkStatus();
}

StatusOr<int64_t> ByteSize(const ConfigNode& node, int64_t fallback, int64_t min, int64_t max) {
  if (!node.present()) return fallback;
  SF_ASSIGN_OR_RETURN(std::string text, node.String());
  StatusOr<int64_t> v = ParseByteSize(text);
  if (!v.ok()) return node.Error("expected a size like 16MiB, 512KiB or a number of bytes, got '" + text + "'");
  if (*v < min || *v > max) {
    return node.Error("must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes, got '" +
                      text + "'");
  }
  return *v;
}

Status ReadTokenFile(const ConfigNode& node, FileSystem& fs, CollectorConfig* out) {
  SF_ASSIGN_OR_RETURN(out->enrollment_token_file, node.String());
  if (out->enrollment_token_file.empty()) return OkStatus();
  StatusOr<std::string> text = fs.ReadFile(out->enrollment_token_file, 1 << 20);
  if (!text.ok()) return node.Error("cannot read '" + out->enrollment_token_file + "': " + text.status().message());
  StatusOr<uint32_t> mode = fs.FileMode(out->enrollment_token_file);
  if (mode.ok() && (*mode & 0004) != 0) {
    return node.Error("'" + out->enrollment_token_file + "' holds secrets but is readable by everyone; chmod o-r it");
  }
  std::stringstream ss(*text);
  std::string line;
  int line_no = 0;
  while (std::getline(ss, line)) {
    ++line_no;
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    size_t e = line.find_last_not_of(" \t\r");
    std::string token = line.substr(b, e - b + 1);
    if (token.size() < kMinEnrollmentTokenBytes) {
      return node.Error(out->enrollment_token_file + " line " + std::to_string(line_no) + ": token shorter than " +
                        std::to_string(kMinEnrollmentTokenBytes) + " characters");
    }
    out->enrollment_tokens.push_back(std::move(token));
  }
  return OkStatus();
}

}  // namespace

StatusOr<int64_t> ParseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 18) return InvalidArgumentError("expected a size, got '" + text + "'");
  int64_t number = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  int64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB" || unit == "K") mult = 1LL << 10;
  else if (unit == "MiB" || unit == "M") mult = 1LL << 20;
  else if (unit == "GiB" || unit == "G") mult = 1LL << 30;
  else if (unit == "KB" || unit == "kB") mult = 1000;
  else if (unit == "MB") mult = 1000LL * 1000;
  else if (unit == "GB") mult = 1000LL * 1000 * 1000;
  else return InvalidArgumentError("unknown size unit '" + unit + "'");
  if (number > INT64_MAX / mult) return InvalidArgumentError("size too large");
  return number * mult;
}

namespace {
// The directory of a config file ("" for a bare name): relative rule files are read from there.
std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

StatusOr<CollectorConfig> ParseCollectorConfig(const ConfigDocument& doc, FileSystem& fs,
                                               const std::string& config_dir) {
  const ConfigNode& root = doc.root();
  SF_RETURN_IF_ERROR(root.CheckNoUnknownKeys({"listen", "data_dir", "web_root", "enrollment_tokens",
                                              "enrollment_token_file", "history_retention", "audit_retention",
                                              "storage", "limits", "tls", "http", "log", "auth",
                                              "alerting"}));
  CollectorConfig c;
  SF_RETURN_IF_ERROR(ParseListen(root["listen"], &c));
  SF_ASSIGN_OR_RETURN(c.data_dir, root["data_dir"].String(c.data_dir));
  if (c.data_dir.empty()) return root["data_dir"].Error("must not be empty");
  SF_ASSIGN_OR_RETURN(c.web_root, root["web_root"].String(c.web_root));

  SF_ASSIGN_OR_RETURN(auto token_items, root["enrollment_tokens"].Items());
  for (const ConfigNode& item : token_items) {
    SF_ASSIGN_OR_RETURN(std::string token, item.RequiredString());
    if (token.size() < kMinEnrollmentTokenBytes) {
      return item.Error("enrolment token shorter than " + std::to_string(kMinEnrollmentTokenBytes) +
                        " characters is too easy to guess");
    }
    c.enrollment_tokens.push_back(std::move(token));
  }
  SF_RETURN_IF_ERROR(ReadTokenFile(root["enrollment_token_file"], fs, &c));

  constexpr int64_t kHour = 3600LL * 1000;
  SF_ASSIGN_OR_RETURN(c.history_retention_ms,
                      root["history_retention"].DurationMillis(c.history_retention_ms, kHour, 3650LL * 24 * kHour));

  {
    const ConfigNode retention = root["audit_retention"];
    constexpr int64_t kDay = 24 * kHour;
    // Parsed without a lower bound so that a too-short value gets the reason, not just a number.
    SF_ASSIGN_OR_RETURN(c.audit_retention_ms, retention.DurationMillis(c.audit_retention_ms, 0, 36500 * kDay));
    if (c.audit_retention_ms < kMinAuditRetentionMs) {
      return retention.Error("must be at least 183d: the Cybersecurity Law requires security logs to be kept for "
                             "six months or more");
    }
  }

  SF_ASSIGN_OR_RETURN(c.auth, auth::ParseAuthConfig(root["auth"]));

  const ConfigNode storage = root["storage"];
  SF_RETURN_IF_ERROR(storage.CheckNoUnknownKeys({"synchronous"}));
  SF_ASSIGN_OR_RETURN(c.storage_synchronous, storage["synchronous"].Enum({"FULL", "NORMAL"}, c.storage_synchronous));

  const ConfigNode limits = root["limits"];
  SF_RETURN_IF_ERROR(limits.CheckNoUnknownKeys({"max_body_bytes", "max_decompressed_bytes"}));
  SF_ASSIGN_OR_RETURN(c.max_body_bytes, ByteSize(limits["max_body_bytes"], c.max_body_bytes, 1024, 1LL << 30));
  SF_ASSIGN_OR_RETURN(c.max_decompressed_bytes,
                      ByteSize(limits["max_decompressed_bytes"], c.max_decompressed_bytes, 1024, 4LL << 30));

  const ConfigNode tls = root["tls"];
  SF_RETURN_IF_ERROR(tls.CheckNoUnknownKeys({"cert_file", "key_file"}));
  SF_ASSIGN_OR_RETURN(c.tls_cert_file, tls["cert_file"].String());
  SF_ASSIGN_OR_RETURN(c.tls_key_file, tls["key_file"].String());
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return (c.tls_cert_file.empty() ? tls["cert_file"] : tls["key_file"])
        .Error("tls needs both cert_file and key_file (or neither)");
  }
  for (const char* key : {"cert_file", "key_file"}) {
    SF_ASSIGN_OR_RETURN(std::string file, tls[key].String());
    if (!file.empty() && !fs.Exists(file)) return tls[key].Error("file '" + file + "' does not exist");
  }

  const ConfigNode http = root["http"];
  SF_RETURN_IF_ERROR(http.CheckNoUnknownKeys({"io_threads", "handler_threads"}));
  SF_ASSIGN_OR_RETURN(int64_t io, http["io_threads"].Int(c.io_threads, 1, 64));
  SF_ASSIGN_OR_RETURN(int64_t handlers, http["handler_threads"].Int(c.handler_threads, 1, 1024));
  c.io_threads = static_cast<int>(io);
  c.handler_threads = static_cast<int>(handlers);

  const ConfigNode log = root["log"];
  SF_RETURN_IF_ERROR(log.CheckNoUnknownKeys({"format", "level"}));
  SF_ASSIGN_OR_RETURN(std::string format, log["format"].Enum({"text", "json"}, "text"));
  c.log.format = format == "json" ? LogFormat::kJson : LogFormat::kText;
  SF_ASSIGN_OR_RETURN(c.log.level, log["level"].Enum({"trace", "debug", "info", "warn", "error", "off"}, "info"));
  c.log.component = "steadfast-collector";

  SF_ASSIGN_OR_RETURN(c.alerting, alerting::ParseAlertingConfig(root["alerting"], config_dir, fs));
  return c;
}

StatusOr<CollectorConfig> ParseCollectorConfigText(const std::string& yaml, const std::string& file_name,
                                                   FileSystem& fs) {
  SF_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::Parse(yaml, file_name));
  SF_ASSIGN_OR_RETURN(CollectorConfig c, ParseCollectorConfig(doc, fs, DirOf(file_name)));
  c.source = file_name;
  return c;
}

StatusOr<CollectorConfig> LoadCollectorConfig(const std::string& path, FileSystem& fs) {
  SF_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::Load(path));
  SF_ASSIGN_OR_RETURN(CollectorConfig c, ParseCollectorConfig(doc, fs, DirOf(path)));
  c.source = path;
  return c;
}

}  // namespace steadfast::collector
