// The two halves of protocol::DecodeReportBatch, declared for its tests only (the differential
// test holds them to each other). Everything else calls DecodeReportBatch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/protocol/protocol.h"
#include "common/status.h"

namespace steadfast::protocol::internal {

// The reference decoder: parses the whole document into a JSON DOM, then validates it field
// by field in a fixed order. It defines what DecodeReportBatch accepts, what it produces and
// which error (message and field path) a malformed batch gets.
StatusOr<ReportBatch> DecodeReportBatchReference(std::string_view json);

// The fast path: one streaming (SAX) pass that fills *out directly, with no DOM, reading the
// JSON with FastJsonReader (fast_json_reader.h) or, for JSON outside that reader's subset,
// with nlohmann's SAX parser. It returns true only for a document the reference decoder
// accepts, and then *out is exactly what the reference decoder returns. It returns false —
// *out is then unspecified — for anything it does not vouch for: invalid JSON, a field
// missing, null, of the wrong type or out of range, a duplicate key, limits passed.
// DecodeReportBatch then runs the reference decoder, so malformed input gets its error from
// one place only. False is never a verdict on validity.
bool DecodeReportBatchFast(std::string_view json, ReportBatch* out);

// ParseRfc3339Millis without the std::string and sscanf for the form FormatRfc3339Millis
// writes ("2026-11-29T02:44:34.123Z"); any other text is passed to ParseRfc3339Millis. Same
// results and errors.
StatusOr<int64_t> ParseTimestampMillis(std::string_view text);

}  // namespace steadfast::protocol::internal
