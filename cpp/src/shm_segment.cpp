// shm_segment.cpp — POSIX shm_open/mmap wrapper (see shm_segment.hpp).
#include "horus/shm_segment.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "horus/error.hpp"

namespace horus {
namespace {

mode_t shm_mode() {
    static const mode_t mode = [] {
        const char* env = std::getenv("HORUS_SHM_MODE");
        if (!env || !*env) return static_cast<mode_t>(0600);
        char* end = nullptr;
        long v = std::strtol(env, &end, 8);
        if (*end != '\0' || v < 0 || v > 0777)
            throw InvalidArgument(std::string("HORUS_SHM_MODE='") + env +
                                  "' is not an octal file mode between 0000 and 0777 (e.g. 0660)");
        return static_cast<mode_t>(v);
    }();
    return mode;
}

[[noreturn]] void fail(const std::string& what, const std::string& name, int err) {
    throw ShmError(what + " '" + name + "' failed: " + std::strerror(err));
}

}  // namespace

ShmSegment::~ShmSegment() { reset(); }

ShmSegment::ShmSegment(ShmSegment&& other) noexcept
    : name_(std::move(other.name_)), base_(other.base_), size_(other.size_) {
    other.base_ = nullptr;
    other.size_ = 0;
}

ShmSegment& ShmSegment::operator=(ShmSegment&& other) noexcept {
    if (this != &other) {
        reset();
        name_ = std::move(other.name_);
        base_ = other.base_;
        size_ = other.size_;
        other.base_ = nullptr;
        other.size_ = 0;
    }
    return *this;
}

void ShmSegment::reset() noexcept {
    if (base_) munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
}

ShmSegment ShmSegment::create_exclusive(const std::string& name, std::size_t size) {
    const mode_t mode = shm_mode();
    int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) return {};
        fail("shm_open(create)", name, errno);
    }
    // The umask must not narrow the configured mode.
    if (fchmod(fd, mode) != 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int err = errno;
        close(fd);
        shm_unlink(name.c_str());
        fail("sizing shared memory", name, err);
    }
    // Reserve every page now. tmpfs is sparse: without this, a write to a page that a
    // full /dev/shm cannot back kills the process with SIGBUS long after creation.
    // With it, a full /dev/shm is an exception here, where the caller can handle it.
    if (int err = posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0) {
        close(fd);
        shm_unlink(name.c_str());
        if (err == ENOSPC)
            throw ShmNoSpace("/dev/shm has no room for '" + name + "' (" + std::to_string(size) +
                             " bytes); free shared memory (`horus list`, `horus clean`) or enlarge /dev/shm");
        fail("reserving shared memory", name, err);
    }
    // MAP_POPULATE: map every page now. Otherwise the first touch of each page of a block
    // in each process is a page fault (~1.6 us a page on the VMs we measured, so 3 ms for
    // the first read of an 8 MiB block): latency spikes whenever a block this process
    // never touched comes round. Paid once, when the segment is first mapped.
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    int err = errno;
    close(fd);
    if (base == MAP_FAILED) {
        shm_unlink(name.c_str());
        fail("mmap", name, err);
    }
    return ShmSegment(name, base, size);
}

ShmSegment ShmSegment::open_existing(const std::string& name) {
    int fd = shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == ENOENT) return {};
        fail("shm_open", name, errno);
    }
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        fail("fstat", name, err);
    }
    if (st.st_size <= 0) {
        close(fd);
        return {};  // being created right now, or truncated: treat as absent
    }
    auto size = static_cast<std::size_t>(st.st_size);
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);  // see create_exclusive
    int err = errno;
    close(fd);
    if (base == MAP_FAILED) fail("mmap", name, err);
    return ShmSegment(name, base, size);
}

void ShmSegment::unlink(const std::string& name) { shm_unlink(name.c_str()); }

}  // namespace horus
