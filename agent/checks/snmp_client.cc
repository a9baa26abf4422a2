#include "agent/checks/snmp_client.h"

#include <fmt/format.h>

#include <charconv>

namespace steadfast::agent {

StatusOr<Oid> ParseOid(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '.') s.remove_prefix(1);
  if (s.empty()) return InvalidArgumentError("empty OID");
  Oid oid;
  while (true) {
    size_t dot = s.find('.');
    std::string_view arc = s.substr(0, dot);
    uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(arc.data(), arc.data() + arc.size(), v);
    if (arc.empty() || ec != std::errc() || ptr != arc.data() + arc.size()) {
      return InvalidArgumentError(fmt::format(
          "'{}' is not a numeric OID like 1.3.6.1.2.1.1.3.0 (MIB names are not loaded)", text));
    }
    oid.push_back(v);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  if (oid.size() < 2 || oid.size() > 128) {
    return InvalidArgumentError(fmt::format("'{}': an OID has 2 to 128 arcs", text));
  }
  return oid;
}

std::string FormatOid(const Oid& oid) { return fmt::format("{}", fmt::join(oid, ".")); }

bool OidIsBelow(const Oid& oid, const Oid& root) {
  return oid.size() > root.size() && std::equal(root.begin(), root.end(), oid.begin());
}

}  // namespace steadfast::agent
