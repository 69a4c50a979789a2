// bench_topic_latency.cpp — cross-process Topic latency and throughput (issue 4, section 6).
//
// A plain executable (not Google Benchmark: every measurement needs a second
// process and per-sample timestamps). The parent spawns itself
// (posix_spawn of /proc/self/exe, so the child is a fresh process with its own
// pool attachment) in a child role for every configuration.
//
// What is measured, per payload (64 B, 4 KiB, 64 KiB, 640x480x3 Image,
// 1920x1080x3 Image, 8 MiB):
//
//   horus_block  ping-pong over two topics ("ping", "pong"): the parent sends a
//                message and waits in Topic::recv(timeout) (polls up to
//                HORUS_RECV_SPIN_US, then futex sleep); the
//                child waits in recv(timeout) and sends the received message
//                straight back (zero-copy echo). One-way = round trip / 2.
//   horus_spin   the same, both sides polling try_recv() (busy-poll): the
//                transport floor without the kernel wake-up.
//   shm_memcpy   the hand-rolled approach: memcpy the payload into a shared
//                mapping + 1-byte pipe write as the notification; the child
//                reads the pipe and memcpys the payload into its reply region
//                (symmetric echo), replying with 1 byte. One-way = RTT / 2.
//   (size-independent baselines)
//   pipe_1byte   1-byte pipe ping-pong: the kernel round trip.
//   atomic_spin  two processes bouncing a counter in one shared cache line:
//                the hardware floor for any busy-poll transport.
//
// The message sent is allocated and filled once per payload size, before the
// timed loop, and re-sent every iteration (a sent message is shared/read-only;
// re-sending it is allowed), so allocation is not timed. The horus rows do not
// touch the payload (zero-copy: nothing proportional to the size happens);
// the memcpy row does by construction.
//
// Also:
//   throughput   one-way: the parent sends back to back for 1 s (0.1 s with
//                --quick), re-sending one pre-filled message; the child polls
//                try_recv() and counts delivered and dropped (ring capacity 64;
//                a publisher never waits, so a subscriber slower than the
//                publisher drops). Reported: send rate (publisher) and
//                delivered rate (what one polling subscriber takes in), msgs/s.
//
// Busy-poll loops call sched_yield() after 4096 empty polls (see spin_until),
// so a spin row degrades gracefully instead of collapsing to one 4 ms time
// slice per message when other load leaves both processes on one core.
//   wake         blocking-recv wake latency: the parent writes a CLOCK_MONOTONIC
//                timestamp into a fresh 8-byte Tensor, sends it, then sleeps
//                ~1 ms so the child is really asleep in recv(1 s) next time; the
//                child subtracts the timestamp from the time recv() returned.
//
// Usage: bench_topic_latency [--quick] [--samples N] [--json FILE]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "horus/horus.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

inline int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Busy-poll until poll() yields a value. Pure spinning, except that every 4096
// empty polls it calls sched_yield(): with two free cores that never happens
// (a reply arrives within a few hundred ns), but when both processes share one
// core (other load on the machine) it lets the peer run instead of burning the
// whole time slice.
template <typename F>
auto spin_until(F&& poll) {
    for (unsigned n = 1;; ++n) {
        if (auto r = poll()) return r;
        if ((n & 4095) == 0)
            sched_yield();
        else
            cpu_relax();
    }
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_topic_latency: %s (errno %d: %s)\n", what.c_str(), errno, std::strerror(errno));
    std::exit(2);
}

void write_all(int fd, const void* p, size_t n) {
    auto* c = static_cast<const char*>(p);
    while (n) {
        ssize_t w = ::write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        c += w;
        n -= size_t(w);
    }
}

bool read_all(int fd, void* p, size_t n) {
    auto* c = static_cast<char*>(p);
    while (n) {
        ssize_t r = ::read(fd, c, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        if (r == 0) return false;
        c += r;
        n -= size_t(r);
    }
    return true;
}

// ---------------------------------------------------------------- payloads
struct Payload {
    const char* label;
    uint64_t bytes;
    bool image;  // Image(h, w, rgb8) rather than a 1-D uint8 Tensor
    int64_t h, w;
};

const Payload kPayloads[] = {
    {"64 B", 64, false, 0, 0},
    {"4 KiB", 4096, false, 0, 0},
    {"64 KiB", 65536, false, 0, 0},
    {"640x480x3 Image", 921600, true, 480, 640},
    {"1920x1080x3 Image", 6220800, true, 1080, 1920},
    {"8 MiB", 8u << 20, false, 0, 0},
};

const Payload& payload_by_bytes(uint64_t bytes) {
    for (const auto& p : kPayloads)
        if (p.bytes == bytes) return p;
    die("unknown payload size");
}

template <typename T>
T make_message(const Payload& p);
template <>
horus::Image make_message<horus::Image>(const Payload& p) {
    horus::Image img(p.h, p.w, horus::Encoding::Rgb8);
    std::memset(img.mutable_data(), 0x5a, img.nbytes());
    return img;
}
template <>
horus::Tensor make_message<horus::Tensor>(const Payload& p) {
    const uint64_t shape[1] = {p.bytes};
    horus::Tensor t(std::span<const uint64_t>(shape, 1), horus::DType::UInt8);
    std::memset(t.mutable_data(), 0x5a, t.nbytes());
    return t;
}
// The "stop" message: same type, different (tiny) size.
template <typename T>
T make_stop();
template <>
horus::Image make_stop<horus::Image>() {
    return horus::Image(1, 1, horus::Encoding::Rgb8);
}
template <>
horus::Tensor make_stop<horus::Tensor>() {
    const uint64_t shape[1] = {1};
    return horus::Tensor(std::span<const uint64_t>(shape, 1), horus::DType::UInt8);
}

// ---------------------------------------------------------------- stats
struct Stats {
    double median_ns = 0, p99_ns = 0, mean_ns = 0, min_ns = 0;
    size_t n = 0;
};

Stats stats_of(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.n = v.size();
    s.median_ns = v[v.size() / 2];
    s.p99_ns = v[std::min(v.size() - 1, size_t(double(v.size()) * 0.99))];
    s.min_ns = v.front();
    double sum = 0;
    for (double x : v) sum += x;
    s.mean_ns = sum / double(v.size());
    return s;
}

// ---------------------------------------------------------------- spawning
struct Child {
    pid_t pid = -1;
    int to_child = -1;    // parent writes
    int from_child = -1;  // parent reads
};

// Spawns this executable as `--child <role> <args...> <rfd> <wfd>`.
Child spawn_child(const std::vector<std::string>& args, const std::vector<int>& close_in_child = {}) {
    int p2c[2], c2p[2];
    if (pipe(p2c) != 0 || pipe(c2p) != 0) die("pipe");
    std::vector<std::string> argv_s = {"/proc/self/exe", "--child"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    argv_s.push_back(std::to_string(p2c[0]));
    argv_s.push_back(std::to_string(c2p[1]));
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, p2c[1]);
    posix_spawn_file_actions_addclose(&fa, c2p[0]);
    for (int fd : close_in_child) posix_spawn_file_actions_addclose(&fa, fd);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) die("readlink");
    self[n] = 0;
    pid_t pid;
    if (posix_spawn(&pid, self, &fa, nullptr, argv.data(), environ) != 0) die("posix_spawn");
    posix_spawn_file_actions_destroy(&fa);
    close(p2c[0]);
    close(c2p[1]);
    return Child{pid, p2c[1], c2p[0]};
}

void reap(Child& c) {
    if (c.to_child >= 0) close(c.to_child);
    if (c.from_child >= 0) close(c.from_child);
    int st = 0;
    waitpid(c.pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        std::fprintf(stderr, "bench_topic_latency: child %d failed (status %d)\n", c.pid, st);
        std::exit(3);
    }
}

void wait_ready(Child& c) {
    char b;
    if (!read_all(c.from_child, &b, 1)) die("child died before it was ready");
}

std::string topic_name(const char* what, uint64_t bytes, const char* mode) {
    return std::string("bench.") + what + "." + std::to_string(bytes) + "." + mode;
}

// ---------------------------------------------------------------- horus ping-pong
template <typename T>
int child_echo(uint64_t bytes, bool spin, int /*rfd*/, int wfd) {
    const char* mode = spin ? "spin" : "block";
    horus::Topic<T> ping(topic_name("ping", bytes, mode));
    horus::Topic<T> pong(topic_name("pong", bytes, mode));
    char ok = 1;
    write_all(wfd, &ok, 1);
    for (;;) {
        std::optional<T> m;
        if (spin) {
            m = spin_until([&] { return ping.try_recv(); });
        } else {
            while (!(m = ping.recv(std::chrono::seconds(1)))) {
            }
        }
        if (m->nbytes() != bytes) return 0;  // the stop message
        pong.send(*m);
    }
}

template <typename T>
Stats run_pingpong(const Payload& p, bool spin, size_t warmup, size_t samples) {
    const char* mode = spin ? "spin" : "block";
    horus::Topic<T> ping(topic_name("ping", p.bytes, mode));
    horus::Topic<T> pong(topic_name("pong", p.bytes, mode));
    Child c = spawn_child({"echo", std::to_string(p.bytes), spin ? "1" : "0"});
    wait_ready(c);
    T msg = make_message<T>(p);  // allocated and filled once, re-sent every iteration
    std::vector<double> v;
    v.reserve(samples);
    for (size_t i = 0; i < warmup + samples; ++i) {
        const int64_t t0 = now_ns();
        ping.send(msg);
        std::optional<T> r;
        if (spin) {
            r = spin_until([&] { return pong.try_recv(); });
        } else {
            r = pong.recv(std::chrono::seconds(5));
            if (!r) die("no reply within 5 s");
        }
        const int64_t t1 = now_ns();
        if (i >= warmup) v.push_back(double(t1 - t0) / 2.0);
    }
    T stop = make_stop<T>();
    ping.send(stop);
    reap(c);
    return stats_of(std::move(v));
}

// ---------------------------------------------------------------- horus throughput
struct Throughput {
    double send_rate = 0, delivered_rate = 0;
    uint64_t sent = 0, delivered = 0, dropped = 0;
};

template <typename T>
int child_sink(uint64_t bytes, int /*rfd*/, int wfd) {
    horus::Topic<T> t(topic_name("tput", bytes, "poll"));
    char ok = 1;
    write_all(wfd, &ok, 1);
    uint64_t n = 0;
    int64_t first = 0, last = 0;
    for (;;) {
        std::optional<T> m;
        m = spin_until([&] { return t.try_recv(); });
        if (m->nbytes() != bytes) break;
        last = now_ns();
        if (n++ == 0) first = last;
    }
    int64_t out[4] = {int64_t(n), int64_t(t.dropped()), first, last};
    write_all(wfd, out, sizeof out);
    return 0;
}

template <typename T>
Throughput run_throughput(const Payload& p, std::chrono::milliseconds duration) {
    Child c = spawn_child({"sink", std::to_string(p.bytes)});
    wait_ready(c);
    horus::Topic<T> t(topic_name("tput", p.bytes, "poll"));
    T msg = make_message<T>(p);
    const int64_t t0 = now_ns();
    const int64_t until = t0 + int64_t(std::chrono::nanoseconds(duration).count());
    size_t count = 0;
    int64_t t1 = t0;
    do {
        for (int i = 0; i < 1024; ++i) t.send(msg);
        count += 1024;
        t1 = now_ns();
    } while (t1 < until);
    T stop = make_stop<T>();
    t.send(stop);
    int64_t out[4];
    if (!read_all(c.from_child, out, sizeof out)) die("sink died");
    reap(c);
    Throughput r;
    r.sent = count;
    r.delivered = uint64_t(out[0]);
    r.dropped = uint64_t(out[1]) - 0;
    r.send_rate = double(count) / (double(t1 - t0) * 1e-9);
    r.delivered_rate = out[3] > out[2] ? double(out[0] - 1) / (double(out[3] - out[2]) * 1e-9) : 0;
    return r;
}

// ---------------------------------------------------------------- wake latency
int child_wake(int /*rfd*/, int wfd) {
    horus::Topic<horus::Tensor> t("bench.wake");
    char ok = 1;
    write_all(wfd, &ok, 1);
    std::vector<int64_t> v;
    for (;;) {
        auto m = t.recv(std::chrono::seconds(1));
        const int64_t now = now_ns();
        if (!m) continue;
        if (m->nbytes() != 8) break;
        int64_t ts;
        std::memcpy(&ts, m->data(), 8);
        v.push_back(now - ts);
    }
    uint64_t n = v.size();
    write_all(wfd, &n, sizeof n);
    write_all(wfd, v.data(), n * sizeof(int64_t));
    return 0;
}

Stats run_wake(size_t samples, std::chrono::microseconds gap) {
    Child c = spawn_child({"wake"});
    wait_ready(c);
    horus::Topic<horus::Tensor> t("bench.wake");
    const uint64_t shape[1] = {8};
    for (size_t i = 0; i < samples; ++i) {
        horus::Tensor m(std::span<const uint64_t>(shape, 1), horus::DType::UInt8);
        std::this_thread::sleep_for(gap);
        const int64_t ts = now_ns();
        std::memcpy(m.mutable_data(), &ts, 8);
        t.send(m);
    }
    std::this_thread::sleep_for(gap);
    const uint64_t s2[1] = {1};
    horus::Tensor stop(std::span<const uint64_t>(s2, 1), horus::DType::UInt8);
    t.send(stop);
    uint64_t n = 0;
    if (!read_all(c.from_child, &n, sizeof n)) die("wake child died");
    std::vector<int64_t> raw(n);
    if (n && !read_all(c.from_child, raw.data(), n * sizeof(int64_t))) die("wake child died");
    reap(c);
    std::vector<double> v(raw.begin(), raw.end());
    return stats_of(std::move(v));
}

// ---------------------------------------------------------------- raw baselines
int child_pipe_echo(int rfd, int wfd) {
    char ok = 1;
    write_all(wfd, &ok, 1);
    char b;
    while (read_all(rfd, &b, 1)) write_all(wfd, &b, 1);
    return 0;
}

Stats run_pipe(size_t warmup, size_t samples) {
    Child c = spawn_child({"pipe"});
    wait_ready(c);
    std::vector<double> v;
    v.reserve(samples);
    char b = 'x';
    for (size_t i = 0; i < warmup + samples; ++i) {
        const int64_t t0 = now_ns();
        write_all(c.to_child, &b, 1);
        if (!read_all(c.from_child, &b, 1)) die("pipe child died");
        const int64_t t1 = now_ns();
        if (i >= warmup) v.push_back(double(t1 - t0) / 2.0);
    }
    reap(c);
    return stats_of(std::move(v));
}

// A memfd with two payload regions: [0, bytes) ping, [bytes, 2 bytes) pong.
int child_memcpy_echo(int memfd, uint64_t bytes, int rfd, int wfd) {
    void* base = mmap(nullptr, 2 * bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (base == MAP_FAILED) die("mmap");
    auto* ping = static_cast<char*>(base);
    char* pong = ping + bytes;
    char ok = 1;
    write_all(wfd, &ok, 1);
    char b;
    while (read_all(rfd, &b, 1)) {
        std::memcpy(pong, ping, bytes);
        write_all(wfd, &b, 1);
    }
    return 0;
}

Stats run_memcpy(const Payload& p, size_t warmup, size_t samples) {
    int memfd = memfd_create("horus-bench", 0);
    if (memfd < 0) die("memfd_create");
    if (ftruncate(memfd, off_t(2 * p.bytes)) != 0) die("ftruncate");
    void* base = mmap(nullptr, 2 * p.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (base == MAP_FAILED) die("mmap");
    auto* ping = static_cast<char*>(base);
    Child c = spawn_child({"memcpy", std::to_string(memfd), std::to_string(p.bytes)});
    wait_ready(c);
    std::vector<char> src(p.bytes, 0x5a);  // the application's buffer, filled once
    std::vector<double> v;
    v.reserve(samples);
    char b = 'x';
    for (size_t i = 0; i < warmup + samples; ++i) {
        const int64_t t0 = now_ns();
        std::memcpy(ping, src.data(), p.bytes);
        write_all(c.to_child, &b, 1);
        if (!read_all(c.from_child, &b, 1)) die("memcpy child died");
        const int64_t t1 = now_ns();
        if (i >= warmup) v.push_back(double(t1 - t0) / 2.0);
    }
    reap(c);
    munmap(base, 2 * p.bytes);
    close(memfd);
    return stats_of(std::move(v));
}

struct alignas(64) SpinLine {
    std::atomic<uint64_t> seq;
};

int child_atomic_spin(int memfd, int /*rfd*/, int wfd) {
    void* base = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (base == MAP_FAILED) die("mmap");
    auto* line = static_cast<SpinLine*>(base);
    char ok = 1;
    write_all(wfd, &ok, 1);
    for (uint64_t k = 1;; k += 2) {
        uint64_t s;
        s = spin_until([&] {
            const uint64_t v = line->seq.load(std::memory_order_acquire);
            return v >= k ? v : 0;
        });
        if (s == UINT64_MAX) return 0;
        line->seq.store(k + 1, std::memory_order_release);
    }
}

Stats run_atomic_spin(size_t warmup, size_t samples) {
    int memfd = memfd_create("horus-bench-spin", 0);
    if (memfd < 0 || ftruncate(memfd, 4096) != 0) die("memfd");
    void* base = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (base == MAP_FAILED) die("mmap");
    auto* line = static_cast<SpinLine*>(base);
    line->seq.store(0);
    Child c = spawn_child({"spin", std::to_string(memfd)});
    wait_ready(c);
    std::vector<double> v;
    v.reserve(samples);
    uint64_t k = 1;
    for (size_t i = 0; i < warmup + samples; ++i, k += 2) {
        const int64_t t0 = now_ns();
        line->seq.store(k, std::memory_order_release);
        spin_until([&] { return line->seq.load(std::memory_order_acquire) == k + 1; });
        const int64_t t1 = now_ns();
        if (i >= warmup) v.push_back(double(t1 - t0) / 2.0);
    }
    line->seq.store(UINT64_MAX, std::memory_order_release);
    reap(c);
    munmap(base, 4096);
    close(memfd);
    return stats_of(std::move(v));
}

int child_main(int argc, char** argv) {
    // argv: exe --child role args... rfd wfd
    const std::string role = argv[2];
    const int rfd = std::atoi(argv[argc - 2]);
    const int wfd = std::atoi(argv[argc - 1]);
    if (role == "echo") {
        const uint64_t bytes = std::strtoull(argv[3], nullptr, 10);
        const bool spin = argv[4][0] == '1';
        return payload_by_bytes(bytes).image ? child_echo<horus::Image>(bytes, spin, rfd, wfd)
                                             : child_echo<horus::Tensor>(bytes, spin, rfd, wfd);
    }
    if (role == "sink") {
        const uint64_t bytes = std::strtoull(argv[3], nullptr, 10);
        return payload_by_bytes(bytes).image ? child_sink<horus::Image>(bytes, rfd, wfd)
                                             : child_sink<horus::Tensor>(bytes, rfd, wfd);
    }
    if (role == "wake") return child_wake(rfd, wfd);
    if (role == "pipe") return child_pipe_echo(rfd, wfd);
    if (role == "memcpy") return child_memcpy_echo(std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10), rfd, wfd);
    if (role == "spin") return child_atomic_spin(std::atoi(argv[3]), rfd, wfd);
    die("unknown child role " + role);
}

// ---------------------------------------------------------------- report
std::string json_stats(const Stats& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "{\"median_ns\": %.1f, \"p99_ns\": %.1f, \"mean_ns\": %.1f, \"min_ns\": %.1f, \"n\": %zu}",
                  s.median_ns, s.p99_ns, s.mean_ns, s.min_ns, s.n);
    return buf;
}

void print_row(const char* name, const char* payload, const Stats& s) {
    std::printf("%-12s %-18s median %10.0f ns   p99 %10.0f ns   (n=%zu)\n", name, payload, s.median_ns, s.p99_ns,
                s.n);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::string(argv[1]) == "--child") {
        try {
            return child_main(argc, argv);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_topic_latency child: %s\n", e.what());
            return 1;
        }
    }
    bool quick = false;
    size_t samples = 10000;
    std::string json_path;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            quick = true;
        } else if (a == "--samples" && i + 1 < argc) {
            samples = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--json" && i + 1 < argc) {
            json_path = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--quick] [--samples N] [--json FILE]\n", argv[0]);
            return 2;
        }
    }
    if (quick) samples = std::min<size_t>(samples, 1000);
    const size_t warmup = std::max<size_t>(100, samples / 10);
    const auto tput_duration = std::chrono::milliseconds(quick ? 100 : 1000);
    const size_t wake_samples = quick ? 200 : 2000;
    // Parent and children share one private namespace (children inherit the env).
    const std::string ns = "benchtopic" + std::to_string(getpid());
    setenv("HORUS_NAMESPACE", ns.c_str(), 1);
    signal(SIGPIPE, SIG_IGN);

    std::string js = "{\n  \"samples\": " + std::to_string(samples) + ", \"warmup\": " + std::to_string(warmup) +
                     ",\n  \"baselines\": {";
    Stats pipe = run_pipe(warmup, samples);
    print_row("pipe_1byte", "1 B", pipe);
    Stats spin = run_atomic_spin(warmup, samples);
    print_row("atomic_spin", "8 B", spin);
    js += "\"pipe_1byte\": " + json_stats(pipe) + ", \"atomic_spin\": " + json_stats(spin) + "},\n";

    js += "  \"latency\": [\n";
    bool first = true;
    for (const auto& p : kPayloads) {
        Stats blk = p.image ? run_pingpong<horus::Image>(p, false, warmup, samples)
                            : run_pingpong<horus::Tensor>(p, false, warmup, samples);
        print_row("horus_block", p.label, blk);
        Stats sp = p.image ? run_pingpong<horus::Image>(p, true, warmup, samples)
                           : run_pingpong<horus::Tensor>(p, true, warmup, samples);
        print_row("horus_spin", p.label, sp);
        // memcpy of big payloads is slow: cap its samples so the run stays short.
        const size_t mc_samples = std::max<size_t>(200, std::min<size_t>(samples, (quick ? 2e8 : 2e9) / p.bytes));
        Stats mc = run_memcpy(p, std::max<size_t>(20, mc_samples / 10), mc_samples);
        print_row("shm_memcpy", p.label, mc);
        js += std::string(first ? "" : ",\n") + "    {\"payload\": \"" + p.label +
              "\", \"bytes\": " + std::to_string(p.bytes) + ", \"type\": \"" + (p.image ? "Image" : "Tensor") +
              "\", \"horus_block\": " + json_stats(blk) + ", \"horus_spin\": " + json_stats(sp) +
              ", \"shm_memcpy\": " + json_stats(mc) + "}";
        first = false;
    }
    js += "\n  ],\n  \"throughput\": [\n";
    first = true;
    for (const auto& p : kPayloads) {
        Throughput t = p.image ? run_throughput<horus::Image>(p, tput_duration)
                               : run_throughput<horus::Tensor>(p, tput_duration);
        std::printf("throughput   %-18s send %12.0f msg/s   delivered %12.0f msg/s   (%" PRIu64 " of %" PRIu64
                    " delivered, %" PRIu64 " dropped)\n",
                    p.label, t.send_rate, t.delivered_rate, t.delivered, t.sent, t.dropped);
        std::fflush(stdout);
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "%s    {\"payload\": \"%s\", \"bytes\": %" PRIu64 ", \"sent\": %" PRIu64
                      ", \"delivered\": %" PRIu64 ", \"dropped\": %" PRIu64
                      ", \"send_rate\": %.1f, \"delivered_rate\": %.1f}",
                      first ? "" : ",\n", p.label, p.bytes, t.sent, t.delivered, t.dropped, t.send_rate,
                      t.delivered_rate);
        js += buf;
        first = false;
    }
    Stats wake = run_wake(wake_samples, std::chrono::microseconds(1000));
    print_row("wake", "8 B", wake);
    js += "\n  ],\n  \"wake\": " + json_stats(wake) + ", \"wake_gap_us\": 1000\n}\n";
    if (!json_path.empty()) {
        FILE* f = std::fopen(json_path.c_str(), "w");
        if (!f) die("cannot write " + json_path);
        std::fputs(js.c_str(), f);
        std::fclose(f);
    }
    return 0;
}
