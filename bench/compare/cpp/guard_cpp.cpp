// guard_cpp.cpp — fixed workload for bench/callgrind_guard.py: N x (Topic<Image>::send +
// try_recv) of a 640x480 rgb8 Image descriptor in one process. The guard runs it under
// callgrind for two N and divides the difference, so setup cost cancels out.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "horus/topic/topic.hpp"

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 1000;
    horus::Topic<horus::Image> topic("guard.cpp.image", 64);
    long got = 0;
    for (long i = 0; i < n; ++i) {
        horus::Image img(480, 640, horus::Encoding::Rgb8);
        topic.send(img);
        if (auto m = topic.try_recv()) got += m->height();
    }
    std::printf("%ld\n", got);
    return got == n * 480 ? 0 : 1;
}
