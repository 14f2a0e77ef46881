#!/usr/bin/env bash
# Ramona against Debian's supervisord on the same configuration shapes, in the
# same run: memory, time to RUNNING, idle cost, status latency and payload,
# stop time for N sleep programs each, and restart latency after kill -9,
# with the floors under them measured in the same run (a Go hello world,
# /bin/true, a bare Go program starting N sleeps: testdata/bench/).
# Prints one markdown table: metric | N | ramona | supervisord | ratio.
# Usage: bench/compare.sh [-sizes 10,100,1000] [-idle 30s] [-samples 20]
#                         [-servers ramona,supervisord] [-no-restart] ...
# (every flag goes to testdata/bench/compare.go; see the top of that file).
# -servers ramona,ramona-nocgroup measures what cgroups cost: the same
# binary with a cgroup per program and with cgroup=no, in the same run;
# -servers ramona,ramona-health what a tcp health check a second per program
# costs. bench/compare.sh -before main -servers ramona,ramona-before compares
# this build with the same build of a git revision, in the same run (the
# -before flag goes first). Installs Debian's supervisor package if it is
# missing. About 6 minutes with the defaults on 2 cores; -sizes 100 -idle 10s
# takes about one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

if ! command -v supervisord >/dev/null || ! command -v supervisorctl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq supervisor >/dev/null
fi
work=$(mktemp -d /tmp/compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -tags nethttpomithttp2 -ldflags='-s -w' -o "$work/ramona" . # the release build (README: Performance)
before=()
if [ "${1:-}" = "-before" ]; then # -before REF: the same build of a git revision, as server ramona-before
  mkdir "$work/before-src"
  git archive "$2" | tar -x -C "$work/before-src"
  (cd "$work/before-src" && CGO_ENABLED=0 go build -trimpath -tags nethttpomithttp2 -ldflags='-s -w' -o "$work/ramona-before" .)
  before=(-before "$work/ramona-before")
  shift 2
fi
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$work/stamp" testdata/bench/stamp.go
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$work/hello" testdata/bench/hello.go # the floor of a Go command
go build -o "$work/forkfloor" testdata/bench/forkfloor.go                         # the floor of starting N programs
go build -o "$work/compare" testdata/bench/compare.go
"$work/compare" -ramona "$work/ramona" -stamp "$work/stamp" -hello "$work/hello" -forkfloor "$work/forkfloor" "${before[@]}" -work "$work" "$@"
