// scheduler.cpp — horus::run (see node.hpp). Same policy as Python's horus.run:
// due nodes tick in `order`; a late node skips the slots it missed (counted as
// an overrun when its tick outlasted its period) instead of bursting to catch up.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <exception>
#include <set>
#include <thread>

#include "horus/base/error.hpp"
#include "horus/sched/node.hpp"

namespace horus {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signum) { g_stop_signal.store(signum); }

// Installs SIGINT/SIGTERM handlers for the duration of a run, restores the old ones after.
class SignalGuard {
  public:
    SignalGuard() {
        g_stop_signal.store(0);
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~SignalGuard() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }

  private:
    struct sigaction old_int_ {}, old_term_ {};
};

std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

void run(const std::vector<Node*>& nodes, std::optional<double> duration_s) {
    using clock = std::chrono::steady_clock;
    if (nodes.empty()) throw InvalidArgument("run() needs at least one Node");
    std::set<std::string> names;
    for (Node* n : nodes) {
        if (!n) throw InvalidArgument("run() got a null Node");
        if (!names.insert(n->name()).second)
            throw InvalidArgument("duplicate node name '" + n->name() + "': node names in one run must be unique");
    }
    if (duration_s && (std::isnan(*duration_s) || *duration_s < 0))
        throw InvalidArgument("duration = " + std::to_string(*duration_s) + " s is invalid; expected >= 0");

    std::vector<Node*> ordered(nodes);
    std::stable_sort(ordered.begin(), ordered.end(), [](Node* a, Node* b) { return a->order() < b->order(); });

    SignalGuard signals;
    std::exception_ptr failure;
    std::string failed_node, failed_phase;
    std::vector<Node*> started;
    for (Node* n : ordered) {
        try {
            if (n->options_.init) n->options_.init(*n);
        } catch (...) {
            failure = std::current_exception();
            failed_node = n->name();
            failed_phase = "init";
            break;
        }
        started.push_back(n);
    }

    if (!failure) {
        const auto start = clock::now();
        const auto end = duration_s ? start + std::chrono::duration_cast<clock::duration>(
                                                  std::chrono::duration<double>(*duration_s))
                                    : clock::time_point::max();
        std::vector<clock::time_point> due(ordered.size(), start);
        while (!failure && g_stop_signal.load() == 0) {
            auto now = clock::now();
            if (now >= end) break;
            for (std::size_t i = 0; i < ordered.size() && !failure; ++i) {
                Node* n = ordered[i];
                if (due[i] > now) continue;
                const auto t0 = clock::now();
                try {
                    n->options_.tick(*n);
                } catch (...) {
                    failure = std::current_exception();
                    failed_node = n->name();
                    failed_phase = "tick";
                    break;
                }
                const auto after = clock::now();
                const double elapsed = std::chrono::duration<double>(after - t0).count();
                NodeStats& st = n->stats_;
                ++st.ticks;
                st.total_tick_s += elapsed;
                st.max_tick_s = std::max(st.max_tick_s, elapsed);
                const auto period = std::chrono::duration_cast<clock::duration>(
                    std::chrono::duration<double>(n->period()));
                if (elapsed > n->period()) ++st.overruns;
                auto next = due[i] + period;
                if (next <= after) next += ((after - next) / period + 1) * period;  // skip missed slots
                due[i] = next;
            }
            const auto wake = std::min(*std::min_element(due.begin(), due.end()), end);
            const auto delay = wake - clock::now();
            if (delay.count() > 0) std::this_thread::sleep_for(std::min<clock::duration>(delay, std::chrono::milliseconds(20)));
        }
    }

    for (Node* n : started) {
        try {
            if (n->options_.shutdown) n->options_.shutdown(*n);
        } catch (...) {
            if (!failure) {
                failure = std::current_exception();
                failed_node = n->name();
                failed_phase = "shutdown";
            }
        }
    }
    if (failure) throw NodeError(failed_node, failed_phase, what_of(failure));
}

}  // namespace horus
