// scheduler.cpp — horus::run (see node.hpp and docs/scheduler.md).
//
// RunState checks the arguments, puts the nodes in tick order, lists them in
// discovery, runs init, then drives schedule::run_rounds (the timing policy, shared
// with Python's horus.run) once per thread: the calling thread ticks every node
// without a thread of its own, and each other node ticks in its own std::thread.
// Every slot goes through the node's TickController (tick_controller.hpp: budget,
// deadline, on_miss, failure_policy, statistics). A watchdog thread runs when a node
// has a watchdog. At the end shutdown runs for every node whose init ran, and the
// first fatal failure is rethrown as NodeError.
//
// Threads: stop_ is the one flag every thread polls (set by a stop signal's handler
// through g_stop_signal, request_stop(), on_miss Stop, a watchdog Stop, or a fatal
// failure); failure_ and its names are written once under failure_mutex_ and read
// after every thread has joined.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <ctime>
#include <exception>
#include <latch>
#include <mutex>
#include <set>
#include <sys/prctl.h>
#include <thread>

#include "horus/base/error.hpp"
#include "horus/sched/node.hpp"
#include "horus/sched/node_registry.hpp"
#include "horus/sched/realtime.hpp"
#include "horus/sched/schedule.hpp"

namespace horus {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signum) { g_stop_signal.store(signum); }

// Installs SIGINT/SIGTERM handlers while runs run, restores the old ones after the last:
// runs that overlap in several threads share the handlers and the stop signal.
std::mutex g_signal_mutex;
int g_signal_users = 0;  // runs in progress (under g_signal_mutex)
struct sigaction g_old_int {}, g_old_term {};

class SignalGuard {
  public:
    SignalGuard() {
        std::lock_guard<std::mutex> g(g_signal_mutex);
        if (g_signal_users++ > 0) return;
        g_stop_signal.store(0);
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &g_old_int);
        sigaction(SIGTERM, &sa, &g_old_term);
    }
    ~SignalGuard() {
        std::lock_guard<std::mutex> g(g_signal_mutex);
        if (--g_signal_users > 0) return;
        sigaction(SIGINT, &g_old_int, nullptr);
        sigaction(SIGTERM, &g_old_term, nullptr);
    }
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;
};

// Sets the calling thread's timer slack to 1 us for the run, restores it after.
class TimerSlackGuard {
  public:
    TimerSlackGuard() : old_(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) { set_timer_slack_ns(1000); }
    ~TimerSlackGuard() {
        if (old_ > 0) set_timer_slack_ns(static_cast<unsigned long>(old_));
    }

  private:
    int old_;
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

int64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

std::string us_text(int64_t ns) { return schedule::number_text(std::round(static_cast<double>(ns) / 100.0) / 10.0) + " us"; }


}  // namespace

class RunState {
  public:
    RunState(const std::vector<Node*>& nodes, const RunOptions& options) : options_(options) {
        if (nodes.empty()) throw InvalidArgument("run() needs at least one Node");
        std::set<std::string> names;
        std::vector<int> orders;
        for (Node* n : nodes) {
            if (!n) throw InvalidArgument("run() got a null Node");
            if (!names.insert(n->name()).second)
                throw InvalidArgument("duplicate node name '" + n->name() + "': node names in one run must be unique");
            orders.push_back(n->order());
        }
        const auto& d = options.duration;
        if (d && (std::isnan(*d) || *d < 0))
            throw InvalidArgument("duration = " + schedule::number_text(*d) +
                                  " s is invalid; expected nullopt (forever) or seconds >= 0");
        if (options.tick_rate) {
            const double tr = *options.tick_rate;
            if (!schedule::rate_in_range(tr))
                throw InvalidArgument("tick_rate = " + schedule::number_text(tr) + " Hz is out of range; expected " +
                                      schedule::number_text(schedule::kMinRateHz) + " <= tick_rate <= " +
                                      schedule::number_text(schedule::kMaxRateHz) + " Hz");
            for (Node* n : nodes)
                if (n->rate() > tr)
                    throw InvalidArgument("node '" + n->name() + "': rate = " + schedule::number_text(n->rate()) +
                                          " Hz is above the run's tick_rate = " + schedule::number_text(tr) +
                                          " Hz; lower the node's rate or raise tick_rate");
        }
        if (options.watchdog && !(*options.watchdog > 0 && *options.watchdog <= 1e6))
            throw InvalidArgument("watchdog = " + schedule::number_text(*options.watchdog) +
                                  " s is out of range; expected 0 < watchdog <= 1e6 s");
        for (std::size_t i : schedule::tick_order(orders)) ordered_.push_back(nodes[i]);
    }

    void run() {
        struct Detach {  // whatever happens: the nodes this run claimed leave discovery and are free again
            std::vector<Node*> claimed;
            ~Detach() {
                for (Node* n : claimed) {
                    if (n->controller_) n->controller_->close();
                    n->stop_.store(nullptr);
                }
            }
        } detach;
        for (Node* n : ordered_) {
            std::atomic<bool>* none = nullptr;
            if (!n->stop_.compare_exchange_strong(none, &stop_))
                throw InvalidArgument("node '" + n->name() + "' is already running in another run()");
            detach.claimed.push_back(n);
            const auto& o = n->options_;
            const int64_t watchdog = option_ns(o.watchdog ? o.watchdog : options_.watchdog);
            TickPolicy policy(option_ns(o.budget), option_ns(o.deadline), o.on_miss, o.failure_policy);
            if (n->controller_)
                n->controller_->configure(policy, watchdog);
            else
                n->controller_ = std::make_unique<TickController>(n->period_ns(), policy, watchdog);
            NodeDescription desc{n->name(), node_registry_layout::Language::Cpp, n->rate(), n->order(), o.subs, o.pubs};
            desc.budget_ns = option_ns(o.budget);
            desc.deadline_ns = n->controller_->policy().deadline_ns();
            desc.watchdog_ns = watchdog;
            desc.on_miss = static_cast<uint32_t>(o.on_miss);
            desc.failure_policy = static_cast<uint32_t>(o.failure_policy.kind);
            desc.priority = o.priority.value_or(0);
            desc.core = o.core.value_or(-1);
            desc.own_thread = n->own_thread();
            n->controller_->list(desc);
        }

        SignalGuard signals;
        TimerSlackGuard slack;
        struct MemoryLock {  // with rt: the process's memory stays in RAM while the run runs
            bool locked = false;
            ~MemoryLock() {
                if (locked) unlock_memory();
            }
        } memory;
        if (options_.rt && !memory_locked()) {  // a program that locked its memory itself keeps its lock
            const std::string why = lock_memory();
            if (!why.empty()) throw NodeError(ordered_.front()->name(), "rt", "run(rt=true): " + why);
            memory.locked = true;
        }
        std::vector<Node*> started;
        for (Node* n : ordered_) {
            try {
                if (n->options_.init) n->options_.init(*n);
            } catch (...) {
                fail(*n, "init", std::current_exception());
                break;
            }
            started.push_back(n);
        }

        if (!stop_.load()) run_threads();

        for (Node* n : started) {
            try {
                if (n->options_.shutdown) n->options_.shutdown(*n);
            } catch (...) {
                fail(*n, "shutdown", std::current_exception());
            }
        }
        if (failure_) throw NodeError(failed_node_, failed_phase_, failure_what_);
    }

  private:
    bool stopped() const { return stop_.load(std::memory_order_relaxed) || g_stop_signal.load() != 0; }

    void fail(Node& n, const std::string& phase, const std::exception_ptr& e, const std::string& suffix = "") {
        {
            std::lock_guard<std::mutex> g(failure_mutex_);
            if (!failure_) {
                failure_ = e;
                failed_node_ = n.name();
                failed_phase_ = phase;
                failure_what_ = what_of(e) + suffix;
            }
        }
        stop_.store(true);
    }

    void fail_rt(Node& n, const std::string& why) {
        fail(n, "rt", std::make_exception_ptr(std::runtime_error(why)));
    }

    void run_threads() {
        std::vector<Node*> shared;
        std::vector<Node*> own;
        for (Node* n : ordered_) (n->own_thread() ? own : shared).push_back(n);
        const bool any_watchdog = std::any_of(ordered_.begin(), ordered_.end(),
                                              [](Node* n) { return n->controller_->watchdog_ns() > 0; });

        std::latch ready(static_cast<std::ptrdiff_t>(own.size()) + 1);
        std::latch released(1);
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        threads.reserve(own.size());
        for (Node* n : own) {
            threads.emplace_back([this, n, &ready, &released, &go] {
                set_timer_slack_ns(1000);
                apply_realtime(*n);
                ready.count_down();
                released.wait();
                try {
                    if (go.load()) loop({n});
                } catch (...) {  // the loop's own failure (a tick's is handled in tick_one)
                    fail(*n, "tick", std::current_exception());
                }
            });
        }
        ready.arrive_and_wait();  // every thread has applied (or been refused) its priority and core
        go.store(!stopped());
        released.count_down();
        std::thread watchdog;
        std::atomic<bool> done{false};
        if (any_watchdog && go.load()) watchdog = std::thread([this, &done] { watch(done); });
        if (go.load() && !shared.empty()) loop(shared);
        for (auto& t : threads) t.join();
        done.store(true);
        if (watchdog.joinable()) watchdog.join();
    }

    // In the node's own thread, before its first tick.
    void apply_realtime(Node& n) {
        const auto& o = n.options_;
        auto refused = [&](const std::string& why) {
            if (options_.rt) {
                fail_rt(n, why + " (run with rt=true)");
            } else {
                n.log_warning(why + "; the node runs without it");
            }
        };
        try {
            if (o.priority) {
                const std::string why = set_fifo_priority(*o.priority);
                if (!why.empty()) refused(why);
            }
            if (o.core) {
                const std::string why = pin_to_core(*o.core);
                if (!why.empty()) refused(why);
            }
        } catch (...) {
            fail(n, "rt", std::current_exception());
        }
    }

    struct Env {
        RunState& run;
        std::vector<Node*> group;
        int64_t now() const { return now_ns(); }
        bool stopped() const { return run.stopped(); }
        int tick(std::size_t i, int64_t due) { return run.tick_one(*group[i], due); }
        void ticked(std::size_t, int64_t, int64_t, bool) {}
        // Sleeps until `t` (at most 20 ms at a time, so a stop is seen soon). With rt the
        // last rt_spin_ns before `t` are spent polling the clock: a sleep on a VM wakes
        // tens of microseconds late, a poll does not.
        void sleep_until(int64_t t) const {
            const int64_t spin = run.options_.rt ? rt_spin_ns() : 0;
            int64_t now = now_ns();
            if (spin > 0 && t - now <= spin) {
                while (now < t && !stopped()) now = now_ns();
                return;
            }
            const int64_t wake = std::min(t - spin, now + 20'000'000);
            timespec ts{static_cast<time_t>(wake / 1'000'000'000), static_cast<long>(wake % 1'000'000'000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !stopped()) {
            }
        }
    };

    void loop(std::vector<Node*> group) {
        std::vector<int64_t> periods;
        for (Node* n : group) periods.push_back(n->period_ns());
        Env env{*this, std::move(group)};
        schedule::run_rounds(periods, options_.duration, env);
    }

    int tick_one(Node& n, int64_t due) {
        TickController& c = *n.controller_;
        const Gate g = c.gate(now_ns());
        if (g == Gate::Backoff || g == Gate::Suppressed || g == Gate::SkipAfterMiss) return schedule::kDropped;
        if (g == Gate::Restart) {
            try {
                if (n.options_.init) n.options_.init(n);
            } catch (...) {
                return failed(n, "init", std::current_exception());
            }
            c.restarted();
            n.log_info("restarted: init ran again (restart " + std::to_string(c.policy().restarts()) + " of " +
                       std::to_string(c.policy().failure_policy().max_restarts) + ")");
        }
        const int64_t start = now_ns();
        c.started(due, start);
        try {
            n.options_.tick(n);
        } catch (...) {
            return failed(n, "tick", std::current_exception());
        }
        const int64_t end = now_ns();
        const Verdict v = c.finished(due, start, end);
        if (v == Verdict::Ok) return schedule::kRan;
        if (const uint64_t k = c.take_miss_report(end))
            n.log_warning(std::to_string(k) + (k == 1 ? " tick" : " ticks") + " missed the deadline of " +
                          us_text(c.policy().deadline_ns()) + " (the latest ended " + us_text(end - due) +
                          " after it was due; on_miss = " + miss_policy_name(c.policy().on_miss()) + ")");
        if (v == Verdict::SafeMode && n.options_.safe_mode) {
            try {
                n.options_.safe_mode(n);
            } catch (...) {
                return failed(n, "safe_mode", std::current_exception());
            }
        } else if (v == Verdict::Stop) {
            n.log_error("a tick ended " + us_text(end - due) + " after it was due, past the deadline of " +
                        us_text(c.policy().deadline_ns()) + "; on_miss = stop: stopping the run");
            stop_.store(true);
            return schedule::kStop;
        }
        return schedule::kRan;
    }

    int failed(Node& n, const char* phase, const std::exception_ptr& e) {
        TickController& c = *n.controller_;
        const int64_t now = now_ns();
        const FailAction a = c.failed(now);
        const FailurePolicy& p = c.policy().failure_policy();
        switch (a) {
            case FailAction::Fatal:
                fail(n, phase, e);
                return schedule::kStop;
            case FailAction::RestartsExhausted:
                fail(n, phase, e, " (failure_policy restart: all " + std::to_string(p.max_restarts) + " restarts used)");
                return schedule::kStop;
            default: break;
        }
        if (const uint64_t k = c.take_failure_report(now)) {
            std::string text = std::string(phase) + " raised: " + what_of(e);
            if (k > 1) text += " (" + std::to_string(k) + " failures since the last report)";
            if (a == FailAction::Restart)
                text += "; restarting after " +
                        schedule::number_text(std::min(
                            1e6, p.backoff_s * std::ldexp(1.0, std::min(static_cast<int>(c.policy().restarts()) - 1, 60)))) +
                        " s (restart " + std::to_string(c.policy().restarts()) + " of " + std::to_string(p.max_restarts) + ")";
            else if (a == FailAction::Suppressed)
                text += "; " + std::to_string(p.max_failures) + " failures in a row: not ticking for " +
                        schedule::number_text(p.cooldown_s) + " s";
            else
                text += std::string("; failure_policy = ") + failure_policy_name(p.kind) + ": going on";
            n.log_error(text);
        }
        return schedule::kDropped;
    }

    void watch(std::atomic<bool>& done) {
        int64_t smallest = INT64_MAX;
        for (Node* n : ordered_)
            if (n->controller_->watchdog_ns() > 0) smallest = std::min(smallest, n->controller_->watchdog_ns());
        const int64_t poll = std::clamp<int64_t>(smallest / 4, 1'000'000, 100'000'000);
        while (!done.load()) {
            std::this_thread::sleep_for(std::chrono::nanoseconds(poll));
            const int64_t now = now_ns();
            for (Node* n : ordered_) {
                TickController& c = *n->controller_;
                if (!c.watchdog_check(now)) continue;
                const bool stop = c.policy().on_miss() == MissPolicy::Stop;
                n->log_error("a tick has not returned after " + us_text(now - c.in_tick_since()) + " (watchdog " +
                             us_text(c.watchdog_ns()) + ")" + (stop ? "; on_miss = stop: stopping the run" : ""));
                if (stop) stop_.store(true);
            }
        }
    }

    RunOptions options_;
    std::vector<Node*> ordered_;
    std::atomic<bool> stop_{false};
    std::mutex failure_mutex_;
    std::exception_ptr failure_;
    std::string failed_node_, failed_phase_, failure_what_;
};

void run(const std::vector<Node*>& nodes, const RunOptions& options) {
    RunState state(nodes, options);
    state.run();
}

void run(const std::vector<Node*>& nodes, std::optional<double> duration_s) {
    run(nodes, RunOptions{.duration = duration_s});
}

}  // namespace horus
