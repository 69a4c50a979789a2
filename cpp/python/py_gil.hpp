// py_gil.hpp — running C++ with the GIL released, safely for daemon threads at exit.
//
// A thread that takes the GIL back while the interpreter is finalizing is ended by
// CPython 3.11-3.13 with pthread_exit() from inside PyEval_RestoreThread(); its forced
// unwind through C++ frames (a destructor is noexcept) aborts the whole process with
// "terminate called without an active exception". So a thread that finishes its work
// without the GIL and finds the interpreter finalizing never takes it back: it sleeps
// until the process exits (which does not wait for it), as CPython 3.14 itself does.
#pragma once

#include <Python.h>

#include <atomic>
#include <thread>

#include <unistd.h>

namespace horus::py {

/// Set (never cleared) by an atexit callback the module registers (module.cpp): from then
/// on the interpreter is shutting down, and a thread coming back without the GIL parks.
inline std::atomic<bool> python_exiting{false};

inline bool interpreter_finalizing() {
    if (python_exiting.load(std::memory_order_acquire)) return true;
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing() != 0;
#else
    return _Py_IsFinalizing() != 0;
#endif
}

/// The thread that imported the module (the main thread): it runs the shutdown itself, so it
/// never parks.
inline std::thread::id main_thread_id;

/// Takes the GIL back, unless this is another thread and the interpreter is shutting down:
/// then it sleeps until the process exits.
inline void restore_gil(PyThreadState* state) {
    if (std::this_thread::get_id() != main_thread_id)
        while (interpreter_finalizing()) pause();
    PyEval_RestoreThread(state);
}

/// Runs f() without the GIL; rethrows what f throws, with the GIL held again.
template <class F>
void without_gil(F&& f) {
    PyThreadState* state = PyEval_SaveThread();
    try {
        f();
    } catch (...) {
        restore_gil(state);
        throw;
    }
    restore_gil(state);
}

}  // namespace horus::py
