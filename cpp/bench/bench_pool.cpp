// bench_pool.cpp — cost of the pool's hot paths against the system allocator.
//
//   BM_PoolAllocRelease/<bytes>  Pool::instance().allocate(n), Block destroyed
//   BM_Malloc/<bytes>            malloc(n), touch one byte, free
//   BM_NewDelete/<bytes>         new std::byte[n], touch one byte, delete[]
//   BM_ImageConstruct/<w>x<h>    horus::Image(h, w, rgb8) (descriptor + block)
//   BM_BlockCopy                 copying a Block handle (refcount up + down)
//   BM_ImageCopy                 copying an Image (descriptor + refcount)
//
// Goal (issue 3, section 10): pool allocate+release <= 100 ns, flat in size.
// The pool allocates no memory per call: a block is a CAS on a state word in
// an already-mapped segment, so its cost should not depend on the block size;
// malloc/new switch to mmap/munmap above M_MMAP_THRESHOLD (128 KiB by default,
// raised dynamically by glibc after a free of an mmapped chunk).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include "horus/horus.hpp"

namespace {

// A private namespace so the bench never collides with tests or users. Runs
// before main() (static initialisation) and therefore before the first
// Pool::instance() call.
const bool kNamespaceSet = [] {
    const std::string ns = "bench" + std::to_string(::getpid());
    ::setenv("HORUS_NAMESPACE", ns.c_str(), 1);
    return true;
}();

void SizeArgs(benchmark::internal::Benchmark* b) {
    for (int64_t n : {256, 4096, 65536, 921600, 6220800, 8 << 20}) b->Arg(n);
}

void BM_PoolAllocRelease(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    horus::Pool& pool = horus::Pool::instance();
    { horus::Block warm = pool.allocate(n); }  // creates the size class's segment
    for (auto _ : state) {
        horus::Block b = pool.allocate(n);
        benchmark::DoNotOptimize(b.data());
    }
}
BENCHMARK(BM_PoolAllocRelease)->Apply(SizeArgs);

void BM_Malloc(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        auto* p = static_cast<volatile char*>(std::malloc(n));
        p[0] = 1;  // the allocation is used, so it cannot be elided
        benchmark::DoNotOptimize(p);
        std::free(const_cast<char*>(p));
    }
}
BENCHMARK(BM_Malloc)->Apply(SizeArgs);

void BM_NewDelete(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        auto* p = new std::byte[n];
        *reinterpret_cast<volatile std::byte*>(p) = std::byte{1};
        benchmark::DoNotOptimize(p);
        delete[] p;
    }
}
BENCHMARK(BM_NewDelete)->Apply(SizeArgs);

void BM_ImageConstruct(benchmark::State& state) {
    const auto w = state.range(0), h = state.range(1);
    { horus::Image warm(h, w, horus::Encoding::Rgb8); }
    for (auto _ : state) {
        horus::Image img(h, w, horus::Encoding::Rgb8);
        benchmark::DoNotOptimize(img.data());
    }
}
BENCHMARK(BM_ImageConstruct)->Args({640, 480})->Args({1920, 1080});

void BM_BlockCopy(benchmark::State& state) {
    horus::Block b = horus::Pool::instance().allocate(4096);
    for (auto _ : state) {
        horus::Block c = b;  // retain_local + release_local
        benchmark::DoNotOptimize(c.data());
    }
}
BENCHMARK(BM_BlockCopy);

void BM_ImageCopy(benchmark::State& state) {
    horus::Image img(480, 640, horus::Encoding::Rgb8);
    for (auto _ : state) {
        horus::Image c = img;  // descriptor copy + refcount, no pixels
        benchmark::DoNotOptimize(c.data());
    }
}
BENCHMARK(BM_ImageCopy);

}  // namespace

BENCHMARK_MAIN();
