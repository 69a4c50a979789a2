// layout_registry.hpp — the full declaration of every typed message a topic of the
// namespace carries, readable by any process ("/horus.<ns>.layout.<16 hex digits>").
//
// A topic header holds its type's canonical text, truncated to 1023 bytes, and a
// nested type appears there only as "Name#hash". A tool that never imported the
// declaration (the recorder, `horus topic echo`, the live view) needs all of it to
// rebuild the class: the layout bundle is the text of the type followed by the text of
// every type nested in it (depth first, each once), one per line.
//
// Who writes what: every process that opens or types a topic with a record layout
// publishes its bundle once (publish_layout_bundle, best effort: a failure only means
// tools cannot rebuild the type). The object is created exclusively, filled, and
// marked ready last (release); it never changes after that. The hash names it, so two
// writers of one hash write the same bytes. Readers (read_layout_bundle) check magic,
// version, sizes, readiness, the hash and the text before trusting any of it; objects
// of another user are never read. The objects go with the namespace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "horus/msg/record_layout.hpp"

namespace horus {

/// The canonical texts of `layout` and of every record nested in it (depth first, once each).
std::vector<std::string> layout_bundle(const RecordLayout& layout);

/// Writes the bundle of `layout` for other processes (once per process and hash). Never throws.
void publish_layout_bundle(const RecordLayout& layout) noexcept;

/// The bundle published for `hash` in this namespace, or nullopt (none, invalid, foreign).
std::optional<std::vector<std::string>> read_layout_bundle(uint64_t hash);

}  // namespace horus
