// test_schedule.cpp — horus::schedule (the scheduling policy of horus::run)
// against the shared table tests/data/schedule_cases.json, which
// tests/test_schedule.py checks Python's horus._schedule against too. No
// sleeping: runs use a virtual clock. HORUS_SOURCE_DIR (set by CMake) locates
// the table; a small JSON reader below parses it (the table is plain JSON:
// objects, arrays, strings without escapes, numbers, true/false/null).
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "horus/base/error.hpp"
#include "horus/sched/node.hpp"
#include "horus/sched/schedule.hpp"

namespace sch = horus::schedule;

namespace {

// ------------------------------------------------------------------ JSON reader
struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool boolean = false;
    double number = 0;
    std::string text;  // a String, or a Number as written (so integers stay exact)
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    bool is_null() const { return kind == Null; }
    const Json& operator[](const std::string& key) const {
        static const Json null;
        auto it = fields.find(key);
        return it == fields.end() ? null : it->second;
    }
    int64_t i64() const {  // an integer, exactly as written
        std::size_t used = 0;
        const int64_t v = std::stoll(text, &used);
        if (kind != Number || used != text.size()) throw std::runtime_error("not an integer: " + text);
        return v;
    }
    // A number; the strings "nan", "inf", "-inf" stand for what JSON cannot hold.
    double f64() const { return kind == String ? std::stod(text) : number; }
    std::vector<int64_t> i64s() const {
        std::vector<int64_t> v;
        for (const Json& j : items) v.push_back(j.i64());
        return v;
    }
    std::string name() const { return (*this)["case"].kind == String ? (*this)["case"].text : ""; }
};

class JsonReader {
  public:
    explicit JsonReader(std::string s) : s_(std::move(s)) {}
    Json read() {
        Json v = value();
        skip();
        if (p_ != s_.size()) fail("trailing characters");
        return v;
    }

  private:
    void fail(const std::string& why) {
        throw std::runtime_error("schedule_cases.json: " + why + " at offset " + std::to_string(p_));
    }
    void skip() {
        while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
    }
    bool eat(char c) {
        skip();
        if (p_ < s_.size() && s_[p_] == c) return ++p_, true;
        return false;
    }
    void expect(char c) {
        if (!eat(c)) fail(std::string("expected '") + c + "'");
    }
    std::string string() {
        expect('"');
        const std::size_t end = s_.find('"', p_);
        if (end == std::string::npos) fail("unterminated string");
        std::string out = s_.substr(p_, end - p_);
        if (out.find('\\') != std::string::npos) fail("escapes are not supported");
        p_ = end + 1;
        return out;
    }
    Json value() {
        Json v;
        skip();
        if (p_ >= s_.size()) fail("unexpected end");
        const char c = s_[p_];
        if (c == '{') {
            v.kind = Json::Object;
            ++p_;
            if (eat('}')) return v;
            do {
                std::string key = string();
                expect(':');
                v.fields[key] = value();
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            v.kind = Json::Array;
            ++p_;
            if (eat(']')) return v;
            do v.items.push_back(value());
            while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.kind = Json::String;
            v.text = string();
        } else if (s_.compare(p_, 4, "true") == 0 || s_.compare(p_, 5, "false") == 0) {
            v.kind = Json::Bool;
            v.boolean = s_[p_] == 't';
            p_ += v.boolean ? 4 : 5;
        } else if (s_.compare(p_, 4, "null") == 0) {
            p_ += 4;
        } else {
            v.kind = Json::Number;
            const std::size_t start = p_;
            while (p_ < s_.size() && std::strchr("+-0123456789.eE", s_[p_]) != nullptr) ++p_;
            v.text = s_.substr(start, p_ - start);
            if (v.text.empty()) fail("unexpected character");
            v.number = std::stod(v.text);
        }
        return v;
    }

    std::string s_;
    std::size_t p_ = 0;
};

const Json& table() {
    static const Json t = [] {
        std::ifstream in(HORUS_SOURCE_DIR "/tests/data/schedule_cases.json");
        if (!in) throw std::runtime_error("cannot open " HORUS_SOURCE_DIR "/tests/data/schedule_cases.json");
        std::stringstream ss;
        ss << in.rdbuf();
        return JsonReader(ss.str()).read();
    }();
    return t;
}

const std::vector<Json>& section(const std::string& name) {
    const Json& s = table()[name];
    if (s.kind != Json::Array || s.items.empty()) throw std::runtime_error("no cases in section " + name);
    return s.items;
}

std::optional<int64_t> opt_i64(const Json& j) { return j.is_null() ? std::nullopt : std::optional<int64_t>(j.i64()); }

// ------------------------------------------------------------------ the pure functions
TEST(ScheduleTable, RateInRangeAndNodeConstruction) {
    for (const Json& c : section("rate_in_range")) {
        const double rate = c["rate_hz"].f64();
        SCOPED_TRACE("rate_hz = " + sch::number_text(rate) + " " + c.name());
        EXPECT_EQ(sch::rate_in_range(rate), c["expect"].boolean);
        if (c["expect"].boolean) {
            EXPECT_EQ(horus::Node({.name = "n", .tick = [](horus::Node&) {}, .rate = rate}).rate(), rate);
            continue;
        }
        try {
            horus::Node({.name = "n", .tick = [](horus::Node&) {}, .rate = rate});
            ADD_FAILURE() << "Node accepted the rate";
        } catch (const horus::InvalidArgument& e) {  // names the value and the range, like Python's ValueError
            const std::string what = e.what();
            EXPECT_NE(what.find("rate = " + sch::number_text(rate) + " Hz is out of range"), std::string::npos) << what;
            EXPECT_NE(what.find("expected 1e-06 <= rate <= 1e+06 Hz"), std::string::npos) << what;
        }
    }
}

TEST(ScheduleTable, PeriodNs) {
    for (const Json& c : section("period_ns")) {
        const double rate = c["rate_hz"].f64();
        SCOPED_TRACE("rate_hz = " + sch::number_text(rate));
        EXPECT_EQ(sch::period_ns(rate), c["expect"].i64());
        EXPECT_EQ(horus::Node({.name = "n", .tick = [](horus::Node&) {}, .rate = rate}).period_ns(), c["expect"].i64());
    }
}

TEST(ScheduleTable, EndNs) {
    for (const Json& c : section("end_ns")) {
        const std::optional<double> d = c["duration_s"].is_null() ? std::nullopt : std::optional(c["duration_s"].f64());
        SCOPED_TRACE("duration_s = " + (d ? sch::number_text(*d) : "none") + " " + c.name());
        EXPECT_EQ(sch::end_ns(c["start_ns"].i64(), d), opt_i64(c["expect"]));
    }
}

TEST(ScheduleTable, TickOrder) {
    for (const Json& c : section("tick_order")) {
        std::vector<int> orders;
        for (int64_t o : c["orders"].i64s()) orders.push_back(static_cast<int>(o));
        std::vector<int64_t> got;
        for (std::size_t i : sch::tick_order(orders)) got.push_back(static_cast<int64_t>(i));
        EXPECT_EQ(got, c["expect"].i64s()) << c.name();
    }
}

TEST(ScheduleTable, NextToTick) {
    for (const Json& c : section("next_to_tick")) {
        const auto got = sch::next_to_tick(c["due_ns"].i64s(), c["now_ns"].i64(), static_cast<std::size_t>(c["from"].i64()));
        const std::optional<int64_t> got_i = got ? std::optional<int64_t>(static_cast<int64_t>(*got)) : std::nullopt;
        EXPECT_EQ(got_i, opt_i64(c["expect"])) << c.name();
    }
}

TEST(ScheduleTable, Overran) {
    for (const Json& c : section("overran"))
        EXPECT_EQ(sch::overran(c["start_ns"].i64(), c["after_ns"].i64(), c["period_ns"].i64()), c["expect"].boolean)
            << c.name();
}

TEST(ScheduleTable, NextDueNs) {
    for (const Json& c : section("next_due_ns"))
        EXPECT_EQ(sch::next_due_ns(c["due_ns"].i64(), c["period_ns"].i64(), c["after_ns"].i64()), c["expect"].i64())
            << c.name();
}

TEST(ScheduleTable, WakeNs) {
    for (const Json& c : section("wake_ns"))
        EXPECT_EQ(sch::wake_ns(c["due_ns"].i64s(), opt_i64(c["end_ns"])), c["expect"].i64());
}

// ------------------------------------------------------------------ whole runs on a virtual clock
// run_rounds' environment: time moves only when a tick takes time (tick_ns, the
// last duration repeating) or when the loop sleeps (it jumps to the wake time).
struct VirtualTime {
    std::vector<const Json*> nodes;  // in tick order
    int64_t t = 0;
    std::vector<std::string> trace;
    std::vector<std::size_t> count;
    std::map<std::string, int64_t> overruns;

    int64_t now() const { return t; }
    bool stopped() const { return trace.size() > 10'000; }  // a runaway loop fails the case instead of hanging
    bool tick(std::size_t i, int64_t) {
        const Json& n = *nodes[i];
        trace.push_back(n["name"].text + "@" + std::to_string(t));
        const auto& d = n["tick_ns"].items;
        t += d[std::min(count[i], d.size() - 1)].i64();
        ++count[i];
        return true;
    }
    void ticked(std::size_t i, int64_t, int64_t, bool overrun) { overruns[(*nodes[i])["name"].text] += overrun; }
    void sleep_until(int64_t wake) { t = std::max(t, wake); }
};

TEST(ScheduleTable, Runs) {
    for (const Json& c : section("runs")) {
        SCOPED_TRACE(c.name());
        std::vector<int> orders;
        for (const Json& n : c["nodes"].items) orders.push_back(static_cast<int>(n["order"].i64()));
        VirtualTime env;
        std::vector<int64_t> periods;
        for (std::size_t i : sch::tick_order(orders)) {
            const Json& n = c["nodes"].items[i];
            env.nodes.push_back(&n);
            env.overruns[n["name"].text] = 0;
            periods.push_back(sch::period_ns(n["rate_hz"].f64()));
        }
        env.count.assign(env.nodes.size(), 0);
        sch::run_rounds(periods, c["duration_s"].f64(), env);

        std::vector<std::string> want;
        for (const Json& s : c["ticks"].items) want.push_back(s.text);
        EXPECT_EQ(env.trace, want);
        std::map<std::string, int64_t> want_overruns;
        for (const auto& [name, v] : c["overruns"].fields) want_overruns[name] = v.i64();
        EXPECT_EQ(env.overruns, want_overruns);
    }
}

}  // namespace
