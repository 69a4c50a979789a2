// shm_object.hpp — one named POSIX shared-memory object, mapped into this process.
//
// Names are "/horus.<namespace>.<suffix>" (session/namespace_name.hpp). A
// ShmObject owns its mapping, never the name: unlinking is an explicit decision
// of whoever tears the namespace down. Mappings are populated up front
// (MAP_POPULATE): no page faults on first touch.
//
// Ownership (who may have made the object we open): every object is created
// with the configured mode (HORUS_SHM_MODE, default 0600, independent of the
// umask) and, with HORUS_SHM_GROUP, the configured group. open_existing() and
// open_description() refuse (ShmPermission, naming the object, its owner and
// mode) anything that is not a regular file owned by our effective uid — or,
// when the configured mode grants the group, by a member of the configured
// group — or whose permissions are wider than the configured mode. So another
// local user cannot pre-create a namespace to read or forge our data.
//
// Not defended: a process that may write an object (same uid, or the configured
// group) can ftruncate() it; readers of the lost pages then get SIGBUS. Sizes are
// checked when an object is opened, never trusted afterwards.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "horus/base/error.hpp"

namespace horus {

/// An object that stayed empty (0 bytes): its creator died before sizing it.
class ShmEmpty : public ShmError {
  public:
    using ShmError::ShmError;
};

/// The configured file mode of new objects (HORUS_SHM_MODE, octal, default 0600).
/// A bad value throws InvalidArgument.
mode_t shm_mode();

class ShmObject {
  public:
    ShmObject() = default;
    ~ShmObject();
    ShmObject(const ShmObject&) = delete;
    ShmObject& operator=(const ShmObject&) = delete;
    ShmObject(ShmObject&& other) noexcept;
    ShmObject& operator=(ShmObject&& other) noexcept;

    /// Creates a new object of `size` bytes (zero-filled, pages reserved: a full
    /// /dev/shm is ShmNoSpace here, never a SIGBUS later). Returns an empty object
    /// (valid() == false) if the name already exists; throws ShmError otherwise.
    static ShmObject create_exclusive(const std::string& name, std::size_t size);

    /// Opens an existing object and maps all of it. Returns an empty object if the
    /// name does not exist. Throws ShmPermission for an object that is not ours
    /// (see the file comment), ShmEmpty if it stays 0 bytes, ShmError otherwise.
    /// With `map_bytes` > 0 only the first min(map_bytes, file size) bytes are mapped.
    /// An empty object is waited for (up to 200 ms) unless `wait_if_empty` is false.
    static ShmObject open_existing(const std::string& name, std::size_t map_bytes = 0, bool wait_if_empty = true);

    /// A new open file description of an existing object (O_RDWR, close-on-exec),
    /// checked like open_existing(); -1 if it does not exist. The caller closes it.
    static int open_description(const std::string& name);

    /// Removes the name (the memory lives on while mapped). Missing names are ignored.
    static void unlink(const std::string& name);

    bool valid() const { return base_ != nullptr; }
    void* data() const { return base_; }
    std::size_t size() const { return size_; }            // bytes mapped
    std::size_t file_size() const { return file_size_; }  // bytes of the object when opened
    const std::string& name() const { return name_; }

  private:
    ShmObject(std::string name, void* base, std::size_t size, std::size_t file_size)
        : name_(std::move(name)), base_(base), size_(size), file_size_(file_size) {}
    void reset() noexcept;

    std::string name_;
    void* base_ = nullptr;
    std::size_t size_ = 0;
    std::size_t file_size_ = 0;
};

/// Names (without the leading '/') of every object in /dev/shm starting with `prefix`.
/// Throws ShmError if /dev/shm cannot be read (EMFILE ...): an empty answer always means none.
std::vector<std::string> list_objects_with_prefix(std::string_view prefix);

}  // namespace horus
