// bind_sched.cpp — the scheduler's C++ parts that Python's horus.run uses, so both
// languages share one implementation of them: _TickController (tick_controller.hpp:
// budget, deadline, on_miss, failure_policy, statistics, watchdog, discovery entry),
// _publish_log (node_log.hpp) and the real-time calls of realtime.hpp.
//
// All of it runs with the GIL held: each call is short and never blocks.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <sys/prctl.h>

#include "horus/sched/node_log.hpp"
#include "horus/sched/realtime.hpp"
#include "horus/sched/tick_controller.hpp"

namespace nb = nanobind;

namespace horus::py {
namespace {

nb::dict stats_dict(const NodeStats& s) {
    nb::dict d;
    d["ticks"] = s.ticks;
    d["overruns"] = s.overruns;
    d["misses"] = s.misses;
    d["budget_overruns"] = s.budget_overruns;
    d["skipped"] = s.skipped;
    d["errors"] = s.errors;
    d["restarts"] = s.restarts;
    d["safe_mode_entries"] = s.safe_mode_entries;
    d["watchdog_expired"] = s.watchdog_expired.load(std::memory_order_relaxed);
    d["total_tick_s"] = s.total_tick_s;
    d["max_tick_s"] = s.max_tick_s;
    d["p99_tick_s"] = s.p99_tick_s();
    d["jitter_p50_s"] = s.jitter_p50_s();
    d["jitter_p99_s"] = s.jitter_p99_s();
    d["jitter_max_s"] = s.jitter_max_s();
    return d;
}

// The rules horus.Node's options ask for (names as in Python: "warn", "restart" ...).
TickPolicy policy_of(const std::optional<double>& budget_s, const std::optional<double>& deadline_s,
                     const std::string& on_miss,
                     const std::string& failure_policy, uint32_t max_restarts, double backoff_s,
                     uint32_t max_failures, double cooldown_s) {
    FailurePolicy fp = parse_failure_policy(failure_policy);
    fp.max_restarts = max_restarts;
    fp.backoff_s = backoff_s;
    fp.max_failures = max_failures;
    fp.cooldown_s = cooldown_s;
    validate_failure_policy(fp, "failure_policy");
    return TickPolicy(option_ns(budget_s), option_ns(deadline_s), parse_miss_policy(on_miss), fp);
}

}  // namespace

void bind_sched(nb::module_& m) {
    nb::class_<TickController>(m, "_TickController",
                               "One node's budget, deadline, miss and failure policy, statistics and watchdog "
                               "for horus.run (tick_controller.hpp).")
        .def(
            "__init__",
            [](TickController* self, int64_t period_ns, std::optional<double> budget_s,
               std::optional<double> deadline_s, const std::string& on_miss, const std::string& failure_policy,
               uint32_t max_restarts, double backoff_s, uint32_t max_failures, double cooldown_s,
               std::optional<double> watchdog_s) {
                new (self) TickController(period_ns,
                                          policy_of(budget_s, deadline_s, on_miss, failure_policy, max_restarts,
                                                    backoff_s, max_failures, cooldown_s),
                                          option_ns(watchdog_s));
            },
            nb::arg("period_ns"), nb::arg("budget_s").none(), nb::arg("deadline_s").none(), nb::arg("on_miss"),
            nb::arg("failure_policy"), nb::arg("max_restarts"), nb::arg("backoff_s"), nb::arg("max_failures"),
            nb::arg("cooldown_s"), nb::arg("watchdog_s").none())
        .def(
            "configure",
            [](TickController& c, std::optional<double> budget_s, std::optional<double> deadline_s,
               const std::string& on_miss, const std::string& failure_policy, uint32_t max_restarts,
               double backoff_s, uint32_t max_failures, double cooldown_s, std::optional<double> watchdog_s) {
                c.configure(policy_of(budget_s, deadline_s, on_miss, failure_policy, max_restarts, backoff_s,
                                      max_failures, cooldown_s),
                            option_ns(watchdog_s));
            },
            nb::arg("budget_s").none(), nb::arg("deadline_s").none(), nb::arg("on_miss"), nb::arg("failure_policy"),
            nb::arg("max_restarts"), nb::arg("backoff_s"), nb::arg("max_failures"), nb::arg("cooldown_s"),
            nb::arg("watchdog_s").none(), "A new run with these rules (seconds, None: not set); the statistics go on "
            "accumulating.")
        .def(
            "list",
            [](TickController& c, const std::string& name, double rate_hz, int64_t order,
               const std::vector<std::string>& subs, const std::vector<std::string>& pubs, int32_t priority,
               int32_t core, bool own_thread) {
                NodeDescription d{name, node_registry_layout::Language::Python, rate_hz, order, subs, pubs};
                d.budget_ns = c.policy().budget_ns();
                d.deadline_ns = c.policy().deadline_ns();
                d.watchdog_ns = c.watchdog_ns();
                d.on_miss = static_cast<uint32_t>(c.policy().on_miss());
                d.failure_policy = static_cast<uint32_t>(c.policy().failure_policy().kind);
                d.priority = priority;
                d.core = core;
                d.own_thread = own_thread;
                c.list(d);
            },
            nb::arg("name"), nb::arg("rate_hz"), nb::arg("order"), nb::arg("subs"), nb::arg("pubs"),
            nb::arg("priority"), nb::arg("core"), nb::arg("own_thread"), "Lists the node in discovery until close().")
        .def("close", &TickController::close, "Writes the final statistics and leaves discovery.")
        .def("gate", [](TickController& c, int64_t now) { return static_cast<int>(c.gate(now)); }, nb::arg("now_ns"),
             "0 run, 1 restart (init first), 2 skip after a miss, 3 suppressed, 4 restart backoff.")
        .def("started", &TickController::started, nb::arg("due_ns"), nb::arg("start_ns"))
        .def(
            "finished",
            [](TickController& c, int64_t due, int64_t start, int64_t end) {
                return static_cast<int>(c.finished(due, start, end));
            },
            nb::arg("due_ns"), nb::arg("start_ns"), nb::arg("end_ns"), "0 ok, 1 missed, 2 safe mode, 3 stop.")
        .def("failed", [](TickController& c, int64_t now) { return static_cast<int>(c.failed(now)); },
             nb::arg("now_ns"), "0 fatal, 1 restart, 2 dropped, 3 suppressed, 4 ignored, 5 restarts exhausted.")
        .def("restarted", &TickController::restarted)
        .def("take_miss_report", &TickController::take_miss_report, nb::arg("now_ns"))
        .def("take_failure_report", &TickController::take_failure_report, nb::arg("now_ns"))
        .def("watchdog_check", &TickController::watchdog_check, nb::arg("now_ns"))
        .def_prop_ro("watchdog_ns", &TickController::watchdog_ns)
        .def_prop_ro("in_tick_since", &TickController::in_tick_since)
        .def_prop_ro("budget_ns", [](const TickController& c) { return c.policy().budget_ns(); })
        .def_prop_ro("deadline_ns", [](const TickController& c) { return c.policy().deadline_ns(); })
        .def_prop_ro("on_miss", [](const TickController& c) { return std::string(miss_policy_name(c.policy().on_miss())); })
        .def_prop_ro("restarts", [](const TickController& c) { return c.policy().restarts(); })
        .def_prop_ro("in_safe_mode", [](const TickController& c) { return c.policy().in_safe_mode(); })
        .def_prop_ro("listed", &TickController::listed)
        .def("stats", [](const TickController& c) { return stats_dict(c.stats()); }, "The node's statistics.");

    m.def(
        "_publish_log",
        [](int level, const std::string& node, const std::string& text, bool echo) {
            publish_log(static_cast<LogLevel>(level), node, text, echo);
        },
        nb::arg("level"), nb::arg("node"), nb::arg("text"), nb::arg("echo"),
        "Publishes one Log line on 'horus.log' (node_log.hpp).");
    m.def("_log_lines_dropped", &log_lines_dropped);
    m.def("_close_log_topic", &close_log_topic, "Closes this process's log topic (node_log.hpp).");
    m.def("_set_fifo_priority", &set_fifo_priority, nb::arg("priority"),
          "SCHED_FIFO for the calling thread; '' or why it was refused.");
    m.def("_pin_to_core", &pin_to_core, nb::arg("core"), "Pins the calling thread; '' or why it was refused.");
    m.def("_lock_memory", &lock_memory, "mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT); '' or why it was refused.");
    m.def("_unlock_memory", &unlock_memory, "munlockall().");
    m.def("_memory_locked", &memory_locked, "Whether some of this process's memory is locked (VmLck > 0).");
    m.def("_allowed_cores", &allowed_cores);
    m.def("_rt_spin_ns", &rt_spin_ns, "How long before a due time a run with rt polls the clock (HORUS_RT_SPIN_US).");
    m.def("_set_timer_slack_ns", &set_timer_slack_ns, nb::arg("ns"));
    m.def("_timer_slack_ns", [] { return static_cast<long>(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)); });
}

}  // namespace horus::py
