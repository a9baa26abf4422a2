#include "agent/host_info.h"

#include <sys/utsname.h>

#include <sstream>

#include "steadfast/version.h"

namespace steadfast::agent {

std::string ParseOsReleasePrettyName(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  constexpr std::string_view kKey = "PRETTY_NAME=";
  while (std::getline(in, line)) {
    if (line.rfind(kKey, 0) != 0) continue;
    std::string v = line.substr(kKey.size());
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) ++i;
      out.push_back(v[i]);
    }
    return out;
  }
  return "";
}

protocol::HostInfo CollectHostInfo(FileSystem& fs, const std::string& etc_root) {
  protocol::HostInfo h;
  struct utsname u;
  if (::uname(&u) == 0) {
    h.hostname = u.nodename;
    h.kernel = u.release;
    h.arch = u.machine;
  }
  auto os = fs.ReadFile(etc_root + "/os-release", 64 << 10);
  if (!os.ok() && etc_root == "/etc") os = fs.ReadFile("/usr/lib/os-release", 64 << 10);
  if (os.ok()) h.os = ParseOsReleasePrettyName(*os);
  h.agent_version = kVersion;
  return h;
}

}  // namespace steadfast::agent
