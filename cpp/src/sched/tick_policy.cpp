// tick_policy.cpp — the budget, deadline, miss and failure rules (tick_policy.hpp).
#include "horus/sched/tick_policy.hpp"

#include <algorithm>
#include <cmath>

#include "horus/base/error.hpp"
#include "horus/sched/schedule.hpp"

namespace horus {
namespace {
constexpr int64_t kReportIntervalNs = 1'000'000'000;
constexpr double kMaxPolicySeconds = 1e6;  // backoff and cooldown: up to 11.6 days

int64_t seconds_to_ns(double s) {
    const double ns = std::floor(s * 1e9 + 0.5);
    return ns >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(ns);
}
}  // namespace

int64_t option_ns(const std::optional<double>& seconds) {
    return seconds ? std::max<int64_t>(1, seconds_to_ns(*seconds)) : 0;
}

MissPolicy parse_miss_policy(const std::string& name) {
    if (name == "warn") return MissPolicy::Warn;
    if (name == "skip") return MissPolicy::Skip;
    if (name == "safe_mode") return MissPolicy::SafeMode;
    if (name == "stop") return MissPolicy::Stop;
    throw InvalidArgument("on_miss = '" + name + "' is not a miss policy; expected one of 'warn', 'skip', "
                          "'safe_mode', 'stop'");
}

const char* miss_policy_name(MissPolicy p) {
    switch (p) {
        case MissPolicy::Warn: return "warn";
        case MissPolicy::Skip: return "skip";
        case MissPolicy::SafeMode: return "safe_mode";
        case MissPolicy::Stop: return "stop";
    }
    return "?";
}

FailurePolicy parse_failure_policy(const std::string& name) {
    if (name == "fatal") return FailurePolicy::fatal();
    if (name == "restart") return FailurePolicy::restart();
    if (name == "skip") return FailurePolicy::skip();
    if (name == "ignore") return FailurePolicy::ignore();
    throw InvalidArgument("failure_policy = '" + name + "' is not a failure policy; expected one of 'fatal', "
                          "'restart', 'skip', 'ignore'");
}

const char* failure_policy_name(FailurePolicy::Kind k) {
    switch (k) {
        case FailurePolicy::Kind::Fatal: return "fatal";
        case FailurePolicy::Kind::Restart: return "restart";
        case FailurePolicy::Kind::Skip: return "skip";
        case FailurePolicy::Kind::Ignore: return "ignore";
    }
    return "?";
}

void validate_failure_policy(const FailurePolicy& p, const std::string& what) {
    auto seconds = [&](double v, const char* name) {
        if (!(v >= 0 && v <= kMaxPolicySeconds))
            throw InvalidArgument(what + ": " + name + " = " + schedule::number_text(v) +
                                  " s is out of range; expected 0 <= " + name + " <= 1e6 s");
    };
    seconds(p.backoff_s, "backoff");
    seconds(p.cooldown_s, "cooldown");
    if (p.max_failures < 1)
        throw InvalidArgument(what + ": max_failures = 0 is out of range; expected max_failures >= 1");
    if (static_cast<uint8_t>(p.kind) > 3) throw InvalidArgument(what + ": unknown policy kind");
}

TickPolicy::TickPolicy(int64_t budget_ns, int64_t deadline_ns, MissPolicy on_miss,
                       FailurePolicy failure)
    : budget_ns_(budget_ns),
      deadline_ns_(deadline_ns > 0 ? deadline_ns : budget_ns),
      on_miss_(on_miss),
      failure_(failure) {}

Gate TickPolicy::gate(int64_t now_ns) {
    if (restart_pending_) return now_ns >= not_before_ns_ ? Gate::Restart : Gate::Backoff;
    if (not_before_ns_ && now_ns < not_before_ns_) return Gate::Suppressed;
    not_before_ns_ = 0;
    if (skip_next_) {
        skip_next_ = false;
        return Gate::SkipAfterMiss;
    }
    return Gate::Run;
}

Verdict TickPolicy::finished(int64_t due_ns, int64_t start_ns, int64_t end_ns) {
    if (failure_.kind == FailurePolicy::Kind::Skip) failures_in_a_row_ = 0;
    budget_exceeded_last_ = budget_ns_ > 0 && end_ns - start_ns > budget_ns_;
    missed_last_ = deadline_ns_ > 0 && end_ns - due_ns > deadline_ns_;
    if (!missed_last_) {
        safe_mode_ = false;
        return Verdict::Ok;
    }
    ++misses_report_.unreported;
    switch (on_miss_) {
        case MissPolicy::Warn: return Verdict::Missed;
        case MissPolicy::Skip: skip_next_ = true; return Verdict::Missed;
        case MissPolicy::SafeMode: safe_mode_ = true; return Verdict::SafeMode;
        case MissPolicy::Stop: return Verdict::Stop;
    }
    return Verdict::Missed;
}

FailAction TickPolicy::failed(int64_t now_ns) {
    ++failures_report_.unreported;
    switch (failure_.kind) {
        case FailurePolicy::Kind::Fatal: return FailAction::Fatal;
        case FailurePolicy::Kind::Restart: {
            if (restarts_ >= failure_.max_restarts) return FailAction::RestartsExhausted;
            ++restarts_;
            const double wait = failure_.backoff_s * std::ldexp(1.0, static_cast<int>(std::min(restarts_ - 1, 60u)));
            const int64_t wait_ns = seconds_to_ns(std::min(wait, kMaxPolicySeconds));
            not_before_ns_ = now_ns > INT64_MAX - wait_ns ? INT64_MAX : now_ns + wait_ns;
            restart_pending_ = true;
            return FailAction::Restart;
        }
        case FailurePolicy::Kind::Skip:
            if (++failures_in_a_row_ < failure_.max_failures) return FailAction::Dropped;
            failures_in_a_row_ = 0;
            {
                const int64_t cool = seconds_to_ns(failure_.cooldown_s);
                not_before_ns_ = now_ns > INT64_MAX - cool ? INT64_MAX : now_ns + cool;
            }
            return FailAction::Suppressed;
        case FailurePolicy::Kind::Ignore: return FailAction::Ignored;
    }
    return FailAction::Fatal;
}

uint64_t TickPolicy::RateLimitedReport::take(int64_t now_ns) {
    if (unreported == 0 || now_ns < next_ns) return 0;
    const uint64_t n = unreported;
    unreported = 0;
    next_ns = now_ns + kReportIntervalNs;
    return n;
}

uint64_t TickPolicy::take_miss_report(int64_t now_ns) { return misses_report_.take(now_ns); }

uint64_t TickPolicy::take_failure_report(int64_t now_ns) { return failures_report_.take(now_ns); }

}  // namespace horus
