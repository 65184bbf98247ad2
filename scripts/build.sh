#!/usr/bin/env bash
# Configures and builds Remora. Usage: scripts/build.sh [release|test]
#   release: build/release, optimised (what the demo runs)
#   test:    build/test, with AddressSanitizer and UndefinedBehaviorSanitizer, and tests
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
  release) dir=build/release; flags=(-DCMAKE_BUILD_TYPE=Release -DREMORA_BUILD_TESTS=OFF) ;;
  test) dir=build/test; flags=(-DCMAKE_BUILD_TYPE=Debug -DREMORA_SANITIZE=ON -DREMORA_BUILD_TESTS=ON) ;;
  *) echo "usage: $0 [release|test]" >&2; exit 2 ;;
esac

jobs=${REMORA_JOBS:-2}
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
