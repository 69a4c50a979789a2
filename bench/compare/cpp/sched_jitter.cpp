// sched_jitter.cpp — the C++ rows of bench/sched/jitter_bench.py: one horus::Node at
// RATE Hz under horus::run for SECONDS; each tick stores CLOCK_MONOTONIC at its start.
// The timestamps go to OUT as raw little-endian int64 (the driver computes the jitter
// the same way for every implementation).
//
//   sched_jitter RATE SECONDS RT PRIORITY CORE OUT      (PRIORITY 0 / CORE -1: none)
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "horus/horus.hpp"

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: sched_jitter RATE SECONDS RT PRIORITY CORE OUT\n");
        return 2;
    }
    const double rate = std::atof(argv[1]);
    const double seconds = std::atof(argv[2]);
    const bool rt = std::atoi(argv[3]) != 0;
    const int priority = std::atoi(argv[4]);
    const int core = std::atoi(argv[5]);
    std::vector<int64_t> starts;
    starts.reserve(static_cast<std::size_t>(rate * seconds * 1.2) + 16);
    horus::Node::Options o{.name = "jitter.cpp",
                           .tick = [&](horus::Node&) {
                               timespec t{};
                               clock_gettime(CLOCK_MONOTONIC, &t);
                               starts.push_back(int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec);
                           },
                           .rate = rate};
    if (priority > 0) o.priority = priority;
    if (core >= 0) o.core = core;
    horus::Node node(std::move(o));
    horus::run({&node}, horus::RunOptions{.duration = seconds, .rt = rt});
    FILE* f = std::fopen(argv[6], "wb");
    if (!f) return 1;
    std::fwrite(starts.data(), sizeof(int64_t), starts.size(), f);
    std::fclose(f);
    return 0;
}
