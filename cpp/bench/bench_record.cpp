// bench_record.cpp — should small typed messages travel inline in the ring slot or in
// a pool block? Measures both storages for the same messages, side by side.
//
// For CmdVel (8 B), Pose (56 B) and an 88-byte record (the largest that fits inline):
//   same_process   send + try_recv on one Topic in one thread, ns per message (median
//                  of 15 batches of 20000): the CPU cost of each storage.
//   ping_pong      two processes (fork) bounce the message over two topics, both polling
//                  try_recv(); one-way = round trip / 2, median over the samples.
// "inline" is what Topic<T>::send does (payload in the descriptor); "pooled" builds the
// same message with BytesMessage::allocate(..., allow_inline = false) and publishes it
// through the same endpoint (a pool block per message, as for a large record).
//
// Usage: bench_record [--quick] [--json FILE]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "horus/horus.hpp"

namespace {

HORUS_MESSAGE(Record88, (horus::Array<double, 11>, v));  // 88 bytes: the inline limit

using Clock = std::chrono::steady_clock;

template <typename T>
void send(horus::TopicEndpoint& ep, const T& value, bool pooled) {
    const horus::RecordLayout& l = T::horus_layout();
    horus::BytesMessage m = horus::BytesMessage::allocate(horus::MessageKind::Record, l.hash(), l.size(), !pooled);
    std::memcpy(m.data(), &value, l.size());
    ep.publish(m.desc, &l, m.is_inline() ? nullptr : &m.block);
}

template <typename T>
bool recv(horus::TopicEndpoint& ep, T& out) {
    uint64_t ts = 0;
    std::string frame;
    return horus::read_record(ep, T::horus_layout(), &out, ts, frame);
}

template <typename T>
double same_process_ns(const std::string& name, bool pooled, int batch) {
    horus::TopicEndpoint ep(horus::TopicRing::open(name, static_cast<uint32_t>(horus::MessageKind::Record), 64,
                                                   &T::horus_layout()));
    T v{};
    T got{};
    std::vector<double> per;
    for (int r = 0; r < 15; ++r) {
        const auto t0 = Clock::now();
        for (int i = 0; i < batch; ++i) {
            send(ep, v, pooled);
            if (!recv(ep, got)) std::abort();
        }
        per.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / batch);
    }
    std::sort(per.begin(), per.end());
    return per[per.size() / 2];
}

template <typename T>
double ping_pong_ns(const std::string& name, bool pooled, int samples) {
    const std::string ping = name + ".ping", pong = name + ".pong";
    auto open = [](const std::string& n) {
        return horus::TopicEndpoint(horus::TopicRing::open(n, static_cast<uint32_t>(horus::MessageKind::Record), 64,
                                                           &T::horus_layout()));
    };
    horus::TopicEndpoint tx = open(ping), rx = open(pong);
    int ready[2];
    if (pipe(ready) != 0) std::abort();
    const pid_t child = fork();
    if (child == 0) {
        horus::TopicEndpoint in = open(ping), out = open(pong);
        char c = 1;
        if (write(ready[1], &c, 1) != 1) _exit(2);
        T v{};
        for (int i = 0; i < samples + 100; ++i) {
            while (!recv(in, v)) {
            }
            send(out, v, pooled);
        }
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1) std::abort();
    T v{};
    std::vector<double> rtt;
    for (int i = 0; i < samples + 100; ++i) {
        const auto t0 = Clock::now();
        send(tx, v, pooled);
        while (!recv(rx, v)) {
        }
        if (i >= 100) rtt.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / 2);
    }
    int status = 0;
    waitpid(child, &status, 0);
    close(ready[0]);
    close(ready[1]);
    std::sort(rtt.begin(), rtt.end());
    return rtt[rtt.size() / 2];
}

struct Row {
    std::string message, storage;
    std::size_t bytes;
    double same_ns, pingpong_ns;
};

template <typename T>
void measure(std::vector<Row>& rows, const char* label, bool quick) {
    for (bool pooled : {false, true}) {
        const std::string name = std::string("bench_record.") + label + (pooled ? ".pooled" : ".inline") + "." +
                                 std::to_string(getpid());
        rows.push_back({label, pooled ? "pooled" : "inline", sizeof(T),
                        same_process_ns<T>(name, pooled, quick ? 2000 : 20000),
                        ping_pong_ns<T>(name, pooled, quick ? 2000 : 20000)});
    }
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    const char* json = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
    }
    std::vector<Row> rows;
    measure<horus::msg::CmdVel>(rows, "CmdVel", quick);
    measure<horus::msg::Pose>(rows, "Pose", quick);
    measure<Record88>(rows, "Record88", quick);
    std::printf("%-10s %-7s %6s %16s %16s\n", "message", "storage", "bytes", "same-proc ns", "ping-pong ns");
    for (const Row& r : rows)
        std::printf("%-10s %-7s %6zu %16.1f %16.1f\n", r.message.c_str(), r.storage.c_str(), r.bytes, r.same_ns,
                    r.pingpong_ns);
    if (json) {
        FILE* f = std::fopen(json, "w");
        if (!f) return 1;
        std::fprintf(f, "[\n");
        for (std::size_t i = 0; i < rows.size(); ++i)
            std::fprintf(f, "  {\"message\": \"%s\", \"storage\": \"%s\", \"bytes\": %zu, \"same_process_ns\": %.2f, "
                         "\"ping_pong_one_way_ns\": %.2f}%s\n",
                         rows[i].message.c_str(), rows[i].storage.c_str(), rows[i].bytes, rows[i].same_ns,
                         rows[i].pingpong_ns, i + 1 < rows.size() ? "," : "");
        std::fprintf(f, "]\n");
        std::fclose(f);
    }
    return 0;
}
