#include "collector/auth/open_ldap_directory.h"

#include <ldap.h>
#include <sys/time.h>

#include <utility>
#include <vector>

#include "common/logging.h"

namespace steadfast::collector::auth {
namespace {

// Enough for anyone's group list; more is a filter that matches too much (logged).
constexpr int kMaxGroups = 1000;

struct UnbindLdap {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
struct FreeLdapMessage {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
struct FreeBerMemory {
  void operator()(char* p) const { ber_memfree(p); }
};

struct LdapEntry {
  std::string dn;
  std::vector<std::string> first_values;  // per requested attribute, "" when absent
};

struct SearchResult {
  std::vector<LdapEntry> entries;
  bool truncated = false;     // the size limit cut the answer short
  bool no_such_base = false;  // the search base does not exist (or is not visible)
};

// The result codes of a user's bind that mean "not this password for this name"; anything
// else is the directory's trouble, not the user's.
bool IsCredentialRefusal(int rc) {
  return rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
         rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX;
}

bool UsesTls(const LdapConfig& config) {
  return config.start_tls || config.url.find("ldaps://") != std::string::npos;
}

// One connection, used by one thread for one login.
class Connection {
 public:
  explicit Connection(const LdapConfig& config) : config_(config) {}

  Status Open() {
    LDAP* ld = nullptr;
    int rc = ldap_initialize(&ld, config_.url.c_str());
    if (rc != LDAP_SUCCESS) return Failure("bad URL", rc);
    ld_.reset(ld);
    timeval timeout{static_cast<time_t>(config_.timeout_ms / 1000),
                    static_cast<suseconds_t>((config_.timeout_ms % 1000) * 1000)};
    int version = LDAP_VERSION3;
    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout) != LDAP_OPT_SUCCESS) {
      return UnavailableError("LDAP " + config_.url + ": cannot set connection options");
    }
    if (UsesTls(config_)) {
      // Demanded whatever ldap.conf says: a directory we cannot authenticate could be anyone
      // collecting passwords.
      int demand = LDAP_OPT_X_TLS_DEMAND;
      int min_protocol = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
      int is_server = 0;
      if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
          ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min_protocol) != LDAP_OPT_SUCCESS ||
          (!config_.ca_file.empty() &&
           ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, config_.ca_file.c_str()) !=
               LDAP_OPT_SUCCESS) ||
          ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
        return UnavailableError("LDAP " + config_.url + ": cannot set up TLS (ca_file '" +
                                config_.ca_file + "')");
      }
    }
    if (config_.start_tls) {
      rc = ldap_start_tls_s(ld, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) return Failure("StartTLS", rc);
    }
    return OkStatus();
  }

  // A simple bind; returns the LDAP result code (the caller decides what a refusal means).
  int SimpleBind(const std::string& dn, const std::string& password) {
    berval cred{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
    return ldap_sasl_bind_s(ld_.get(), dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                            nullptr);
  }

  Status BindService(const std::string& dn, const std::string& password) {
    const int rc = SimpleBind(dn, password);
    if (rc == LDAP_SUCCESS) return OkStatus();
    return Failure("bind as the service account (bind_dn '" + dn + "')", rc);
  }

  StatusOr<SearchResult> Search(const std::string& base, int scope, const std::string& filter,
                                const std::vector<std::string>& attributes, int size_limit) {
    std::vector<char*> attrs;
    for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
    attrs.push_back(nullptr);
    timeval timeout{static_cast<time_t>(config_.timeout_ms / 1000),
                    static_cast<suseconds_t>((config_.timeout_ms % 1000) * 1000)};
    LDAPMessage* raw = nullptr;
    const int rc = ldap_search_ext_s(ld_.get(), base.c_str(), scope, filter.c_str(), attrs.data(),
                                     /*attrsonly=*/0, nullptr, nullptr, &timeout, size_limit, &raw);
    std::unique_ptr<LDAPMessage, FreeLdapMessage> result(raw);
    SearchResult out;
    if (rc == LDAP_NO_SUCH_OBJECT) {
      out.no_such_base = true;
      return out;
    }
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
      return Failure("search " + filter + " under " + base, rc);
    }
    out.truncated = rc == LDAP_SIZELIMIT_EXCEEDED;
    for (LDAPMessage* e = ldap_first_entry(ld_.get(), result.get()); e != nullptr;
         e = ldap_next_entry(ld_.get(), e)) {
      LdapEntry entry;
      std::unique_ptr<char, FreeBerMemory> dn(ldap_get_dn(ld_.get(), e));
      if (dn) entry.dn = dn.get();
      for (const std::string& a : attributes) {
        std::string value;
        berval** values = ldap_get_values_len(ld_.get(), e, a.c_str());
        if (values != nullptr && values[0] != nullptr) {
          value.assign(values[0]->bv_val, values[0]->bv_len);
        }
        ldap_value_free_len(values);
        entry.first_values.push_back(std::move(value));
      }
      out.entries.push_back(std::move(entry));
    }
    return out;
  }

  // Unavailable naming the URL, what failed, libldap's reason and the server's diagnostic.
  Status Failure(const std::string& what, int rc) const {
    std::string message = "LDAP " + config_.url + ": " + what + ": " + ldap_err2string(rc);
    if (rc < 0 && UsesTls(config_)) {
      // libldap reports a failed TLS handshake like a refused connection.
      message +=
          " (or TLS failed: is the certificate signed by ca_file's CA, and does it name the host?)";
    }
    // Negative codes are libldap's own; only a server's answer carries a diagnostic.
    if (ld_ && rc > 0) {
      char* diagnostic = nullptr;
      if (ldap_get_option(ld_.get(), LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) ==
              LDAP_OPT_SUCCESS &&
          diagnostic != nullptr) {
        if (diagnostic[0] != '\0') message += " (" + std::string(diagnostic) + ")";
        ldap_memfree(diagnostic);
      }
    }
    return UnavailableError(std::move(message));
  }

 private:
  const LdapConfig& config_;
  std::unique_ptr<LDAP, UnbindLdap> ld_;
};

}  // namespace

StatusOr<std::unique_ptr<OpenLdapDirectory>> OpenLdapDirectory::Create(const LdapConfig& config,
                                                                       FileSystem& fs) {
  std::string password;
  if (!config.bind_dn.empty()) {
    const std::string& path = config.bind_password_file;
    const std::string key = "auth.ldap.bind_password_file: ";
    StatusOr<std::string> text = fs.ReadFile(path, 4096);
    if (!text.ok()) {
      return InvalidArgumentError(key + "cannot read '" + path + "': " + text.status().message());
    }
    StatusOr<uint32_t> mode = fs.FileMode(path);
    if (mode.ok() && (*mode & 0004) != 0) {
      return InvalidArgumentError(key + "'" + path +
                                  "' holds a password but is readable by everyone; chmod o-r it");
    }
    password = std::move(text).value();
    // One line; the newline an editor adds is not part of the password.
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
    if (password.empty()) return InvalidArgumentError(key + "'" + path + "' is empty");
  }
  return std::make_unique<OpenLdapDirectory>(config, std::move(password));
}

OpenLdapDirectory::OpenLdapDirectory(LdapConfig config, std::string bind_password)
    : config_(std::move(config)), bind_password_(std::move(bind_password)) {}

StatusOr<LdapIdentity> OpenLdapDirectory::Authenticate(const std::string& username,
                                                       const std::string& password) {
  if (password.empty()) {
    return UnauthenticatedError("empty password refused before binding (an anonymous bind)");
  }
  if (username.empty()) return UnauthenticatedError("empty username");
  Connection conn(config_);
  SF_RETURN_IF_ERROR(conn.Open());
  const std::vector<std::string> attributes{config_.display_name_attribute,
                                            config_.email_attribute};
  const bool service = !config_.bind_dn.empty();
  LdapIdentity id;

  if (config_.search_mode()) {
    SF_RETURN_IF_ERROR(conn.BindService(config_.bind_dn, bind_password_));
    const std::string filter =
        ExpandLdapPlaceholders(config_.user_filter, EscapeLdapFilterValue(username), "");
    SF_ASSIGN_OR_RETURN(SearchResult found,
                        conn.Search(config_.user_base, LDAP_SCOPE_SUBTREE, filter, attributes, 2));
    if (found.no_such_base) {
      return UnavailableError("LDAP " + config_.url + ": user_base '" + config_.user_base +
                              "' does not exist");
    }
    if (found.entries.empty()) return UnauthenticatedError("no directory entry matches " + filter);
    if (found.entries.size() > 1 || found.truncated) {
      SF_LOG_WARN("ldap: several entries under '{}' match {}; refusing to pick one",
                  config_.user_base, filter);
      return UnauthenticatedError("several directory entries match " + filter);
    }
    id.dn = found.entries[0].dn;
    id.display_name = found.entries[0].first_values[0];
    id.email = found.entries[0].first_values[1];
  } else {
    StatusOr<std::string> value = EscapeLdapDnValue(username);
    if (!value.ok()) return UnauthenticatedError("username: " + value.status().message());
    id.dn = ExpandLdapPlaceholders(config_.user_dn_template, *value, "");
  }

  const int rc = conn.SimpleBind(id.dn, password);
  if (IsCredentialRefusal(rc)) {
    return UnauthenticatedError("the directory refused the password for '" + id.dn +
                                "': " + ldap_err2string(rc));
  }
  if (rc != LDAP_SUCCESS) return conn.Failure("bind as '" + id.dn + "'", rc);

  if (!config_.search_mode()) {
    // The user's own entry, read as the user (a directory that hides it leaves both empty).
    SF_ASSIGN_OR_RETURN(SearchResult self,
                        conn.Search(id.dn, LDAP_SCOPE_BASE, "(objectClass=*)", attributes, 1));
    if (!self.entries.empty()) {
      id.display_name = self.entries[0].first_values[0];
      id.email = self.entries[0].first_values[1];
    }
  }

  if (service) SF_RETURN_IF_ERROR(conn.BindService(config_.bind_dn, bind_password_));
  const std::string group_filter = ExpandLdapPlaceholders(
      config_.group_filter, EscapeLdapFilterValue(username), EscapeLdapFilterValue(id.dn));
  // "1.1": no attributes, the DNs are all we need.
  SF_ASSIGN_OR_RETURN(SearchResult groups, conn.Search(config_.group_base, LDAP_SCOPE_SUBTREE,
                                                       group_filter, {"1.1"}, kMaxGroups));
  if (groups.no_such_base) {
    return UnavailableError("LDAP " + config_.url + ": group_base '" + config_.group_base +
                            "' does not exist");
  }
  if (groups.truncated) {
    SF_LOG_WARN("ldap: more than {} groups match {}; using the first {}", kMaxGroups, group_filter,
                kMaxGroups);
  }
  for (LdapEntry& g : groups.entries) id.groups.push_back(std::move(g.dn));
  return id;
}

std::string EscapeLdapFilterValue(std::string_view value) {
  berval in{static_cast<ber_len_t>(value.size()), const_cast<char*>(value.data())};
  berval out{0, nullptr};
  // Fails only when out of memory.
  SF_CHECK(ldap_bv2escaped_filter_value(&in, &out) == LDAP_SUCCESS);
  std::string escaped(out.bv_val, out.bv_len);
  ber_memfree(out.bv_val);
  return escaped;
}

StatusOr<std::string> EscapeLdapDnValue(std::string_view value) {
  if (value.empty()) return InvalidArgumentError("an empty DN value");
  // libldap writes DNs, not lone values: write the one-AVA RDN "x=<value>" and drop "x=".
  char attribute[] = "x";
  LDAPAVA ava{};
  ava.la_attr = berval{1, attribute};
  ava.la_value = berval{static_cast<ber_len_t>(value.size()), const_cast<char*>(value.data())};
  ava.la_flags = LDAP_AVA_STRING;
  LDAPAVA* rdn[] = {&ava, nullptr};
  berval out{0, nullptr};
  const int rc = ldap_rdn2bv(rdn, &out, LDAP_DN_FORMAT_LDAPV3);
  if (rc != LDAP_SUCCESS) return InvalidArgumentError("not valid UTF-8");
  std::string escaped(out.bv_val, out.bv_len);
  ber_memfree(out.bv_val);
  SF_CHECK(escaped.rfind("x=", 0) == 0);  // the RDN written is "x=" followed by the value
  return escaped.substr(2);
}

std::string ExpandLdapPlaceholders(std::string_view text, std::string_view username,
                                   std::string_view dn) {
  std::string out;
  out.reserve(text.size() + username.size() + dn.size());
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 10) == "{username}") {
      out += username;
      i += 10;
    } else if (text.substr(i, 4) == "{dn}") {
      out += dn;
      i += 4;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace steadfast::collector::auth
