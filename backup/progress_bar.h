// How a long operation shows its progress: a bar on a terminal (files, bytes, rate, ETA),
// JSON lines with --json, nothing when quiet or when stderr is not a terminal.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "backup/archiver.h"

namespace steadfast::backup {

enum class ProgressMode { kNone, kBar, kJson };

// "1.5 GiB", "512 B".
std::string HumanBytes(uint64_t bytes);
// "1:02:03", "4:05".
std::string HumanDuration(int64_t ms);

class ProgressBar {
 public:
  // `verb`: "backup", "restore", "check". `unit`: what `files` counts ("files", "packs").
  ProgressBar(ProgressMode mode, std::string verb, std::string unit = "files");
  ~ProgressBar();
  void Update(const Progress& p);
  // Clears the bar's line (before the summary is printed).
  void Done();
  bool shown() const { return mode_ != ProgressMode::kNone; }

  static ProgressMode ModeFor(bool json, bool quiet);

 private:
  ProgressMode mode_;
  std::string verb_, unit_;
  bool drawn_ = false;
};

}  // namespace steadfast::backup
