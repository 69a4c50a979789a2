// dtype.hpp — element types of message payloads.
//
// One enum for the numeric types a Tensor/Image/DepthImage/PointCloud may hold,
// with their NumPy-style names ("uint8", "float32", ...), sizes and DLPack codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace horus {

enum class DType : uint8_t {
    Bool = 0,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float16,
    Float32,
    Float64,
};

inline constexpr int kDTypeCount = 12;

/// DLPack type codes (dlpack.h: kDLInt=0, kDLUInt=1, kDLFloat=2, kDLBool=6).
enum class DTypeKind : uint8_t { Int = 0, UInt = 1, Float = 2, Bool = 6 };

struct DTypeInfo {
    DType dtype;
    std::string_view name;  // NumPy name, e.g. "float32"
    std::size_t itemsize;   // bytes per element
    DTypeKind kind;
};

/// Static facts about a dtype.
const DTypeInfo& dtype_info(DType dtype);

/// Name of a dtype ("uint8", ...).
inline std::string_view dtype_name(DType dtype) { return dtype_info(dtype).name; }

/// Bytes per element.
inline std::size_t dtype_size(DType dtype) { return dtype_info(dtype).itemsize; }

/// Parses a NumPy-style dtype name; throws InvalidArgument listing the valid names.
DType parse_dtype(std::string_view name);

/// Maps (DLPack kind, bits) to a dtype; throws TypeMismatch naming the pair when unsupported.
DType dtype_from_dlpack(uint8_t code, uint8_t bits);

/// Comma-separated list of every valid dtype name, for error messages.
std::string dtype_names();

/// True for float16/32/64.
inline bool is_float(DType d) { return dtype_info(d).kind == DTypeKind::Float; }

/// Lowest and highest value an element can hold, as double (for range checks).
double dtype_min(DType d);
double dtype_max(DType d);

}  // namespace horus
