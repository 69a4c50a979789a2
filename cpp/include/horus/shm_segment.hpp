// shm_segment.hpp — one named POSIX shared-memory object, mapped into this process.
//
// Names are "/horus.<namespace>.<suffix>" (see shm_namespace.hpp). Objects are
// created with mode 0600 (HORUS_SHM_MODE overrides, e.g. 0660 for a shared
// group) independent of the umask. A ShmSegment owns its mapping, never the
// name: unlinking is an explicit decision of whoever tears the namespace down.
// Mappings are populated up front (MAP_POPULATE): no page faults on first touch.
#pragma once

#include <cstddef>
#include <string>

namespace horus {

class ShmSegment {
  public:
    ShmSegment() = default;
    ~ShmSegment();
    ShmSegment(const ShmSegment&) = delete;
    ShmSegment& operator=(const ShmSegment&) = delete;
    ShmSegment(ShmSegment&& other) noexcept;
    ShmSegment& operator=(ShmSegment&& other) noexcept;

    /// Creates a new object of `size` bytes (zero-filled). Returns an empty
    /// segment (valid() == false) if the name already exists; throws ShmError otherwise.
    static ShmSegment create_exclusive(const std::string& name, std::size_t size);

    /// Opens an existing object and maps all of it. Returns an empty segment if
    /// the name does not exist; throws ShmError on other failures.
    static ShmSegment open_existing(const std::string& name);

    /// Removes the name (the memory lives on while mapped). Missing names are ignored.
    static void unlink(const std::string& name);

    bool valid() const { return base_ != nullptr; }
    void* data() const { return base_; }
    std::size_t size() const { return size_; }
    const std::string& name() const { return name_; }

  private:
    ShmSegment(std::string name, void* base, std::size_t size)
        : name_(std::move(name)), base_(base), size_(size) {}
    void reset() noexcept;

    std::string name_;
    void* base_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace horus
