"""The standard message set, declared independently in Python with @horus.message.

cpp/include/horus/msg/standard_messages.hpp is the declaration horus.msg is built from;
this module spells the same messages by hand (same names, field names, order and types)
so a test can check that both languages give the same sizes, offsets and layout hashes.
"""

import numpy as np

import horus

# ---- geometry ---------------------------------------------------------------------------


@horus.message
class Vector3:
    x: np.float64
    y: np.float64
    z: np.float64


@horus.message
class Point:
    x: np.float64
    y: np.float64
    z: np.float64


@horus.message
class Quaternion:
    x: np.float64
    y: np.float64
    z: np.float64
    w: np.float64


@horus.message
class Pose:
    position: Point
    orientation: Quaternion


@horus.message
class Twist:
    linear: Vector3
    angular: Vector3


@horus.message
class Transform:
    translation: Vector3
    rotation: Quaternion


@horus.message
class TransformStamped:
    parent_frame: horus.string(64)
    child_frame: horus.string(64)
    transform: Transform


@horus.message
class CmdVel:
    linear: np.float32
    angular: np.float32


@horus.message
class Pose2D:
    x: np.float64
    y: np.float64
    theta: np.float64


# ---- sensors ----------------------------------------------------------------------------


@horus.message
class Imu:
    orientation: Quaternion
    orientation_covariance: horus.array(np.float64, (3, 3))
    angular_velocity: Vector3
    angular_velocity_covariance: horus.array(np.float64, (3, 3))
    linear_acceleration: Vector3
    linear_acceleration_covariance: horus.array(np.float64, (3, 3))


@horus.message
class Odometry:
    child_frame_id: horus.string(64)
    pose: Pose
    pose_covariance: horus.array(np.float64, (6, 6))
    twist: Twist
    twist_covariance: horus.array(np.float64, (6, 6))


@horus.message
class JointState:
    count: np.uint32
    name: horus.array(horus.string(32), 32)
    position: horus.array(np.float64, 32)
    velocity: horus.array(np.float64, 32)
    effort: horus.array(np.float64, 32)


@horus.message
class LaserScan:
    angle_min: np.float32
    angle_max: np.float32
    angle_increment: np.float32
    time_increment: np.float32
    scan_time: np.float32
    range_min: np.float32
    range_max: np.float32
    count: np.uint32
    ranges: horus.array(np.float32, 2048)
    intensities: horus.array(np.float32, 2048)


@horus.message
class NavSatFix:
    status: np.int8
    service: np.uint16
    latitude: np.float64
    longitude: np.float64
    altitude: np.float64
    position_covariance: horus.array(np.float64, (3, 3))
    position_covariance_type: np.uint8


@horus.message
class BatteryState:
    voltage: np.float32
    temperature: np.float32
    current: np.float32
    charge: np.float32
    capacity: np.float32
    design_capacity: np.float32
    percentage: np.float32
    power_supply_status: np.uint8
    power_supply_health: np.uint8
    power_supply_technology: np.uint8
    present: np.bool_
    cell_count: np.uint32
    cell_voltage: horus.array(np.float32, 16)
    cell_temperature: horus.array(np.float32, 16)
    location: horus.string(32)
    serial_number: horus.string(32)


# ---- perception -------------------------------------------------------------------------


@horus.message
class Detection2D:
    class_id: np.uint32
    score: np.float32
    center_x: np.float32
    center_y: np.float32
    width: np.float32
    height: np.float32


@horus.message
class Detection3D:
    class_id: np.uint32
    score: np.float32
    center: Point
    size: Vector3
    orientation: Quaternion


@horus.message
class Log:
    level: np.uint8
    pid: np.int32
    name: horus.string(64)
    message: horus.string(1024)


ALL = (
    Vector3,
    Point,
    Quaternion,
    Pose,
    Twist,
    Transform,
    TransformStamped,
    CmdVel,
    Pose2D,
    Imu,
    Odometry,
    JointState,
    LaserScan,
    NavSatFix,
    BatteryState,
    Detection2D,
    Detection3D,
    Log,
)
