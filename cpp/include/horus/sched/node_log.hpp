// node_log.hpp — node log lines: published as horus::msg::Log on the namespace's
// topic "horus.log" (kLogTopic; `horus log` follows it) and, from Warning up, written
// to stderr as "[horus] WARNING node: text".
//
// Any thread may log: one process-wide Topic<msg::Log>, opened on first use, guarded
// by a mutex. Logging never throws: a line that cannot be published (pool exhausted,
// a foreign "horus.log" topic) is counted in log_lines_dropped() and written to
// stderr instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace horus {

inline constexpr const char* kLogTopic = "horus.log";

/// Python's logging numbers, also the Log message's `level`.
enum class LogLevel : uint8_t { Debug = 10, Info = 20, Warning = 30, Error = 40 };

const char* log_level_name(LogLevel level);

/// Publishes one log line of node `node` (text cut at 1023 bytes on a UTF-8 character
/// boundary, invalid UTF-8 replaced). `echo`: also write Warning and Error to stderr.
void publish_log(LogLevel level, std::string_view node, std::string_view text, bool echo = true) noexcept;

/// Closes this process's log topic (the next line opens it again). Its ring keeps the
/// latest lines in the pool while the topic is open; this lets them go.
void close_log_topic() noexcept;

/// Log lines this process could not publish.
uint64_t log_lines_dropped() noexcept;

}  // namespace horus
