#include "collector/auth/ldap_config.h"

#include <algorithm>
#include <cctype>

#include "collector/auth/auth_config.h"

namespace steadfast::collector::auth {
namespace {

using config::ConfigNode;

constexpr std::string_view kHexDigits = "0123456789abcdef";

bool IsUnitCode(const std::string& code) {
  if (code.empty() || code.size() > 32) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool IsAttributeName(const std::string& name) {
  if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

// Checks that `text` uses only the placeholders in `allowed`, and `required` (when not empty)
// at least once. The directory code substitutes them after escaping the values.
Status CheckPlaceholders(const ConfigNode& node, const std::string& text,
                         const std::vector<std::string>& allowed, const std::string& required) {
  bool seen_required = required.empty();
  for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    const size_t close = text.find('}', open);
    const std::string name =
        close == std::string::npos ? text.substr(open) : text.substr(open, close - open + 1);
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return node.Error("unknown placeholder '" + name + "' (placeholders here: " + list + ")");
    }
    if (name == required) seen_required = true;
  }
  if (!seen_required) return node.Error("must contain " + required);
  return OkStatus();
}

// An RFC 4515 filter as far as configuration can tell without a parser: wrapped in
// parentheses, balanced (an escaped parenthesis is written \28 / \29, so any literal one counts).
Status CheckFilter(const ConfigNode& node, const std::string& filter) {
  if (filter.size() < 3 || filter.front() != '(' || filter.back() != ')') {
    return node.Error("expected an LDAP filter in parentheses, like (uid={username}), got '" +
                      filter + "'");
  }
  int depth = 0;
  for (size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '(') ++depth;
    if (filter[i] == ')') --depth;
    if (depth < 0 || (depth == 0 && i + 1 < filter.size())) {
      return node.Error("unbalanced parentheses in '" + filter + "'");
    }
  }
  if (depth != 0) return node.Error("unbalanced parentheses in '" + filter + "'");
  return OkStatus();
}

// A DN as far as configuration can tell: attribute=value pairs separated by commas.
Status CheckDn(const ConfigNode& node, const std::string& dn) {
  if (dn.find('=') == std::string::npos || dn.front() == ',' || dn.back() == ',') {
    return node.Error("expected a DN like ou=people,dc=example,dc=org, got '" + dn + "'");
  }
  return OkStatus();
}

StatusOr<std::string> RequiredDn(const ConfigNode& node) {
  SF_ASSIGN_OR_RETURN(std::string dn, node.RequiredString());
  SF_RETURN_IF_ERROR(CheckDn(node, dn));
  return dn;
}

Status ParseUrl(const ConfigNode& node, LdapConfig* c) {
  SF_ASSIGN_OR_RETURN(c->url, node.RequiredString());
  size_t count = 0;
  size_t start = 0;
  while (start < c->url.size()) {
    size_t end = c->url.find(' ', start);
    if (end == std::string::npos) end = c->url.size();
    const std::string uri = c->url.substr(start, end - start);
    start = end + 1;
    if (uri.empty()) continue;
    const bool plain = uri.rfind("ldap://", 0) == 0;
    const bool tls = uri.rfind("ldaps://", 0) == 0;
    if (!plain && !tls) {
      return node.Error("expected ldap://host[:port] or ldaps://host[:port], got '" + uri + "'");
    }
    const size_t host_at = plain ? 7 : 8;
    if (uri.size() <= host_at || uri[host_at] == '/' || uri[host_at] == ':') {
      return node.Error("'" + uri + "' names no host");
    }
    if (tls && c->start_tls) {
      return node.Error("'" + uri + "' is already TLS; start_tls is for ldap:// only");
    }
    ++count;
  }
  if (count == 0) return node.Error("must name at least one ldap:// or ldaps:// URL");
  return OkStatus();
}

Status ParseMappings(const ConfigNode& node, LdapConfig* c) {
  if (!node.present()) return node.Error("required: at least one {group, roles, unit} entry");
  SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> items, node.Items());
  if (items.empty()) return node.Error("required: at least one {group, roles, unit} entry");
  for (const ConfigNode& item : items) {
    SF_RETURN_IF_ERROR(item.CheckNoUnknownKeys({"group", "roles", "unit"}));
    LdapGroupMapping m;
    SF_ASSIGN_OR_RETURN(m.group_dn, RequiredDn(item["group"]));
    for (const LdapGroupMapping& earlier : c->group_mappings) {
      if (SameLdapDn(earlier.group_dn, m.group_dn)) {
        return item["group"].Error("group '" + m.group_dn + "' is listed twice; give it one entry");
      }
    }
    if (!item["roles"].present()) return item["roles"].Error("required: at least one role");
    SF_ASSIGN_OR_RETURN(std::vector<ConfigNode> roles, item["roles"].Items());
    if (roles.empty()) return item["roles"].Error("required: at least one role");
    for (const ConfigNode& role_node : roles) {
      SF_ASSIGN_OR_RETURN(std::string role, role_node.RequiredString());
      if (std::find(std::begin(kRoleNames), std::end(kRoleNames), role) == std::end(kRoleNames)) {
        return role_node.Error(
            "unknown role '" + role +
            "' (roles: admin, unit_admin, operator, inspector, manager, viewer)");
      }
      if (std::find(m.roles.begin(), m.roles.end(), role) != m.roles.end()) {
        return role_node.Error("role '" + role + "' is listed twice");
      }
      m.roles.push_back(role);
    }
    SF_ASSIGN_OR_RETURN(m.unit_code, item["unit"].String());
    if (item["unit"].present() && !IsUnitCode(m.unit_code)) {
      return item["unit"].Error("expected a unit code ([a-z0-9_-], 1 to 32 characters), got '" +
                                m.unit_code + "'");
    }
    c->group_mappings.push_back(std::move(m));
  }
  return OkStatus();
}

// `dn` in the form SameLdapDn compares: every escape decoded, then the characters that need
// escaping in a value written as \xx and everything else lowercased as is; spaces next to an
// unescaped separator dropped.
std::string CanonicalDn(std::string_view dn) {
  auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto is_separator = [](char c) { return c == ',' || c == '+' || c == '='; };
  auto needs_escape = [](unsigned char c) {
    return c < 0x20 || c == ',' || c == '+' || c == '=' || c == '"' || c == '\\' || c == '<' ||
           c == '>' || c == ';' || c == '#';
  };
  std::string out;
  out.reserve(dn.size());
  auto emit = [&](unsigned char c) {
    if (needs_escape(c)) {
      out += '\\';
      out += kHexDigits[c >> 4];
      out += kHexDigits[c & 0xf];
    } else {
      out += static_cast<char>(std::tolower(c));
    }
  };
  for (size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      if (i + 2 < dn.size() && is_hex(dn[i + 1]) && is_hex(dn[i + 2])) {
        emit(static_cast<unsigned char>(std::stoi(std::string(dn.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        emit(static_cast<unsigned char>(dn[i + 1]));
        i += 1;
      }
      continue;
    }
    if (is_separator(c)) {
      out += c;
      continue;
    }
    if (c == ' ') {
      // Dropped next to a separator (on either side), kept inside a value.
      const size_t next = dn.find_first_not_of(' ', i);
      const bool before_separator = next == std::string_view::npos || is_separator(dn[next]);
      const bool after_separator = out.empty() || is_separator(out.back());
      if (before_separator || after_separator) {
        i = (next == std::string_view::npos ? dn.size() : next) - 1;
        continue;
      }
    }
    emit(static_cast<unsigned char>(c));
  }
  return out;
}

}  // namespace

StatusOr<LdapConfig> ParseLdapConfig(const ConfigNode& node) {
  if (node["bind_password"].present()) {
    return node["bind_password"].Error(
        "secrets are not written into the config: put the password in a file readable by the "
        "collector only "
        "and name it in bind_password_file");
  }
  SF_RETURN_IF_ERROR(node.CheckNoUnknownKeys(
      {"url", "start_tls", "ca_file", "timeout", "user_dn_template", "bind_dn",
       "bind_password_file", "user_base", "user_filter", "display_name_attribute",
       "email_attribute", "group_base", "group_filter", "group_mappings", "default_unit"}));
  LdapConfig c;
  SF_ASSIGN_OR_RETURN(c.start_tls, node["start_tls"].Bool(c.start_tls));
  SF_RETURN_IF_ERROR(ParseUrl(node["url"], &c));
  SF_ASSIGN_OR_RETURN(c.ca_file, node["ca_file"].String());
  SF_ASSIGN_OR_RETURN(c.timeout_ms, node["timeout"].DurationMillis(c.timeout_ms, 100, 60'000));

  SF_ASSIGN_OR_RETURN(c.user_dn_template, node["user_dn_template"].String());
  SF_ASSIGN_OR_RETURN(c.bind_dn, node["bind_dn"].String());
  SF_ASSIGN_OR_RETURN(c.bind_password_file, node["bind_password_file"].String());
  SF_ASSIGN_OR_RETURN(c.user_base, node["user_base"].String());
  SF_ASSIGN_OR_RETURN(c.user_filter, node["user_filter"].String(c.user_filter));
  if (c.bind_dn.empty() != c.bind_password_file.empty()) {
    return (c.bind_dn.empty() ? node["bind_password_file"] : node["bind_dn"])
        .Error("bind_dn and bind_password_file go together (the service account and its password)");
  }
  if (!c.bind_dn.empty()) SF_RETURN_IF_ERROR(CheckDn(node["bind_dn"], c.bind_dn));
  if (!c.user_dn_template.empty()) {
    if (node["user_base"].present() || node["user_filter"].present()) {
      const ConfigNode extra =
          node["user_base"].present() ? node["user_base"] : node["user_filter"];
      return extra.Error("either user_dn_template or a search (user_base, user_filter), not both");
    }
    SF_RETURN_IF_ERROR(CheckDn(node["user_dn_template"], c.user_dn_template));
    SF_RETURN_IF_ERROR(CheckPlaceholders(node["user_dn_template"], c.user_dn_template,
                                         {"{username}"}, "{username}"));
  } else {
    if (c.user_base.empty()) {
      return node["user_base"].Error(
          "required: set user_dn_template, or user_base (with bind_dn) to search");
    }
    SF_RETURN_IF_ERROR(CheckDn(node["user_base"], c.user_base));
    if (c.bind_dn.empty()) {
      return node["bind_dn"].Error(
          "required when searching for users (the service account that searches)");
    }
    SF_RETURN_IF_ERROR(CheckFilter(node["user_filter"], c.user_filter));
    SF_RETURN_IF_ERROR(
        CheckPlaceholders(node["user_filter"], c.user_filter, {"{username}"}, "{username}"));
  }

  for (auto [key, value] :
       {std::pair<const char*, std::string*>{"display_name_attribute", &c.display_name_attribute},
        std::pair<const char*, std::string*>{"email_attribute", &c.email_attribute}}) {
    SF_ASSIGN_OR_RETURN(*value, node[key].String(*value));
    if (!IsAttributeName(*value)) {
      return node[key].Error("expected an attribute name like cn or mail, got '" + *value + "'");
    }
  }

  SF_ASSIGN_OR_RETURN(c.group_base, RequiredDn(node["group_base"]));
  SF_ASSIGN_OR_RETURN(c.group_filter, node["group_filter"].String(c.group_filter));
  SF_RETURN_IF_ERROR(CheckFilter(node["group_filter"], c.group_filter));
  SF_RETURN_IF_ERROR(
      CheckPlaceholders(node["group_filter"], c.group_filter, {"{dn}", "{username}"}, ""));
  if (c.group_filter.find("{dn}") == std::string::npos &&
      c.group_filter.find("{username}") == std::string::npos) {
    return node["group_filter"].Error(
        "must contain {dn} or {username} (which groups hold the user)");
  }

  SF_RETURN_IF_ERROR(ParseMappings(node["group_mappings"], &c));
  SF_ASSIGN_OR_RETURN(c.default_unit, node["default_unit"].String());
  if (node["default_unit"].present() && !IsUnitCode(c.default_unit)) {
    return node["default_unit"].Error(
        "expected a unit code ([a-z0-9_-], 1 to 32 characters), got '" + c.default_unit + "'");
  }
  if (c.default_unit.empty()) {
    for (size_t i = 0; i < c.group_mappings.size(); ++i) {
      if (c.group_mappings[i].unit_code.empty()) {
        return node["default_unit"].Error("required: group_mappings[" + std::to_string(i) +
                                          "] names no unit, so its members need a default unit");
      }
    }
  }
  return c;
}

std::optional<LdapAccess> MapLdapGroups(const LdapConfig& config,
                                        const std::vector<std::string>& group_dns) {
  std::vector<std::string> held;
  for (const std::string& dn : group_dns) held.push_back(CanonicalDn(dn));
  bool mapped = false;
  std::vector<bool> granted(std::size(kRoleNames), false);
  LdapAccess access;
  for (const LdapGroupMapping& m : config.group_mappings) {
    if (std::find(held.begin(), held.end(), CanonicalDn(m.group_dn)) == held.end()) continue;
    mapped = true;
    for (const std::string& role : m.roles) {
      for (size_t i = 0; i < std::size(kRoleNames); ++i) {
        if (kRoleNames[i] == role) granted[i] = true;
      }
    }
    if (access.unit_code.empty()) access.unit_code = m.unit_code;
  }
  if (!mapped) return std::nullopt;
  for (size_t i = 0; i < std::size(kRoleNames); ++i) {
    if (granted[i]) access.roles.emplace_back(kRoleNames[i]);
  }
  if (access.unit_code.empty()) access.unit_code = config.default_unit;
  return access;
}

bool SameLdapDn(std::string_view a, std::string_view b) { return CanonicalDn(a) == CanonicalDn(b); }

}  // namespace steadfast::collector::auth
