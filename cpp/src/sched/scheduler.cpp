// scheduler.cpp — horus::run (see node.hpp): checks the arguments, puts the nodes
// in tick order, runs init, drives schedule::run_rounds (the policy, shared with
// Python's horus.run, see horus/schedule.hpp) on the steady clock, then shutdown.
// A stop signal or a failing tick ends the rounds; shutdown runs for every node
// whose init ran, and the first failure is rethrown as NodeError.
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
#include "horus/sched/node_registry.hpp"
#include "horus/sched/schedule.hpp"

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
    if (nodes.empty()) throw InvalidArgument("run() needs at least one Node");
    std::set<std::string> names;
    std::vector<int> orders;
    for (Node* n : nodes) {
        if (!n) throw InvalidArgument("run() got a null Node");
        if (!names.insert(n->name()).second)
            throw InvalidArgument("duplicate node name '" + n->name() + "': node names in one run must be unique");
        orders.push_back(n->order());
    }
    if (duration_s && (std::isnan(*duration_s) || *duration_s < 0))
        throw InvalidArgument("duration = " + schedule::number_text(*duration_s) +
                              " s is invalid; expected nullopt (forever) or seconds >= 0");

    std::vector<Node*> ordered;
    std::vector<int64_t> periods;
    for (std::size_t i : schedule::tick_order(orders)) {
        ordered.push_back(nodes[i]);
        periods.push_back(nodes[i]->period_ns());
    }

    // Discovery lists the nodes while they run (node_registry.hpp).
    std::vector<NodeRegistration> listed;
    for (Node* n : ordered)
        listed.emplace_back(NodeDescription{n->name(), node_registry_layout::Language::Cpp, n->rate(), n->order(),
                                            n->options_.subs, n->options_.pubs});

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

    // The schedule's environment in real time (a local class has run()'s access to Node).
    struct RealTime {
        std::vector<Node*>& ordered;
        std::vector<NodeRegistration>& listed;
        std::exception_ptr& failure;
        std::string& failed_node;
        std::string& failed_phase;

        int64_t now() const {
            return std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
        }
        bool stopped() const { return failure || g_stop_signal.load() != 0; }
        bool tick(std::size_t i) {
            try {
                ordered[i]->options_.tick(*ordered[i]);
                return true;
            } catch (...) {
                failure = std::current_exception();
                failed_node = ordered[i]->name();
                failed_phase = "tick";
                listed[i].errored();
                return false;
            }
        }
        void ticked(std::size_t i, int64_t start, int64_t after, bool overrun) {
            NodeStats& st = ordered[i]->stats_;
            const double elapsed = static_cast<double>(after - start) / 1e9;
            ++st.ticks;
            st.total_tick_s += elapsed;
            st.max_tick_s = std::max(st.max_tick_s, elapsed);
            if (overrun) ++st.overruns;
            listed[i].ticked(after - start, overrun);
        }
        void sleep_until(int64_t t) const {  // in slices of <= 20 ms, so a signal stops the run soon
            const int64_t delay = t - now();
            if (delay > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(delay, 20'000'000)));
        }
    };
    if (!failure) {
        RealTime env{ordered, listed, failure, failed_node, failed_phase};
        schedule::run_rounds(periods, duration_s, env);
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
