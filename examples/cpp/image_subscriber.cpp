// image_subscriber.cpp — a C++ subscriber printing what it receives on a horus Image topic.
//
//   image_subscriber [topic=camera.rgb] [frames=30] [timeout_s=10]
//
// Prints "ready" once subscribed, then one line per image:
//   frame <frame_id> <timestamp_ns> <width>x<height> <encoding> first=<byte> sum=<sum of bytes mod 2^32>
// and exits 0 after `frames` images (1 on timeout).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "horus/horus.hpp"

int main(int argc, char** argv) {
    const std::string topic_name = argc > 1 ? argv[1] : "camera.rgb";
    const long frames = argc > 2 ? std::atol(argv[2]) : 30;
    const double timeout_s = argc > 3 ? std::atof(argv[3]) : 10.0;
    try {
        horus::Topic<horus::Image> topic(topic_name);
        std::printf("ready\n");
        std::fflush(stdout);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        long got = 0;
        while (got < frames && std::chrono::steady_clock::now() < deadline) {
            auto img = topic.recv(std::chrono::milliseconds(100));
            if (!img) continue;
            uint32_t sum = 0;
            for (std::byte b : img->bytes()) sum += static_cast<uint8_t>(b);
            std::printf("frame %s %llu %ux%u %s first=%u sum=%u\n", std::string(img->frame_id()).c_str(),
                        static_cast<unsigned long long>(img->timestamp_ns()), img->width(), img->height(),
                        std::string(horus::encoding_name(img->encoding())).c_str(),
                        static_cast<unsigned>(static_cast<uint8_t>(img->bytes()[0])), sum);
            std::fflush(stdout);
            ++got;
        }
        std::printf("received %ld frames, dropped %llu\n", got, static_cast<unsigned long long>(topic.dropped()));
        return got == frames ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "image_subscriber: %s\n", e.what());
        return 2;
    }
}
