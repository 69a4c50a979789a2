// horus.hpp — umbrella header of the horus C++ API.
#pragma once

#include "horus/depth_image.hpp"
#include "horus/dtype.hpp"
#include "horus/encoding.hpp"
#include "horus/error.hpp"
#include "horus/image.hpp"
#include "horus/node.hpp"
#include "horus/point_cloud.hpp"
#include "horus/pool.hpp"
#include "horus/strided_copy.hpp"
#include "horus/tensor.hpp"
#include "horus/topic.hpp"
