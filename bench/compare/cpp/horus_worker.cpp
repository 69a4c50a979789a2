// horus_worker.cpp — the C++ rows of the comparison harness (bench/compare): horus-cpp
// (blocking Topic::recv(timeout): polls, then futex) and horus-cpp-spin (try_recv polling).
//
//     horus_worker --transport horus-cpp|horus-cpp-spin --payloads 64B,vga,...
//                  --tag T --cfg '{"lat_n": 3400, ...}'
//
// A C++ port of worker.py + transports.HorusPy for the C++ API, launched by run.py the
// way it launches worker.py (same arguments, same environment: HORUS_NAMESPACE,
// HORUS_CMP_CAPACITY) and printing the same JSON object on stdout:
//   {"transport", "a": {"role", "cpu", "payloads": {key: {...}}}, "b": {...}, "exitcodes"}
//
// The parent forks a pong (B) and a ping (A) child (in that order, like worker.py),
// pins A to the first usable core and B to the second, and collects their results
// (each child writes its JSON object to a file in a private temp directory). Per payload
// both children run worker.py's schedule, message for message:
//
//   warm-up    A sends, B echoes; A re-sends after 0.5 s without a reply (a subscriber
//              may connect late) until `warm` round trips succeeded and `warm_cap`
//              seconds passed; then WARM_END and a drain of stale replies.
//   latency    A: t0; make(seq); send; recv reply; touch reply; t1 -> RTT sample.
//              B: recv; touch; make(seq); send.  One-way latency = RTT/2.
//   throughput A sends WINDOW (16) messages back to back, B touches each and replies to
//              the one flagged ACK; A waits for that reply before the next window.
//
// make(seq) = a fresh pool message of the payload's type (horus::Tensor / Image(rgb8) /
// PointCloud(float32)), the 8-byte sequence number written at offset 0 through
// mutable_data(), nothing else written. touch = read one byte per 4 KB page (bytes 0,
// 4096, 8192, ... like u8[::4096].sum()) plus the 8-byte sequence number. CPU time =
// CLOCK_PROCESS_CPUTIME_ID deltas (time.process_time in Python). Topics: one per
// direction, "cmp.<tag>.<payload>.ping|pong", capacity HORUS_CMP_CAPACITY (default
// 2 * WINDOW = 32), exactly as the Python horus rows open them.
//
// Not measured here: the framework hop (receive -> to_torch() -> op) needs torch, which
// the C++ API does not have; hop_n is ignored and the hop column stays empty.
//
// Payload "cmdvel" (the typed-message rows, bench/compare/typed.py): horus::Topic<
// horus::msg::CmdVel> per direction ("cmpt.<tag>.cmdvel.ping|pong", the names typed.py's
// horus rows use), a fresh CmdVel{linear, angular} per send, the sequence number carried as
// in typed.py: linear = its low 24 bits (exact in float32), angular = the flag bits
// (END/ACK/WARM/WARM_END) as a small integer; the receiver reads both fields (that is its
// touch). Same schedule, same JSON.
#include <cxxabi.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "horus/msg/standard_messages.hpp"
#include "horus/topic/topic.hpp"

namespace {

constexpr uint64_t END = 1ull << 60;
constexpr uint64_t ACK = 1ull << 61;
constexpr uint64_t WARM = 1ull << 59;
constexpr uint64_t WARM_END = 1ull << 58;
constexpr int WINDOW = 16;  // transports.WINDOW

struct Cfg {
    long lat_n = 100, hop_n = 0, thr_n = 64, warm = 40, warm_bursts = 0;
    double lat_cap = 0.2, thr_cap = 0.2, warm_cap = 0.0, timeout = 40;
};

// A flat JSON object of numbers, as run.py writes it: find "key": and read the number.
double json_num(const std::string& js, const char* key, double dflt) {
    const std::string k = std::string("\"") + key + "\"";
    auto p = js.find(k);
    if (p == std::string::npos) return dflt;
    p = js.find(':', p + k.size());
    if (p == std::string::npos) return dflt;
    return std::strtod(js.c_str() + p + 1, nullptr);
}

Cfg parse_cfg(const std::string& js) {
    Cfg c;
    c.lat_n = static_cast<long>(json_num(js, "lat_n", c.lat_n));
    c.hop_n = static_cast<long>(json_num(js, "hop_n", c.hop_n));
    c.thr_n = static_cast<long>(json_num(js, "thr_n", c.thr_n));
    c.warm = static_cast<long>(json_num(js, "warm", c.warm));
    c.warm_bursts = static_cast<long>(json_num(js, "warm_bursts", c.warm_bursts));
    c.lat_cap = json_num(js, "lat_cap", c.lat_cap);
    c.thr_cap = json_num(js, "thr_cap", c.thr_cap);
    c.warm_cap = json_num(js, "warm_cap", c.warm_cap);
    c.timeout = json_num(js, "timeout", c.timeout);
    return c;
}

// time.perf_counter / perf_counter_ns / process_time
inline int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
inline double now_s() { return now_ns() * 1e-9; }
inline double cpu_s() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

volatile uint64_t g_sink = 0;  // keeps the page reads

inline uint64_t read_seq(const horus::Message& m) {
    uint64_t s;
    std::memcpy(&s, m.data(), sizeof s);
    return s;
}

// one byte per 4 KB page (u8[::4096].sum())
inline void touch(const horus::Message& m) {
    const auto* p = reinterpret_cast<const volatile uint8_t*>(m.data());
    const std::size_t n = m.nbytes();
    uint64_t s = 0;
    for (std::size_t i = 0; i < n; i += 4096) s += p[i];
    g_sink = g_sink + s;
}

// typed.py enc()/dec(): a sequence number in a CmdVel's two float32 fields
constexpr uint64_t LOW24 = (1ull << 24) - 1;
constexpr int FLAG_SHIFT = 58;
inline horus::msg::CmdVel cmdvel_of(uint64_t seq) {
    horus::msg::CmdVel v;
    v.linear = static_cast<float>(seq & LOW24);
    v.angular = static_cast<float>(seq >> FLAG_SHIFT);
    return v;
}
inline uint64_t read_seq(const horus::msg::CmdVel& m) {
    return static_cast<uint64_t>(m.linear) | (static_cast<uint64_t>(m.angular) << FLAG_SHIFT);
}
inline void touch(const horus::msg::CmdVel&) {}  // read_seq reads both fields

struct Payload {
    const char* key;
    char kind;  // 't' tensor, 'i' image, 'c' cloud, 'm' CmdVel (typed message)
    std::vector<uint64_t> shape;
    horus::DType dtype;
};

// transports.PAYLOADS
const Payload kPayloads[] = {
    {"64B", 't', {64}, horus::DType::UInt8},
    {"4KB", 't', {4096}, horus::DType::UInt8},
    {"vga", 'i', {480, 640, 3}, horus::DType::UInt8},
    {"1080p", 'i', {1080, 1920, 3}, horus::DType::UInt8},
    {"cloud", 'c', {100000, 4}, horus::DType::Float32},
    {"8MiB", 't', {2048, 1024}, horus::DType::Float32},
    {"cmdvel", 'm', {}, horus::DType::UInt8},
};

class Timeout : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
class Desync : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::string hex(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
    return b;
}

// transports.HorusPy / HorusPySpin for the C++ API: Topic per direction, fresh pool
// message per send, blocking recv (polls, then futex) or try_recv polling.
template <typename T>
class Transport {
  public:
    Transport(char role, const Payload& p, const std::string& tag, bool spin, uint32_t cap)
        : p_(p),
          spin_(spin),
          tx_("cmp." + tag + "." + p.key + (role == 'a' ? ".ping" : ".pong"), cap),
          rx_("cmp." + tag + "." + p.key + (role == 'a' ? ".pong" : ".ping"), cap) {}

    T make(uint64_t seq) {
        T m = fresh();
        std::memcpy(m.mutable_data(), &seq, sizeof seq);
        return m;
    }
    void send(T&& m) {
        T msg = std::move(m);
        tx_.send(msg);
    }  // msg (this side's reference) is dropped here, like the Python temporary

    std::optional<T> recv(double timeout_s) {
        if (!spin_) return rx_.recv(std::chrono::nanoseconds(static_cast<int64_t>(timeout_s * 1e9)));
        if (auto m = rx_.try_recv()) return m;
        const int64_t end = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
        unsigned n = 0;
        for (;;) {
            if (auto m = rx_.try_recv()) return m;
            if ((++n & 1023) == 0 && now_ns() > end) return std::nullopt;
        }
    }

  private:
    T fresh() const {
        if constexpr (std::is_same_v<T, horus::Image>) {
            return horus::Image(static_cast<int64_t>(p_.shape[0]), static_cast<int64_t>(p_.shape[1]),
                                horus::Encoding::Rgb8);
        } else if constexpr (std::is_same_v<T, horus::PointCloud>) {
            return horus::PointCloud(static_cast<int64_t>(p_.shape[0]), static_cast<int64_t>(p_.shape[1]),
                                     p_.dtype);
        } else {
            return horus::Tensor(std::span<const uint64_t>(p_.shape), p_.dtype);
        }
    }

    const Payload& p_;
    bool spin_;
    horus::Topic<T> tx_, rx_;
};

// typed.py's horus rows for the C++ API: Topic<CmdVel> per direction, a fresh CmdVel per send.
// recv() hands the role functions the received value (Topic<T>::try_recv's Stamped<T> minus
// its metadata: GCC 12 warns maybe-uninitialized on an optional<Stamped<T>> kept across the
// loop; the Stamped is still built by try_recv, so the cost is the same).
class MsgTransport {
  public:
    using Msg = horus::msg::CmdVel;
    MsgTransport(char role, const Payload& p, const std::string& tag, bool spin, uint32_t cap)
        : spin_(spin),
          tx_("cmpt." + tag + "." + p.key + (role == 'a' ? ".ping" : ".pong"), cap),
          rx_("cmpt." + tag + "." + p.key + (role == 'a' ? ".pong" : ".ping"), cap) {}

    static horus::msg::CmdVel make(uint64_t seq) { return cmdvel_of(seq); }
    void send(const horus::msg::CmdVel& m) { tx_.send(m); }

    std::optional<Msg> recv(double timeout_s) {
        if (!spin_) {
            if (auto m = rx_.recv(std::chrono::nanoseconds(static_cast<int64_t>(timeout_s * 1e9)))) return m->value;
            return std::nullopt;
        }
        if (auto m = rx_.try_recv()) return m->value;
        const int64_t end = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
        unsigned n = 0;
        for (;;) {
            if (auto m = rx_.try_recv()) return m->value;
            if ((++n & 1023) == 0 && now_ns() > end) return std::nullopt;
        }
    }

  private:
    bool spin_;
    horus::Topic<horus::msg::CmdVel> tx_, rx_;
};

struct Out {  // one payload's results, as worker.py's `out` dict
    std::vector<int64_t> rtt_ns;
    std::ostringstream num;  // other "key": value members, comma-terminated
    std::string error;
};

// Receives until the reply carrying sequence number `want` (others are dropped).
template <typename Tr>
void await_reply(Tr& tr, uint64_t want, const char* what) {
    for (;;) {
        auto r = tr.recv(20.0);
        if (!r) throw Timeout(std::string("no reply to ") + what);
        if (read_seq(*r) == want) return;
    }
}

template <typename Tr>
void role_a(Tr& tr, const Cfg& cfg, Out& out) {
    // ---- warm-up (with re-send: late subscribers lose the first messages)
    long ok = 0, tries = 0;
    const double t_end = now_s() + cfg.warm_cap;
    uint64_t seq = 0;
    while (ok < cfg.warm || now_s() < t_end) {
        ++seq;
        tr.send(tr.make(seq | WARM));
        for (;;) {
            auto r = tr.recv(0.5);
            if (!r) {
                if (++tries > 40) throw Timeout("no reply during warm-up (20 s)");
                break;
            }
            if (read_seq(*r) == (seq | WARM)) {
                ++ok;
                break;
            }
        }
        if (ok >= cfg.warm && now_s() > t_end) break;
    }
    out.num << "\"warm\": " << ok << ", ";
    // Bursts of WINDOW messages, as the throughput phase sends them (see worker.py).
    for (long burst = 0; burst < cfg.warm_bursts; ++burst) {
        for (int j = 0; j < WINDOW; ++j) {
            ++seq;
            tr.send(tr.make(seq | WARM));
        }
        await_reply(tr, seq | WARM, "a warm-up burst");
    }
    ++seq;
    tr.send(tr.make(seq | WARM_END));
    await_reply(tr, seq | WARM_END, "warm-up end");
    while (tr.recv(0.05)) {  // drop stale replies
    }

    // ---- latency
    {
        out.rtt_ns.reserve(static_cast<std::size_t>(cfg.lat_n));
        const double c0 = cpu_s();
        const double t_stop = now_s() + cfg.lat_cap;
        for (long i = 0; i < cfg.lat_n; ++i) {
            const bool last = i == cfg.lat_n - 1 || now_s() > t_stop;
            const uint64_t s = static_cast<uint64_t>(i) | (last ? END : 0);
            const int64_t t0 = now_ns();
            tr.send(tr.make(s));
            auto r = tr.recv(5.0);
            if (!r) throw Timeout("no reply to message " + std::to_string(i) + " within 5 s (lost?)");
            touch(*r);
            const uint64_t got = read_seq(*r);
            const int64_t t1 = now_ns();
            r.reset();
            if (got != s) throw Desync("reply " + hex(got) + " to " + hex(s));
            out.rtt_ns.push_back(t1 - t0);
            if (last) break;
        }
        char b[64];
        std::snprintf(b, sizeof b, "%.9f", cpu_s() - c0);
        out.num << "\"lat_cpu_a_s\": " << b << ", ";
    }
    // ---- throughput
    if (cfg.thr_n > 0) {
        const long nb = std::max(1L, cfg.thr_n / WINDOW);
        const double c0 = cpu_s();
        const double t0 = now_s();
        const double t_stop = t0 + cfg.thr_cap;
        uint64_t sent = 0;
        for (long bi = 0; bi < nb; ++bi) {
            const bool last = bi == nb - 1 || now_s() > t_stop;
            uint64_t s = 0;
            for (int j = 0; j < WINDOW; ++j) {
                s = sent | (j == WINDOW - 1 ? ACK : 0) | (last && j == WINDOW - 1 ? END : 0);
                tr.send(tr.make(s));
                ++sent;
            }
            auto r = tr.recv(10.0);
            if (!r) throw Timeout("no ack within 10 s after " + std::to_string(sent) + " messages (lost?)");
            touch(*r);
            const uint64_t got = read_seq(*r);
            r.reset();
            if (got != s) throw Desync("ack " + hex(got) + " to " + hex(s));
            if (last) break;
        }
        const double el = now_s() - t0;
        char b[160];
        std::snprintf(b, sizeof b, "\"thr_msgs\": %llu, \"thr_s\": %.9f, \"thr_cpu_a_s\": %.9f, ",
                      static_cast<unsigned long long>(sent), el, cpu_s() - c0);
        out.num << b;
    }
}

template <typename Tr>
void role_b(Tr& tr, const Cfg& cfg, Out& out) {
    // warm-up
    for (;;) {
        auto r = tr.recv(30.0);
        if (!r) throw Timeout("B: nothing received in warm-up");
        const uint64_t s = read_seq(*r);
        r.reset();
        tr.send(tr.make(s));
        if (s & WARM_END) break;
    }
    // latency echo
    {
        const double c0 = cpu_s();
        for (;;) {
            auto r = tr.recv(30.0);
            if (!r) throw Timeout("B: nothing received");
            touch(*r);
            const uint64_t s = read_seq(*r);
            r.reset();
            tr.send(tr.make(s));
            if (s & END) break;
        }
        char b[64];
        std::snprintf(b, sizeof b, "%.9f", cpu_s() - c0);
        out.num << "\"lat_cpu_b_s\": " << b << ", ";
    }
    if (cfg.thr_n > 0) {
        const double c0 = cpu_s();
        long n = 0;
        for (;;) {
            auto r = tr.recv(30.0);
            if (!r) throw Timeout("B: nothing received (throughput)");
            touch(*r);
            const uint64_t s = read_seq(*r);
            r.reset();
            ++n;
            if (s & ACK) tr.send(tr.make(s));
            if (s & END) break;
        }
        char b[96];
        std::snprintf(b, sizeof b, "\"thr_cpu_b_s\": %.9f, \"thr_msgs_b\": %ld, ", cpu_s() - c0, n);
        out.num << b;
    }
}

template <typename Tr>
void run_payload(char role, const Payload& p, const std::string& tag, bool spin, uint32_t cap,
                 const Cfg& cfg, Out& out) {
    Tr tr(role, p, tag, spin, cap);
    if (role == 'a')
        role_a(tr, cfg, out);
    else
        role_b(tr, cfg, out);
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            o += ' ';
        } else {
            o += c;
        }
    }
    return o;
}

std::string type_name(const std::exception& e) {
    int st = 0;
    char* d = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &st);
    std::string n = st == 0 && d ? d : typeid(e).name();
    std::free(d);
    return n;
}

// worker.py pin(): first usable core for A, second for B (when there are two or more).
int pin(int which) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (cpus.size() <= 1) return -1;
    const int c = cpus[static_cast<std::size_t>(which) % cpus.size()];
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? c : -1;
}

int child(char role, const std::vector<const Payload*>& payloads, const std::string& tag, bool spin,
          uint32_t cap, const Cfg& cfg, const std::string& path) {
    const int cpu = pin(role == 'a' ? 0 : 1);
    alarm(static_cast<unsigned>(std::max(5.0, cfg.timeout - 5)));  // like faulthandler's exit
    std::ostringstream js;
    js << "{\"role\": \"" << role << "\", \"cpu\": ";
    if (cpu >= 0)
        js << cpu;
    else
        js << "null";
    js << ", \"payloads\": {";
    bool first = true;
    for (const Payload* p : payloads) {
        Out out;
        try {
            if (p->kind == 'i')
                run_payload<Transport<horus::Image>>(role, *p, tag, spin, cap, cfg, out);
            else if (p->kind == 'c')
                run_payload<Transport<horus::PointCloud>>(role, *p, tag, spin, cap, cfg, out);
            else if (p->kind == 'm')
                run_payload<MsgTransport>(role, *p, tag, spin, cap, cfg, out);
            else
                run_payload<Transport<horus::Tensor>>(role, *p, tag, spin, cap, cfg, out);
        } catch (const std::exception& e) {  // reported per payload, the run goes on
            out.error = type_name(e) + ": " + e.what();
        }
        js << (first ? "" : ", ") << "\"" << p->key << "\": {" << out.num.str();
        if (!out.error.empty()) js << "\"error\": \"" << json_escape(out.error) << "\", ";
        if (role == 'a') {
            js << "\"rtt_ns\": [";
            for (std::size_t i = 0; i < out.rtt_ns.size(); ++i) js << (i ? ", " : "") << out.rtt_ns[i];
            js << "], ";
        }
        js << "\"lang\": \"c++\"}";
        first = false;
    }
    js << "}}";
    std::ofstream f(path);
    f << js.str() << "\n";
    f.close();
    return f ? 0 : 3;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    std::string transport, payload_list, tag, cfg_js;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--transport")
            transport = argv[i + 1];
        else if (a == "--payloads")
            payload_list = argv[i + 1];
        else if (a == "--tag")
            tag = argv[i + 1];
        else if (a == "--cfg")
            cfg_js = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    bool spin;
    if (transport == "horus-cpp")
        spin = false;
    else if (transport == "horus-cpp-spin")
        spin = true;
    else {
        std::fprintf(stderr, "--transport must be horus-cpp or horus-cpp-spin, not '%s'\n", transport.c_str());
        return 2;
    }
    if (tag.empty() || payload_list.empty()) {
        std::fprintf(stderr, "usage: %s --transport T --payloads K,... --tag TAG --cfg JSON\n", argv[0]);
        return 2;
    }
    const Cfg cfg = parse_cfg(cfg_js);
    std::vector<const Payload*> payloads;
    {
        std::stringstream ss(payload_list);
        std::string k;
        while (std::getline(ss, k, ',')) {
            const Payload* found = nullptr;
            for (const auto& p : kPayloads)
                if (k == p.key) found = &p;
            if (!found) {
                std::fprintf(stderr, "unknown payload '%s'\n", k.c_str());
                return 2;
            }
            payloads.push_back(found);
        }
    }
    // same depth as the iceoryx2 subscriber buffer; HORUS_CMP_CAPACITY overrides
    uint32_t cap = 2 * WINDOW;
    if (const char* e = std::getenv("HORUS_CMP_CAPACITY")) cap = static_cast<uint32_t>(std::atol(e));

    char dir_tmpl[] = "/tmp/horus-cmp-cpp-XXXXXX";
    if (!mkdtemp(dir_tmpl)) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = dir_tmpl;
    const std::string paths[2] = {dir + "/b.json", dir + "/a.json"};
    const char roles[2] = {'b', 'a'};
    pid_t pids[2] = {-1, -1};
    std::fflush(nullptr);
    for (int i = 0; i < 2; ++i) {
        pids[i] = fork();
        if (pids[i] < 0) {
            std::perror("fork");
            return 1;
        }
        // exit(), not _exit(): static destructors detach from the pool, so the last process
        // out removes the namespace (the parent never touched horus before forking)
        if (pids[i] == 0) std::exit(child(roles[i], payloads, tag, spin, cap, cfg, paths[i]));
    }
    int codes[2] = {0, 0};
    bool done[2] = {false, false};
    const int64_t deadline = now_ns() + static_cast<int64_t>(cfg.timeout * 1e9);
    while ((!done[0] || !done[1]) && now_ns() < deadline) {
        for (int i = 0; i < 2; ++i) {
            if (done[i]) continue;
            int st = 0;
            if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
                done[i] = true;
                codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
            }
        }
        if (!done[0] || !done[1]) usleep(20000);
    }
    for (int i = 0; i < 2; ++i) {
        if (done[i]) continue;
        kill(pids[i], SIGKILL);
        int st = 0;
        waitpid(pids[i], &st, 0);
        codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    }
    std::string res[2];
    for (int i = 0; i < 2; ++i) {
        res[i] = slurp(paths[i]);
        if (res[i].empty()) res[i] = "null";
        unlink(paths[i].c_str());
    }
    rmdir(dir.c_str());
    std::printf("{\"transport\": \"%s\", \"a\": %s, \"b\": %s, \"exitcodes\": [%d, %d]}\n", transport.c_str(),
                res[1].c_str(), res[0].c_str(), codes[0], codes[1]);
    return 0;
}
