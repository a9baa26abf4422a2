// CheckRegistry: maps a check `type` from the config ("system", "filesystem", "tcp") to the
// factory that validates that check's config and builds it. Registration is explicit:
// RegisterBuiltinChecks() lists every built-in factory, so the set of check types is greppable
// and nothing depends on static initialisation order.
//
// Thread-safety: Register during start-up only; Create and Types are then safe to call from
// any thread (the registry is not modified any more).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/check.h"
#include "common/config/config_node.h"
#include "common/status.h"

namespace steadfast::agent {

// One entry of the config's `checks:` list, with the keys every check has already read.
struct CheckSpec {
  std::string name;
  std::string type;
  int64_t interval_ms = 60'000;
  // The run's time limit (`timeout`, shorter than the interval): ctx.deadline = start + this.
  int64_t timeout_ms = 10'000;
  config::ConfigNode node;  // the whole mapping, for the type-specific keys
};

// Keys every check mapping may have; factories add their own before CheckNoUnknownKeys.
// A factory may read `timeout` too (tcp uses it as its connect timeout); the agent enforces it
// as the run's deadline either way.
inline const std::vector<std::string>& CommonCheckKeys() {
  static const std::vector<std::string> kKeys = {"name", "type", "interval", "timeout"};
  return kKeys;
}

// Validates spec.node (InvalidArgument naming file:line:key on a bad or unknown key) and
// returns the check.
using CheckFactory = std::function<StatusOr<std::unique_ptr<Check>>(const CheckSpec& spec)>;

class CheckRegistry {
 public:
  // AlreadyExists if `type` is registered twice (a programming error caught at start-up).
  Status Register(std::string type, CheckFactory factory);
  // InvalidArgument "file:line: checks[i].type: unknown check type 'x' (known: ...)" for a
  // type nobody registered; otherwise whatever the factory returns.
  StatusOr<std::unique_ptr<Check>> Create(const CheckSpec& spec) const;
  bool Has(const std::string& type) const { return factories_.count(type) != 0; }
  // Registered types, sorted.
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, CheckFactory> factories_;
};

// Registers system, filesystem and tcp. Crashes on a duplicate (a bug in this list).
void RegisterBuiltinChecks(CheckRegistry& registry);

}  // namespace steadfast::agent
