// dtype.cpp — dtype table and parsing (see dtype.hpp).
#include "horus/msg/dtype.hpp"

#include <array>
#include <limits>

#include "horus/base/error.hpp"

namespace horus {
namespace {

constexpr std::array<DTypeInfo, kDTypeCount> kTable = {{
    {DType::Bool, "bool", 1, DTypeKind::Bool},
    {DType::Int8, "int8", 1, DTypeKind::Int},
    {DType::Int16, "int16", 2, DTypeKind::Int},
    {DType::Int32, "int32", 4, DTypeKind::Int},
    {DType::Int64, "int64", 8, DTypeKind::Int},
    {DType::UInt8, "uint8", 1, DTypeKind::UInt},
    {DType::UInt16, "uint16", 2, DTypeKind::UInt},
    {DType::UInt32, "uint32", 4, DTypeKind::UInt},
    {DType::UInt64, "uint64", 8, DTypeKind::UInt},
    {DType::Float16, "float16", 2, DTypeKind::Float},
    {DType::Float32, "float32", 4, DTypeKind::Float},
    {DType::Float64, "float64", 8, DTypeKind::Float},
}};

}  // namespace

const DTypeInfo& dtype_info(DType dtype) {
    auto i = static_cast<std::size_t>(dtype);
    if (i >= kTable.size()) throw InvalidArgument("corrupt dtype code " + std::to_string(i));
    return kTable[i];
}

std::string dtype_names() {
    std::string out;
    for (const auto& info : kTable) {
        if (!out.empty()) out += ", ";
        out += info.name;
    }
    return out;
}

DType parse_dtype(std::string_view name) {
    for (const auto& info : kTable)
        if (info.name == name) return info.dtype;
    throw InvalidArgument("unknown dtype '" + std::string(name) + "'; valid dtypes: " + dtype_names());
}

DType dtype_from_dlpack(uint8_t code, uint8_t bits) {
    for (const auto& info : kTable)
        if (static_cast<uint8_t>(info.kind) == code && info.itemsize * 8 == bits) return info.dtype;
    throw TypeMismatch("unsupported element type (DLPack code " + std::to_string(code) + ", " +
                       std::to_string(bits) + " bits); supported dtypes: " + dtype_names());
}

double dtype_min(DType d) {
    switch (d) {
        case DType::Bool: return 0;
        case DType::Int8: return std::numeric_limits<int8_t>::min();
        case DType::Int16: return std::numeric_limits<int16_t>::min();
        case DType::Int32: return std::numeric_limits<int32_t>::min();
        case DType::Int64: return static_cast<double>(std::numeric_limits<int64_t>::min());
        case DType::UInt8:
        case DType::UInt16:
        case DType::UInt32:
        case DType::UInt64: return 0;
        case DType::Float16: return -65504.0;
        case DType::Float32: return -static_cast<double>(std::numeric_limits<float>::max());
        case DType::Float64: return -std::numeric_limits<double>::max();
    }
    return 0;
}

double dtype_max(DType d) {
    switch (d) {
        case DType::Bool: return 1;
        case DType::Int8: return std::numeric_limits<int8_t>::max();
        case DType::Int16: return std::numeric_limits<int16_t>::max();
        case DType::Int32: return std::numeric_limits<int32_t>::max();
        case DType::Int64: return static_cast<double>(std::numeric_limits<int64_t>::max());
        case DType::UInt8: return std::numeric_limits<uint8_t>::max();
        case DType::UInt16: return std::numeric_limits<uint16_t>::max();
        case DType::UInt32: return std::numeric_limits<uint32_t>::max();
        case DType::UInt64: return static_cast<double>(std::numeric_limits<uint64_t>::max());
        case DType::Float16: return 65504.0;
        case DType::Float32: return static_cast<double>(std::numeric_limits<float>::max());
        case DType::Float64: return std::numeric_limits<double>::max();
    }
    return 0;
}

}  // namespace horus
