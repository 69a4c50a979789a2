// standard_messages.cpp — the list of the standard messages' layouts.
#include "horus/msg/standard_messages.hpp"

namespace horus::msg {

std::vector<std::shared_ptr<const RecordLayout>> standard_message_layouts() {
    return {
        Vector3::horus_layout().shared_from_this(),
        Point::horus_layout().shared_from_this(),
        Quaternion::horus_layout().shared_from_this(),
        Pose::horus_layout().shared_from_this(),
        Twist::horus_layout().shared_from_this(),
        Transform::horus_layout().shared_from_this(),
        TransformStamped::horus_layout().shared_from_this(),
        CmdVel::horus_layout().shared_from_this(),
        Pose2D::horus_layout().shared_from_this(),
        Imu::horus_layout().shared_from_this(),
        Odometry::horus_layout().shared_from_this(),
        JointState::horus_layout().shared_from_this(),
        LaserScan::horus_layout().shared_from_this(),
        NavSatFix::horus_layout().shared_from_this(),
        BatteryState::horus_layout().shared_from_this(),
        Detection2D::horus_layout().shared_from_this(),
        Detection3D::horus_layout().shared_from_this(),
        Log::horus_layout().shared_from_this(),
    };
}

}  // namespace horus::msg
