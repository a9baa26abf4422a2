// NagiosPluginCheck (type "nagios_plugin"): runs any Nagios / Monitoring Plugins compatible
// command through ctx.commands (no shell, minimal environment, killed at the check's timeout)
// and reads its answer the way the plugin API defines it:
//   exit code   0 ok, 1 warning, 2 critical, 3 unknown; anything else (126, 127, a crash) is
//               unknown with the code or signal in the summary; a timeout is unknown
//               "timed out after 10 s".
//   stdout      TEXT | PERFDATA
//               LONG TEXT LINE 1
//               ...
//               LONG TEXT LINE N | PERFDATA LINE 2
//               PERFDATA LINE 3 ...
//               The first line's text is the summary (stderr's first line when stdout is
//               empty); the long text goes to details.long_output.
//   perfdata    'label'=value[UOM];[warn];[crit];[min];[max], space separated, labels quoted
//               with ' when they contain spaces ('' is a quote inside). Each value becomes a
//               metric with label {label: <perfdata label>}, converted to base units:
//                 s, ms, us, ns      -> perfdata_seconds (seconds)
//                 %                  -> perfdata_ratio (0..1)
//                 B, KB, MB, GB, TB  -> perfdata_bytes (KB = 1024 B, as Nagios plugins mean
//                 KiB .. TiB             it: check_swap's MB are MiB)
//                 c                  -> perfdata_total (a counter)
//                 none or other      -> perfdata_value (the UOM, if any, in Metric::unit)
//               "U" (unknown value) and unparsable items are skipped and listed in
//               details.perfdata_errors; thresholds, min and max are kept in details.perfdata.
//
// Config keys (besides name/type/interval/timeout):
//   command: [program, arg, ...]  required. The program is an absolute path, or a bare name
//            looked up first in plugin_dirs, then in the runner's fixed PATH.
//   plugin_dirs: [dir, ...]  default [/usr/lib/nagios/plugins, /usr/lib64/nagios/plugins,
//                /usr/local/nagios/libexec]
//   target: the result's target (default: the program's file name, e.g. "check_load")
//   env: {NAME: value, ...}  added to the command's minimal environment
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/check.h"
#include "agent/check_registry.h"

namespace steadfast::agent {

// One perfdata item as written; value is nullopt for "U".
struct PerfdataItem {
  std::string label;
  std::optional<double> value;
  std::string uom;
  std::string warn, crit, min, max;  // as written ("" when absent)
};

// stdout of a plugin split by the plugin API.
struct PluginOutput {
  std::string summary;      // first line's text, trimmed
  std::string long_output;  // the other text lines, '\n'-joined
  std::string perfdata;     // every perfdata part, space-joined
};
PluginOutput SplitPluginOutput(std::string_view out);

// Parses a perfdata string. Items that do not parse are skipped; a description of each goes to
// *errors (when not null).
std::vector<PerfdataItem> ParsePerfdata(std::string_view text, std::vector<std::string>* errors);

// The metric for an item (nullopt for a "U" value), its value converted to base units.
std::optional<protocol::Metric> PerfdataMetric(const PerfdataItem& item);

struct NagiosPluginOptions {
  std::vector<std::string> command;
  std::vector<std::string> plugin_dirs = {"/usr/lib/nagios/plugins", "/usr/lib64/nagios/plugins",
                                          "/usr/local/nagios/libexec"};
  std::string target;
  std::map<std::string, std::string> env;
  Millis timeout{10'000};
};

class NagiosPluginCheck final : public Check {
 public:
  NagiosPluginCheck(std::string name, NagiosPluginOptions options)
      : Check(std::move(name)), options_(std::move(options)) {}
  std::vector<protocol::CheckResult> Run(const CheckContext& ctx) override;

 private:
  // argv[0] as run: a bare name found in plugin_dirs becomes that path.
  std::string ResolveProgram(const CheckContext& ctx) const;

  NagiosPluginOptions options_;
};

// Factory for type "nagios_plugin".
StatusOr<std::unique_ptr<Check>> NewNagiosPluginCheck(const CheckSpec& spec);

}  // namespace steadfast::agent
