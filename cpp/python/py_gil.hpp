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

/// Set (never cleared) by on_python_exit(), which the module registers with atexit: from
/// then on the interpreter is shutting down, and a thread coming back without the GIL parks.
inline std::atomic<bool> python_exiting{false};
/// Threads between deciding to take the GIL back and having it (see restore_gil).
inline std::atomic<int> reacquiring{0};

inline bool interpreter_finalizing() {
    if (python_exiting.load(std::memory_order_seq_cst)) return true;
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
/// then it sleeps until the process exits. A thread counts itself in `reacquiring` before it
/// looks at the flag, and on_python_exit() sets the flag before it waits for that count to
/// drop to 0 (both seq_cst): either the thread sees the flag and parks, or the exit waits
/// until it holds the GIL, which is then before finalization can end it with pthread_exit.
inline void restore_gil(PyThreadState* state) {
    if (std::this_thread::get_id() == main_thread_id) {
        PyEval_RestoreThread(state);
        return;
    }
    reacquiring.fetch_add(1, std::memory_order_seq_cst);
    if (interpreter_finalizing()) {
        reacquiring.fetch_sub(1, std::memory_order_seq_cst);
        for (;;) pause();  // the process is exiting: never resume Python here
    }
    PyEval_RestoreThread(state);
    reacquiring.fetch_sub(1, std::memory_order_seq_cst);
}

/// The atexit callback (called with the GIL): raises the flag, then lets the threads already
/// on their way back take the GIL (for at most a second), so none is caught by finalization.
inline void on_python_exit() {
    python_exiting.store(true, std::memory_order_seq_cst);
    if (reacquiring.load(std::memory_order_seq_cst) == 0) return;
    PyThreadState* state = PyEval_SaveThread();
    for (int i = 0; i < 1000 && reacquiring.load(std::memory_order_seq_cst) > 0; ++i) usleep(1000);
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
