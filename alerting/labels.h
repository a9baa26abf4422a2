// Labels and label matchers, as Prometheus and Alertmanager write them.
//
// A matcher is `name="value"` (equal), `name!="value"`, `name=~"regex"` or `name!~"regex"`
// (RE2, anchored at both ends, as in Prometheus). A label that is absent matches as "".
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace steadfast::alerting {

using Labels = std::map<std::string, std::string>;

// Letters, digits and _, not starting with a digit (Prometheus' label names).
bool IsLabelName(std::string_view name);

// An alert's identity: the sum (mod 2^64) of LabelPairHash over its name/value pairs, as 16 hex
// digits. Equal label sets give equal fingerprints, on every machine; being a sum, it can be
// updated pair by pair (the evaluator adds a rule's labels to a series' without building the
// merged set).
std::string Fingerprint(const Labels& labels);
uint64_t LabelPairHash(std::string_view name, std::string_view value);
uint64_t LabelsHash(const Labels& labels);
std::string FingerprintText(uint64_t hash);
// `{a="1", b="2"}`, for logs, test golden files and messages.
std::string LabelsText(const Labels& labels);

class Matcher {
 public:
  enum class Op { kEqual, kNotEqual, kRegex, kNotRegex };
  // Parses one matcher. The error says what is wrong with `text`.
  static StatusOr<Matcher> Parse(std::string_view text);

  const std::string& name() const { return name_; }
  Op op() const { return op_; }
  const std::string& value() const { return value_; }
  bool Matches(const Labels& labels) const;
  bool Matches(std::string_view value) const;
  std::string ToString() const;

 private:
  std::string name_;
  Op op_ = Op::kEqual;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // for the regex operators; shared so copies are cheap
};

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels);

}  // namespace steadfast::alerting
