// element_access.cpp — typed loads/stores through a byte pointer (see element_access.hpp).
#include "horus/msg/element_access.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "horus/base/error.hpp"

namespace horus {
namespace {

template <typename T>
double load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<double>(v);
}

template <typename T>
void store(std::byte* p, double value) {
    T v = static_cast<T>(value);
    std::memcpy(p, &v, sizeof v);
}

std::string num(double v) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
}

}  // namespace

double load_element(DType dtype, const std::byte* p) {
    switch (dtype) {
        case DType::Bool: return load<uint8_t>(p) != 0 ? 1.0 : 0.0;
        case DType::Int8: return load<int8_t>(p);
        case DType::Int16: return load<int16_t>(p);
        case DType::Int32: return load<int32_t>(p);
        case DType::Int64: return load<int64_t>(p);
        case DType::UInt8: return load<uint8_t>(p);
        case DType::UInt16: return load<uint16_t>(p);
        case DType::UInt32: return load<uint32_t>(p);
        case DType::UInt64: return load<uint64_t>(p);
        case DType::Float32: return load<float>(p);
        case DType::Float64: return load<double>(p);
        case DType::Float16: break;
    }
    throw TypeMismatch("element access is not supported for dtype " + std::string(dtype_name(dtype)));
}

void store_element(DType dtype, std::byte* p, double value) {
    switch (dtype) {
        case DType::Bool: return store<uint8_t>(p, value != 0 ? 1 : 0);
        case DType::Int8: return store<int8_t>(p, value);
        case DType::Int16: return store<int16_t>(p, value);
        case DType::Int32: return store<int32_t>(p, value);
        case DType::Int64: return store<int64_t>(p, value);
        case DType::UInt8: return store<uint8_t>(p, value);
        case DType::UInt16: return store<uint16_t>(p, value);
        case DType::UInt32: return store<uint32_t>(p, value);
        case DType::UInt64: return store<uint64_t>(p, value);
        case DType::Float32: return store<float>(p, value);
        case DType::Float64: return store<double>(p, value);
        case DType::Float16: break;
    }
    throw TypeMismatch("element access is not supported for dtype " + std::string(dtype_name(dtype)));
}

void check_element_value(DType dtype, double value, const std::string& what) {
    if (dtype == DType::Float16)
        throw TypeMismatch("element access is not supported for dtype float16");
    if (is_float(dtype)) {
        if (dtype == DType::Float32 && std::isfinite(value) && std::fabs(value) > dtype_max(dtype))
            throw InvalidArgument(what + " = " + num(value) + " does not fit float32 (|v| <= " +
                                  num(dtype_max(dtype)) + ")");
        return;
    }
    const double lo = dtype_min(dtype), hi = dtype_max(dtype);
    if (!std::isfinite(value) || value != std::floor(value) || value < lo || value > hi)
        throw InvalidArgument(what + " = " + num(value) + " is not valid for " +
                              std::string(dtype_name(dtype)) + ": expected a whole number in [" +
                              num(lo) + ", " + num(hi) + "]");
}

}  // namespace horus
