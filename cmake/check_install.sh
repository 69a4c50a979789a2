#!/usr/bin/env bash
# cmake/check_install.sh — ctest install.ExamplesBuildAgainstInstalledPackage.
#
#   check_install.sh BUILD_DIR SOURCE_DIR CMAKE GENERATOR MAKE_PROGRAM CXX
#
# Installs BUILD_DIR into BUILD_DIR/install-test, then against that prefix only:
#   1. builds examples/cpp as a standalone project (find_package(horus CONFIG REQUIRED),
#      horus::horus), checks the package version is the VERSION file's, and runs the
#      two examples against each other (5 frames);
#   2. compiles and runs a one-line program with the flags of `pkg-config horus`.
set -euo pipefail
build=$1 src=$2 cmake=$3 gen=$4 make_program=$5 cxx=$6
prefix=$build/install-test
work=$build/install-test-work
version=$(head -n1 "$src/VERSION")
rm -rf "$prefix" "$work"
mkdir -p "$work"

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/horus/horus.hpp include/horus/topic/topic.hpp lib/libhorus.a lib/pkgconfig/horus.pc \
         lib/cmake/horus/horusConfig.cmake lib/cmake/horus/horusConfigVersion.cmake \
         lib/cmake/horus/horusTargets.cmake; do
  [ -f "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
[ -z "$(find "$prefix/include" -type f ! -name '*.hpp')" ] || { echo "non-header files installed under include/"; exit 1; }

# 1. find_package(horus CONFIG) from the installed prefix (the source tree is not used).
"$cmake" -S "$src/examples/cpp" -B "$work/examples" -G "$gen" -DCMAKE_MAKE_PROGRAM="$make_program" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" \
  >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
grep -F -- "-- horus $version from $prefix/lib/cmake/horus" "$work/configure.log" \
  || { echo "expected horus $version from $prefix:"; cat "$work/configure.log"; exit 1; }
"$cmake" --build "$work/examples" >"$work/build.log" || { cat "$work/build.log"; exit 1; }

export HORUS_NAMESPACE="install$$"
topic=install.check
"$work/examples/image_subscriber" "$topic" 5 20 >"$work/sub.out" &
sub=$!
for _ in $(seq 200); do grep -q ready "$work/sub.out" && break; sleep 0.05; done
"$work/examples/camera_publisher" "$topic" 200 200 8 4 >"$work/pub.out" || { cat "$work/pub.out"; kill $sub; exit 1; }
wait $sub || { echo "image_subscriber failed:"; cat "$work/sub.out"; exit 1; }
grep -q "^frame cpp_camera .* 8x4 rgb8" "$work/sub.out" || { cat "$work/sub.out"; exit 1; }
grep -q "^received 5 frames" "$work/sub.out" || { cat "$work/sub.out"; exit 1; }
if ls /dev/shm | grep -q "^horus\.$HORUS_NAMESPACE\."; then
  echo "left in /dev/shm:"; ls /dev/shm | grep "^horus\.$HORUS_NAMESPACE\."; exit 1
fi

# 2. pkg-config: Cflags and Libs alone build a program against the installed library.
command -v pkg-config >/dev/null || { echo "pkg-config not found (scripts/bootstrap.sh installs pkgconf)"; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion horus)" = "$version" ] || { echo "horus.pc version is not $version"; exit 1; }
echo '#include <horus/horus.hpp>
int main() { return horus::encoding_name(horus::Encoding::Rgb8) == "rgb8" ? 0 : 1; }' >"$work/pc.cpp"
# shellcheck disable=SC2046
"$cxx" -std=c++20 -Wall -Wextra -Werror $(pkg-config --cflags horus) "$work/pc.cpp" -o "$work/pc" \
  $(pkg-config --libs horus)
"$work/pc"
echo "installed package OK: horus $version (CMake package, examples, pkg-config)"
