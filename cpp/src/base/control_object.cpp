// control_object.cpp — see control_object.hpp.
#include "horus/base/control_object.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "horus/base/error.hpp"
#include "horus/base/retry_backoff.hpp"

namespace horus {

ShmObject open_control_object(const std::string& name, std::size_t size, uint64_t magic, uint32_t version,
                              const char* what, const std::function<void(void*)>& initialise) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        ShmObject shm = ShmObject::create_exclusive(name, size);
        if (shm.valid()) {
            auto* p = static_cast<ControlPrefix*>(shm.data());
            p->magic = magic;
            p->version = version;
            p->control_size = static_cast<uint32_t>(size);
            initialise(shm.data());
            p->ready.store(1, std::memory_order_release);
            return shm;
        }
        try {
            shm = ShmObject::open_existing(name);
        } catch (const ShmEmpty&) {
            ShmObject::unlink(name);  // its creator died before sizing it
            continue;
        }
        if (!shm.valid()) {  // vanished meanwhile (a last process leaving): try again
            retry_backoff(attempt);
            continue;
        }
        if (shm.size() != size)
            throw ShmError("'/dev/shm" + name + "' is " + std::to_string(shm.size()) + " bytes, not a " + what +
                           " object of " + std::to_string(size) +
                           " bytes (foreign or from another horus version); run `horus clean --force`");
        auto* p = static_cast<ControlPrefix*>(shm.data());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (p->ready.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (p->ready.load(std::memory_order_acquire) == 0) {
            ShmObject::unlink(name);  // its creator died before finishing it
            continue;
        }
        if (p->magic != magic || p->version != version || p->control_size != size)
            throw ShmError("'/dev/shm" + name + "' is not a " + what + " object of this version (magic " +
                           std::to_string(p->magic) + ", version " + std::to_string(p->version) +
                           "); run `horus clean --force` to remove it");
        return shm;
    }
    throw ShmError(std::string("could not open the ") + what + " object '/dev/shm" + name +
                   "': it kept vanishing for 200 attempts (another program is removing it; check `horus list`)");
}

}  // namespace horus
