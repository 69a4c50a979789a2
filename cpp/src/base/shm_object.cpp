// shm_object.cpp — POSIX shm_open/mmap wrapper with ownership checks (see shm_object.hpp).
#include "horus/base/shm_object.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "horus/base/fault_injection.hpp"

namespace horus {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& name, int err) {
    throw ShmError(what + " '/dev/shm" + name + "' failed: " + std::strerror(err));
}

std::string octal(unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0%03o", v & 0777u);
    return buf;
}

/// The group that may share objects (HORUS_SHM_GROUP: a gid or a group name;
/// default our effective gid). Read once.
gid_t shm_group() {
    static const gid_t gid = [] {
        const char* env = std::getenv("HORUS_SHM_GROUP");
        if (!env || !*env) return getegid();
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);
        if (*end == '\0' && v >= 0) return static_cast<gid_t>(v);
        if (const group* g = getgrnam(env)) return g->gr_gid;
        throw InvalidArgument(std::string("HORUS_SHM_GROUP='") + env + "' is neither a gid nor a group name");
    }();
    return gid;
}

bool group_configured() { return std::getenv("HORUS_SHM_GROUP") && *std::getenv("HORUS_SHM_GROUP"); }

/// Throws ShmPermission unless the object behind `fd` may be trusted (see shm_object.hpp).
void check_ownership(int fd, const std::string& name, struct stat& st) {
    if (fstat(fd, &st) != 0) fail("fstat", name, errno);
    const mode_t allowed = shm_mode();
    if (!S_ISREG(st.st_mode))
        throw ShmPermission("'/dev/shm" + name + "' is not a regular file (mode " + octal(st.st_mode) +
                            "); it is not a horus object: remove it or use another HORUS_NAMESPACE");
    const bool own = st.st_uid == geteuid();
    const bool group_ok = (allowed & 0070) != 0 && st.st_gid == shm_group();
    const mode_t extra = st.st_mode & 0777 & ~allowed;
    if ((!own && !group_ok) || extra != 0)
        throw ShmPermission("'/dev/shm" + name + "' is owned by uid " + std::to_string(st.st_uid) + " gid " +
                            std::to_string(st.st_gid) + " with mode " + octal(st.st_mode) +
                            "; horus opens only objects owned by uid " + std::to_string(geteuid()) +
                            ((allowed & 0070) ? " or group " + std::to_string(shm_group()) : std::string()) +
                            " with permissions within " + octal(allowed) +
                            " (HORUS_SHM_MODE). Another user may have made it to read or forge your "
                            "data: remove it (as its owner or root) or use another HORUS_NAMESPACE");
}

int shm_open_checked(const char* name, int flags, mode_t mode) {
    if (int err = fault::take_shm_failure()) {
        errno = err;
        return -1;
    }
    return shm_open(name, flags, mode);
}

void* mmap_checked(std::size_t size, int fd) {
    if (int err = fault::take_shm_failure()) {
        errno = err;
        return MAP_FAILED;
    }
    return mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
}

}  // namespace

mode_t shm_mode() {
    static const mode_t mode = [] {
        const char* env = std::getenv("HORUS_SHM_MODE");
        if (!env || !*env) return static_cast<mode_t>(0600);
        char* end = nullptr;
        long v = std::strtol(env, &end, 8);
        if (*end != '\0' || v < 0 || v > 0777 || (v & 0600) != 0600)
            throw InvalidArgument(std::string("HORUS_SHM_MODE='") + env +
                                  "' is not an octal file mode from 0600 to 0777 that lets the owner "
                                  "read and write (e.g. 0600, or 0660 for a group)");
        return static_cast<mode_t>(v);
    }();
    return mode;
}

ShmObject::~ShmObject() { reset(); }

ShmObject::ShmObject(ShmObject&& other) noexcept
    : name_(std::move(other.name_)), base_(other.base_), size_(other.size_), file_size_(other.file_size_) {
    other.base_ = nullptr;
    other.size_ = 0;
}

ShmObject& ShmObject::operator=(ShmObject&& other) noexcept {
    if (this != &other) {
        reset();
        name_ = std::move(other.name_);
        base_ = other.base_;
        size_ = other.size_;
        file_size_ = other.file_size_;
        other.base_ = nullptr;
        other.size_ = 0;
    }
    return *this;
}

void ShmObject::reset() noexcept {
    if (base_) munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
}

ShmObject ShmObject::create_exclusive(const std::string& name, std::size_t size) {
    const mode_t mode = shm_mode();
    int fd = shm_open_checked(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) return {};
        fail("shm_open(create)", name, errno);
    }
    // The umask must not narrow the configured mode; the configured group owns it.
    if (fchmod(fd, mode) != 0 || (group_configured() && fchown(fd, static_cast<uid_t>(-1), shm_group()) != 0) ||
        ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int err = errno;
        close(fd);
        shm_unlink(name.c_str());
        fail("creating", name, err);
    }
    // Reserve every page now. tmpfs is sparse: without this, a write to a page that a
    // full /dev/shm cannot back kills the process with SIGBUS long after creation.
    if (int err = posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0) {
        close(fd);
        shm_unlink(name.c_str());
        if (err == ENOSPC)
            throw ShmNoSpace("/dev/shm has no room for '" + name + "' (" + std::to_string(size) +
                             " bytes); free shared memory (`horus list`, `horus clean`) or enlarge /dev/shm");
        fail("reserving shared memory for", name, err);
    }
    // MAP_POPULATE: map every page now (a page fault costs ~1.6 us on the VMs we measured).
    void* base = mmap_checked(size, fd);
    int err = errno;
    close(fd);
    if (base == MAP_FAILED) {
        shm_unlink(name.c_str());
        fail("mmap of", name, err);
    }
    return ShmObject(name, base, size, size);
}

ShmObject ShmObject::open_existing(const std::string& name, std::size_t map_bytes, bool wait_if_empty) {
    int fd = shm_open_checked(name.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0) {
        if (errno == ENOENT) return {};
        fail("shm_open of", name, errno);
    }
    struct stat st {};
    try {
        check_ownership(fd, name, st);
        // A creator sizes its object right after shm_open; one that stays empty died first.
        for (int waited_ms = 0; st.st_size == 0; waited_ms += 2) {
            if (waited_ms >= 200 || !wait_if_empty)
                throw ShmEmpty("'/dev/shm" + name +
                               "' is empty (0 bytes): its creator died before sizing it, or it is not "
                               "a horus object; `horus clean` removes it");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            if (fstat(fd, &st) != 0) fail("fstat", name, errno);
        }
    } catch (...) {
        close(fd);
        throw;
    }
    const auto file_size = static_cast<std::size_t>(st.st_size);
    const std::size_t size = map_bytes > 0 && map_bytes < file_size ? map_bytes : file_size;
    void* base = mmap_checked(size, fd);
    int err = errno;
    close(fd);
    if (base == MAP_FAILED) fail("mmap of", name, err);
    return ShmObject(name, base, size, file_size);
}

int ShmObject::open_description(const std::string& name) {
    int fd = shm_open_checked(name.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0) {
        if (errno == ENOENT) return -1;
        fail("shm_open of", name, errno);
    }
    struct stat st {};
    try {
        check_ownership(fd, name, st);
    } catch (...) {
        close(fd);
        throw;
    }
    return fd;
}

void ShmObject::unlink(const std::string& name) { shm_unlink(name.c_str()); }

std::vector<std::string> list_objects_with_prefix(std::string_view prefix) {
    std::vector<std::string> out;
    DIR* dir = fault::take_shm_failure() ? nullptr : opendir("/dev/shm");
    if (!dir) {
        const int err = errno ? errno : EMFILE;
        throw ShmError(std::string("listing /dev/shm failed: ") + std::strerror(err));
    }
    while (dirent* e = readdir(dir)) {
        std::string_view name(e->d_name);
        if (name.substr(0, prefix.size()) == prefix) out.emplace_back(name);
    }
    closedir(dir);
    return out;
}

}  // namespace horus
