// horus.hpp — umbrella header of the horus C++ API.
#pragma once

#include "horus/msg/depth_image.hpp"
#include "horus/msg/dtype.hpp"
#include "horus/msg/encoding.hpp"
#include "horus/base/error.hpp"
#include "horus/msg/image.hpp"
#include "horus/sched/node.hpp"
#include "horus/sched/node_registry.hpp"
#include "horus/msg/point_cloud.hpp"
#include "horus/pool/pool.hpp"
#include "horus/msg/strided_copy.hpp"
#include "horus/msg/record.hpp"
#include "horus/msg/standard_messages.hpp"
#include "horus/msg/tensor.hpp"
#include "horus/topic/topic.hpp"
#include "horus/topic/topic_discovery.hpp"
