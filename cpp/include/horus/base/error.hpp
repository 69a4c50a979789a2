// error.hpp — the exception types of horus.
//
// Every public entry point validates its input and throws one of these with a
// message that names the bad value and the valid range. The Python bindings
// map them onto Python exceptions:
//   InvalidArgument -> ValueError        OutOfRange     -> IndexError
//   TypeMismatch    -> TypeError         ReadOnlyError  -> horus.ReadOnlyError
//   PoolExhausted   -> horus.PoolExhausted (a MemoryError)
//   ShmError        -> horus.ShmError (an OSError)
//   StaleReference  -> horus.StaleReference
#pragma once

#include <stdexcept>
#include <string>

namespace horus {

/// Base class of every horus error.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A value outside its valid range or set (sizes, encodings, dtypes, byte counts).
class InvalidArgument : public Error {
  public:
    using Error::Error;
};

/// An index or coordinate outside the object (pixel x/y, point index, ROI).
class OutOfRange : public Error {
  public:
    using Error::Error;
};

/// A value of the wrong kind (dtype that an operation does not support, wrong message type).
class TypeMismatch : public Error {
  public:
    using Error::Error;
};

/// A mutation of a message that is shared (it was sent, or it was received).
class ReadOnlyError : public Error {
  public:
    using Error::Error;
};

/// The pool cannot satisfy an allocation within its cap (HORUS_POOL_MAX_BYTES).
class PoolExhausted : public Error {
  public:
    using Error::Error;
};

/// A shared-memory operation failed, or a segment is corrupt or foreign.
class ShmError : public Error {
  public:
    using Error::Error;
};

/// /dev/shm has no room for a new shared-memory object (ENOSPC when reserving its pages).
class ShmNoSpace : public ShmError {
  public:
    using ShmError::ShmError;
};

/// A shared-memory object that is not ours: another owner, or a mode wider than configured.
class ShmPermission : public ShmError {
  public:
    using ShmError::ShmError;
};

/// This process has no slot in its namespace (it detached, or it was forked while
/// every slot was taken): it can neither allocate nor take references.
class NotAttached : public ShmError {
  public:
    using ShmError::ShmError;
};

/// A block reference whose block was already freed (its generation moved on).
class StaleReference : public Error {
  public:
    using Error::Error;
};

}  // namespace horus
