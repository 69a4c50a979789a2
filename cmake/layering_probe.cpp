// layering_probe.cpp — compiled as if it were part of the pool layer. It includes a
// header of the topic layer, which the pool's include tree does not contain, so it
// must fail to build (cmake/check_layering.cmake asserts exactly that).
#include "horus/pool/pool.hpp"      // a lower layer's view: fine
#include "horus/topic/topic.hpp"    // upward: "No such file or directory"
