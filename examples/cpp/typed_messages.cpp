// typed_messages.cpp — typed messages (HORUS_MESSAGE records) from C++: publishing,
// subscribing, what a layout mismatch looks like, and the standard message layouts.
//
//   typed_messages pub TOPIC N             publish N horus::msg::CmdVel on TOPIC, then N
//                                          horus::msg::LaserScan on TOPIC.scan
//   typed_messages sub TOPIC N TIMEOUT_S   receive N CmdVel (TOPIC) and N LaserScan
//                                          (TOPIC.scan), one line per message
//   typed_messages mismatch TOPIC          open TOPIC with a CmdVel of another layout
//   typed_messages layouts                 the standard messages' layouts as JSON lines
//
// pub: message k (0 <= k < N) is CmdVel{linear = k, angular = -k} with timestamp_ns = k
//   and frame_id "cpp"; LaserScan k has the same metadata, angle_min = -1, angle_max = 1,
//   angle_increment = 2 / 2047, range_max = 100, count = 2048, ranges[i] = k + i and
//   intensities[i] = i % 256. CmdVel (8 bytes) travels inline in the ring slot; LaserScan
//   (16 KiB) travels in a pool block. Prints "published N CmdVel and N LaserScan on 'TOPIC'".
//   The subscribers must exist before pub starts (a topic delivers what is sent after
//   a subscriber opened it).
// sub: prints "ready" once subscribed to both topics, then, per message,
//     cmdvel <timestamp_ns> <frame_id> <linear> <angular>
//     scan <timestamp_ns> <frame_id> <count> <ranges[0]> <ranges[1]> <ranges[count-1]> <sum of ranges[0, count)>
//   then "received <cmdvels> CmdVel and <scans> LaserScan, dropped <n>"; exits 0 when it
//   got N of each before the timeout, 1 otherwise.
// mismatch: declares its own CmdVel of two doubles (another layout, same name) and
//   opens TOPIC with it. horus refuses: prints "refused: <the TypeMismatch text>" and
//   exits 0; prints "opened" and exits 1 if the topic was (wrongly) accepted.
// layouts: one line per message of horus::msg::standard_message_layouts():
//     {"name": "CmdVel", "size": 8, "hash": "0x...", "text": "CmdVel{linear:float32@0,...}8"}
//
// Exit status 2 on any other error (printed to stderr).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "horus/horus.hpp"

namespace {

// The message a Python program would declare as
//   @horus.message
//   class CmdVel:
//       linear: float
//       angular: float
// Same name as horus::msg::CmdVel, another layout (float64 fields), so another topic type.
namespace mine {
HORUS_MESSAGE(CmdVel, (double, linear), (double, angular));
}

int usage() {
    std::fprintf(stderr,
                 "usage: typed_messages pub TOPIC N | sub TOPIC N TIMEOUT_S | mismatch TOPIC | layouts\n");
    return 2;
}

int publish(const std::string& topic, long n) {
    horus::Topic<horus::msg::CmdVel> cmd(topic);
    horus::Topic<horus::msg::LaserScan> scans(topic + ".scan");
    for (long k = 0; k < n; ++k) {
        horus::Stamped<horus::msg::CmdVel> m;
        m.value.linear = static_cast<float>(k);
        m.value.angular = static_cast<float>(-k);
        m.timestamp_ns = static_cast<uint64_t>(k);
        m.frame_id = "cpp";
        cmd.send(m);
    }
    // A LaserScan is 16 KiB: allocate it once, not on the stack of every iteration.
    auto scan = std::make_unique<horus::Stamped<horus::msg::LaserScan>>();
    for (long k = 0; k < n; ++k) {
        horus::msg::LaserScan& s = scan->value;
        s.angle_min = -1.0f;
        s.angle_max = 1.0f;
        s.angle_increment = 2.0f / 2047.0f;
        s.range_max = 100.0f;
        s.count = 2048;
        for (std::size_t i = 0; i < s.ranges.size; ++i) {
            s.ranges[i] = static_cast<float>(k + static_cast<long>(i));
            s.intensities[i] = static_cast<float>(i % 256);
        }
        scan->timestamp_ns = static_cast<uint64_t>(k);
        scan->frame_id = "cpp";
        scans.send(*scan);
    }
    std::printf("published %ld CmdVel and %ld LaserScan on '%s'\n", n, n, topic.c_str());
    return 0;
}

void print_cmdvel(const horus::Stamped<horus::msg::CmdVel>& m) {
    std::printf("cmdvel %llu %s %.9g %.9g\n", static_cast<unsigned long long>(m.timestamp_ns), m.frame_id.c_str(),
                static_cast<double>(m.value.linear), static_cast<double>(m.value.angular));
}

void print_scan(const horus::Stamped<horus::msg::LaserScan>& m) {
    const horus::msg::LaserScan& s = m.value;
    const std::size_t count = s.count <= s.ranges.size ? s.count : s.ranges.size;
    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += static_cast<double>(s.ranges[i]);
    std::printf("scan %llu %s %u %.9g %.9g %.9g %.17g\n", static_cast<unsigned long long>(m.timestamp_ns),
                m.frame_id.c_str(), static_cast<unsigned>(s.count), static_cast<double>(s.ranges[0]),
                static_cast<double>(s.ranges[1]), count ? static_cast<double>(s.ranges[count - 1]) : 0.0, sum);
}

int subscribe(const std::string& topic, long n, double timeout_s) {
    horus::Topic<horus::msg::CmdVel> cmd(topic);
    horus::Topic<horus::msg::LaserScan> scans(topic + ".scan");
    std::printf("ready\n");
    std::fflush(stdout);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    long got_cmd = 0, got_scan = 0;
    while ((got_cmd < n || got_scan < n) && std::chrono::steady_clock::now() < deadline) {
        bool any = false;
        if (got_cmd < n) {
            if (auto m = cmd.try_recv()) {
                print_cmdvel(*m);
                ++got_cmd;
                any = true;
            }
        }
        if (got_scan < n) {
            if (auto m = scans.try_recv()) {  // a copy out of the pool block (value semantics)
                print_scan(*m);
                ++got_scan;
                any = true;
            }
        }
        std::fflush(stdout);
        if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::printf("received %ld CmdVel and %ld LaserScan, dropped %llu\n", got_cmd, got_scan,
                static_cast<unsigned long long>(cmd.dropped() + scans.dropped()));
    return got_cmd == n && got_scan == n ? 0 : 1;
}

int mismatch(const std::string& topic) {
    try {
        horus::Topic<mine::CmdVel> t(topic);
        std::printf("opened '%s' with %s\n", t.name().c_str(), mine::CmdVel::horus_layout().text().c_str());
        return 1;
    } catch (const horus::TypeMismatch& e) {
        std::printf("refused: %s\n", e.what());
        return 0;
    }
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

int layouts() {
    for (const auto& l : horus::msg::standard_message_layouts())
        std::printf("{\"name\": %s, \"size\": %llu, \"hash\": %s, \"text\": %s}\n", json_string(l->name()).c_str(),
                    static_cast<unsigned long long>(l->size()), json_string(horus::hash_hex(l->hash())).c_str(),
                    json_string(l->text()).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    try {
        if (mode == "pub" && argc == 4) return publish(argv[2], std::atol(argv[3]));
        if (mode == "sub" && argc == 5) return subscribe(argv[2], std::atol(argv[3]), std::atof(argv[4]));
        if (mode == "mismatch" && argc == 3) return mismatch(argv[2]);
        if (mode == "layouts" && argc == 2) return layouts();
        return usage();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "typed_messages: %s\n", e.what());
        return 2;
    }
}
