// node_log.cpp — node log lines on "horus.log" (node_log.hpp).
#include "horus/sched/node_log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <unistd.h>

#include "horus/msg/standard_messages.hpp"
#include "horus/msg/utf8.hpp"
#include "horus/topic/record_topic.hpp"

namespace horus {
namespace {

std::atomic<uint64_t> g_dropped{0};

std::mutex& log_mutex() {
    static auto* m = new std::mutex();  // never destroyed: threads may log during exit
    return *m;
}

// This process's log topic (guarded by log_mutex()); never destroyed at exit.
std::unique_ptr<Topic<msg::Log>>& log_topic() {
    static auto* topic = new std::unique_ptr<Topic<msg::Log>>();
    return *topic;
}

// The text with every byte that is not part of valid UTF-8 replaced by '?'.
std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const std::size_t bad = first_invalid_utf8(text);
        if (bad == std::string_view::npos) {
            out.append(text);
            break;
        }
        out.append(text.substr(0, bad));
        out.push_back('?');
        text.remove_prefix(bad + 1);
    }
    return out;
}

int64_t realtime_ns() {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

const char* log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::Debug: return "DEBUG";
        case LogLevel::Info: return "INFO";
        case LogLevel::Warning: return "WARNING";
        case LogLevel::Error: return "ERROR";
    }
    return "LOG";
}

void publish_log(LogLevel level, std::string_view node, std::string_view text, bool echo) noexcept {
    std::string clean_node, clean_text;
    try {
        clean_node = valid_utf8(node);
        clean_text = valid_utf8(text);
    } catch (...) {
        g_dropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    for (char& c : clean_node)
        if (c == '\0') c = '?';
    for (char& c : clean_text)
        if (c == '\0') c = '?';
    if (echo && level >= LogLevel::Warning)
        std::fprintf(stderr, "[horus] %s %.*s: %.*s\n", log_level_name(level), static_cast<int>(clean_node.size()),
                     clean_node.data(), static_cast<int>(clean_text.size()), clean_text.data());
    try {
        Stamped<msg::Log> line;
        line.value.level = static_cast<uint8_t>(level);
        line.value.pid = static_cast<int32_t>(getpid());
        line.value.name = utf8_prefix(clean_node, decltype(line.value.name)::capacity - 1);
        line.value.message = utf8_prefix(clean_text, decltype(line.value.message)::capacity - 1);
        line.timestamp_ns = static_cast<uint64_t>(realtime_ns());
        std::lock_guard<std::mutex> g(log_mutex());
        std::unique_ptr<Topic<msg::Log>>& topic = log_topic();
        if (!topic) topic = std::make_unique<Topic<msg::Log>>(kLogTopic);
        topic->send(line);
    } catch (const std::exception& e) {
        if (g_dropped.fetch_add(1, std::memory_order_relaxed) == 0)
            std::fprintf(stderr, "[horus] cannot publish node logs on '%s' (%s); lines go to stderr only\n",
                         kLogTopic, e.what());
        if (echo && level < LogLevel::Warning)
            std::fprintf(stderr, "[horus] %s %.*s: %.*s\n", log_level_name(level),
                         static_cast<int>(clean_node.size()), clean_node.data(),
                         static_cast<int>(clean_text.size()), clean_text.data());
    } catch (...) {
        g_dropped.fetch_add(1, std::memory_order_relaxed);
    }
}

void close_log_topic() noexcept {
    std::lock_guard<std::mutex> g(log_mutex());
    log_topic().reset();
}

uint64_t log_lines_dropped() noexcept { return g_dropped.load(std::memory_order_relaxed); }

}  // namespace horus
