// test_main.cpp — the gtest main of every horus test binary.
//
// * Gives the process a unique shared-memory namespace (HORUS_NAMESPACE =
//   gt_<pid>_<random>) before anything touches the pool: the namespace is read
//   once per process, and parallel ctest processes must never share a pool.
// * A global environment detaches from the pool at the end and checks that the
//   namespace left nothing behind in /dev/shm.
// * "--horus-helper MODE ..." runs a helper process instead (see run_helper):
//   it keeps the inherited namespace so it shares its parent's pool.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "horus/base/error.hpp"
#include "horus/pool/pool.hpp"
#include "horus/session/namespace_name.hpp"
#include "horus/topic/topic_ring.hpp"
#include "test_util.hpp"

extern char** environ;

namespace horus_test {

bool write_all(int fd, const void* p, std::size_t n) {
    auto* c = static_cast<const char*>(p);
    while (n > 0) {
        ssize_t w = ::write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        c += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool read_all(int fd, void* p, std::size_t n) {
    auto* c = static_cast<char*>(p);
    while (n > 0) {
        ssize_t r = ::read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        c += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

int fork_child(const std::function<int()>& body) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        int code = 99;
        try {
            code = body();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: exception: %s\n", e.what());
        } catch (...) {
        }
        horus::Session::instance().detach();
        std::fflush(nullptr);
        ::_exit(code);
    }
    return pid;
}

int wait_child(int pid) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1000;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return -WTERMSIG(st);
    return -1001;
}

int run_in_child(const std::function<int()>& body) { return wait_child(fork_child(body)); }

HelperResult run_helper(const std::string& mode, const std::vector<std::string>& args,
                        const std::vector<std::string>& env) {
    HelperResult res;
    int fds[2];
    if (::pipe(fds) != 0) {
        res.status = -1002;
        return res;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<std::string> argv_s{"/proc/self/exe", "--horus-helper", mode};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s = env;
    for (char** e = environ; *e; ++e) {
        const std::string entry = *e;
        const std::string name = entry.substr(0, entry.find('='));
        bool overridden = false;
        for (const auto& o : env) overridden = overridden || o.substr(0, o.find('=')) == name;
        if (!overridden) env_s.push_back(entry);
    }
    std::vector<char*> envp;
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        res.status = -1003;
        return res;
    }
    char buf[256];
    for (;;) {
        ssize_t r = ::read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        res.output.append(buf, static_cast<std::size_t>(r));
    }
    ::close(fds[0]);
    res.status = wait_child(pid);
    return res;
}

// Helper modes (run in a fresh process that attaches to the inherited namespace):
//   crash N BYTES : allocate N blocks of BYTES, print "allocated N", die by SIGKILL
//   report        : print "<blocks_in_use> <reclaimed_processes> <max_bytes>", detach, exit 0
//   topic         : open a topic (so the topic settings are read), print "opened", exit 0
// An exception (e.g. a bad HORUS_* variable) prints "error: <message>" and exits 4.
int helper_main(int argc, char** argv) {
    if (argc < 1) return 2;
    const std::string mode = argv[0];
    try {
        auto& pool = horus::Pool::instance();
        if (mode == "crash" && argc >= 3) {
            const long n = std::strtol(argv[1], nullptr, 10);
            const unsigned long long bytes = std::strtoull(argv[2], nullptr, 10);
            std::vector<horus::Block> held;
            for (long i = 0; i < n; ++i) held.push_back(pool.allocate(bytes));
            std::printf("allocated %ld\n", n);
            std::fflush(stdout);
            ::raise(SIGKILL);  // no detach, no destructors: a crash
            return 3;
        }
        if (mode == "topic") {  // opens a topic (reads the topic settings), prints "opened"
            auto ring = horus::TopicRing::open("helper.topic", 0, std::nullopt);
            std::printf("opened\n");
            std::fflush(stdout);
            ring.reset();
            horus::Session::instance().detach();
            return 0;
        }
        if (mode == "report") {
            auto st = pool.stats();
            std::printf("%llu %llu %llu\n", static_cast<unsigned long long>(st.blocks_in_use),
                        static_cast<unsigned long long>(st.reclaimed_processes),
                        static_cast<unsigned long long>(st.max_bytes));
            std::fflush(stdout);
            horus::Session::instance().detach();
            return 0;
        }
    } catch (const std::exception& e) {
        std::printf("error: %s\n", e.what());
        std::fflush(stdout);
        return 4;
    }
    return 2;
}

}  // namespace horus_test

namespace {

/// Detaches at the end of the test program and checks /dev/shm is clean.
class NamespaceCleanupCheck : public ::testing::Environment {
  public:
    void TearDown() override {
        horus::Session::instance().detach();
        const auto left = horus::list_namespace_objects(horus::shm_namespace());
        std::string names;
        for (const auto& n : left) names += " " + n;
        EXPECT_TRUE(left.empty()) << "shared-memory objects left in /dev/shm:" << names;
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::strcmp(argv[1], "--horus-helper") == 0)
        return horus_test::helper_main(argc - 2, argv + 2);

    std::random_device rd;
    char ns[64];
    std::snprintf(ns, sizeof ns, "gt_%d_%08x", static_cast<int>(::getpid()),
                  static_cast<unsigned>(rd()));
    ::setenv("HORUS_NAMESPACE", ns, 1);

    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new NamespaceCleanupCheck);
    return RUN_ALL_TESTS();
}
