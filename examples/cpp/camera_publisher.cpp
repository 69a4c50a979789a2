// camera_publisher.cpp — a C++ camera node publishing RGB frames on a horus topic.
//
//   camera_publisher [topic=camera.rgb] [frames=30] [rate_hz=30] [width=640] [height=480]
//
// Frame k is filled with the value k % 256 in every byte and carries
// frame_id "cpp_camera" and timestamp_ns = k, so a subscriber (C++ or Python)
// can check what it got. Uses horus::Node and horus::run like a real node.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "horus/horus.hpp"

int main(int argc, char** argv) {
    const std::string topic = argc > 1 ? argv[1] : "camera.rgb";
    const long frames = argc > 2 ? std::atol(argv[2]) : 30;
    const double rate = argc > 3 ? std::atof(argv[3]) : 30.0;
    const long width = argc > 4 ? std::atol(argv[4]) : 640;
    const long height = argc > 5 ? std::atol(argv[5]) : 480;
    try {
        long sent = 0;
        horus::Node camera({.name = "cpp_camera",
                            .tick =
                                [&](horus::Node& node) {
                                    if (sent >= frames) return;
                                    horus::Image img(height, width, horus::Encoding::Rgb8);
                                    std::memset(img.mutable_data(), static_cast<int>(sent % 256), img.nbytes());
                                    img.set_frame_id("cpp_camera");
                                    img.set_timestamp_ns(static_cast<uint64_t>(sent));
                                    node.send(topic, img);
                                    ++sent;
                                },
                            .rate = rate,
                            .pubs = {topic}});
        horus::run({&camera}, frames / rate + 0.5);
        std::printf("published %ld frames on '%s'\n", sent, topic.c_str());
        return sent == frames ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "camera_publisher: %s\n", e.what());
        return 2;
    }
}
