// standard_messages.hpp — the standard robotics message set, declared once, here.
//
// Each message is a HORUS_MESSAGE record: a C-layout struct (natural alignment) whose
// fields all zero-initialise. Python's horus.msg builds its classes from this declaration
// through reflection, so a message has the same layout and the same layout hash in C++
// and Python; the hash is the topic's type. tests/data/standard_messages_decl.py declares
// the same set independently with @horus.message and a test compares the two.
//
// Field names follow ROS 2 geometry_msgs / sensor_msgs / nav_msgs where a counterpart
// exists. Units are SI: metres, radians, m/s, rad/s, m/s^2, seconds, volts, amperes,
// degrees Celsius. timestamp_ns and frame_id travel beside every message (not in these
// structs), so none has a header/stamp field; frame names appear as fields only where a
// message carries frames other than its own (TransformStamped, Odometry).
//
// Variable-length ROS fields have a fixed capacity here and a count of valid entries;
// entries past the count are zero. A nested type is declared before its first use.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "horus/msg/record.hpp"

namespace horus::msg {

// ---- geometry -------------------------------------------------------------------------

/// A 3-d vector (geometry_msgs/Vector3); units depend on use (m, m/s, rad/s, m/s^2).
HORUS_MESSAGE(Vector3, (double, x), (double, y), (double, z));

/// A position in space, metres (geometry_msgs/Point).
HORUS_MESSAGE(Point, (double, x), (double, y), (double, z));

/// A rotation as a unit quaternion (geometry_msgs/Quaternion). Zero-initialised like every
/// field, so the default is (0, 0, 0, 0), not the identity: set w = 1 for "no rotation".
HORUS_MESSAGE(Quaternion, (double, x), (double, y), (double, z), (double, w));

/// Position (m) and orientation (geometry_msgs/Pose).
HORUS_MESSAGE(Pose, (Point, position), (Quaternion, orientation));

/// Linear (m/s) and angular (rad/s) velocity (geometry_msgs/Twist).
HORUS_MESSAGE(Twist, (Vector3, linear), (Vector3, angular));

/// Translation (m) and rotation from a parent frame to a child frame (geometry_msgs/Transform).
HORUS_MESSAGE(Transform, (Vector3, translation), (Quaternion, rotation));

/// The pose of child_frame in parent_frame (geometry_msgs/TransformStamped); frame names
/// are UTF-8, at most 64 bytes.
HORUS_MESSAGE(TransformStamped,
    (horus::String<64>, parent_frame),
    (horus::String<64>, child_frame),
    (Transform, transform));

/// Planar velocity command: forward m/s, yaw rate rad/s (float32, as in horus-robotics).
HORUS_MESSAGE(CmdVel, (float, linear), (float, angular));

/// Planar pose: x, y in metres, heading theta in radians (geometry_msgs/Pose2D).
HORUS_MESSAGE(Pose2D, (double, x), (double, y), (double, theta));

// ---- sensors --------------------------------------------------------------------------

/// Inertial measurement (sensor_msgs/Imu): orientation, rad/s, m/s^2; 3x3 row-major
/// covariances; orientation_covariance(0, 0) = -1 means "no orientation estimate".
HORUS_MESSAGE(Imu,
    (Quaternion, orientation),
    (horus::Array<double, 3, 3>, orientation_covariance),
    (Vector3, angular_velocity),
    (horus::Array<double, 3, 3>, angular_velocity_covariance),
    (Vector3, linear_acceleration),
    (horus::Array<double, 3, 3>, linear_acceleration_covariance));

/// Pose (m, in frame_id) and twist (m/s, rad/s, in child_frame_id) with 6x6 row-major
/// covariances over (x, y, z, roll, pitch, yaw) (nav_msgs/Odometry).
HORUS_MESSAGE(Odometry,
    (horus::String<64>, child_frame_id),
    (Pose, pose),
    (horus::Array<double, 6, 6>, pose_covariance),
    (Twist, twist),
    (horus::Array<double, 6, 6>, twist_covariance));

/// Up to 32 joints (sensor_msgs/JointState): entries [0, count) are valid; position in rad
/// or m, velocity in rad/s or m/s, effort in N*m or N; names at most 32 bytes.
HORUS_MESSAGE(JointState,
    (uint32_t, count),
    (horus::Array<horus::String<32>, 32>, name),
    (horus::Array<double, 32>, position),
    (horus::Array<double, 32>, velocity),
    (horus::Array<double, 32>, effort));

/// A planar laser scan of up to 2048 beams (sensor_msgs/LaserScan): angles in rad, times in
/// s, ranges in m; entries [0, count) of ranges and intensities are valid.
HORUS_MESSAGE(LaserScan,
    (float, angle_min),
    (float, angle_max),
    (float, angle_increment),
    (float, time_increment),
    (float, scan_time),
    (float, range_min),
    (float, range_max),
    (uint32_t, count),
    (horus::Array<float, 2048>, ranges),
    (horus::Array<float, 2048>, intensities));

/// A GNSS fix (sensor_msgs/NavSatFix with NavSatStatus inlined): degrees, altitude in m
/// above the WGS 84 ellipsoid, 3x3 row-major ENU covariance in m^2.
HORUS_MESSAGE(NavSatFix,
    (int8_t, status),
    (uint16_t, service),
    (double, latitude),
    (double, longitude),
    (double, altitude),
    (horus::Array<double, 3, 3>, position_covariance),
    (uint8_t, position_covariance_type));

/// Battery state (sensor_msgs/BatteryState): V, deg C, A, Ah, percentage in [0, 1]; up to
/// 16 cells, entries [0, cell_count) valid; NaN marks an unmeasured value, as in ROS.
HORUS_MESSAGE(BatteryState,
    (float, voltage),
    (float, temperature),
    (float, current),
    (float, charge),
    (float, capacity),
    (float, design_capacity),
    (float, percentage),
    (uint8_t, power_supply_status),
    (uint8_t, power_supply_health),
    (uint8_t, power_supply_technology),
    (bool, present),
    (uint32_t, cell_count),
    (horus::Array<float, 16>, cell_voltage),
    (horus::Array<float, 16>, cell_temperature),
    (horus::String<32>, location),
    (horus::String<32>, serial_number));

// ---- perception (compact, fixed-size: also used as the dtype of a Tensor of records) ----

/// A 2-d detection: class, score in [0, 1], box centre and size in pixels.
HORUS_MESSAGE(Detection2D,
    (uint32_t, class_id),
    (float, score),
    (float, center_x),
    (float, center_y),
    (float, width),
    (float, height));

/// A 3-d detection: class, score in [0, 1], box centre (m), edge lengths (m) along the box's
/// own x, y, z axes, and the box's orientation.
HORUS_MESSAGE(Detection3D,
    (uint32_t, class_id),
    (float, score),
    (Point, center),
    (Vector3, size),
    (Quaternion, orientation));

/// A log line of a node (rcl_interfaces/Log, foxglove.Log): `level` as Python's logging
/// numbers it (10 debug, 20 info, 30 warning, 40 error), the process id, the node's
/// `name` and the `message` (UTF-8, cut at 1023 bytes on a character boundary by the
/// node loggers). The time is the message's timestamp_ns (CLOCK_REALTIME). Nodes'
/// log_* methods publish these on the topic "horus.log" (`horus log` follows it).
HORUS_MESSAGE(Log,
    (uint8_t, level),
    (int32_t, pid),
    (horus::String<64>, name),
    (horus::String<1024>, message));

/// The layouts of every message above, in declaration order (Python's horus.msg is
/// built from this list).
std::vector<std::shared_ptr<const RecordLayout>> standard_message_layouts();

}  // namespace horus::msg
