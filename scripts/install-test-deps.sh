#!/usr/bin/env bash
# Installs what journeyd's build and test suite need beyond the Swift toolchain:
# zlib headers (gzip request bodies), ISA-L, libdeflate and zstd headers (snapshot tables are
# compressed by ISA-L and read by libdeflate; zstd for the recovery checkpoint), jemalloc
# (journeyd's malloc) and tcmalloc (the test that a preloaded allocator is reported), curl (README
# examples), the official Segment Python SDK used by the SDK compatibility test, DuckDB's Python
# package (the snapshot test loads snapshots with it, as analysts do), and systemd-analyze (the
# unit file test). Safe to run repeatedly.
set -euo pipefail
need_apt=()
dpkg -s zlib1g-dev >/dev/null 2>&1 || need_apt+=(zlib1g-dev)
dpkg -s libdeflate-dev >/dev/null 2>&1 || need_apt+=(libdeflate-dev)
dpkg -s libisal-dev >/dev/null 2>&1 || need_apt+=(libisal-dev)
dpkg -s libzstd-dev >/dev/null 2>&1 || need_apt+=(libzstd-dev)
dpkg -s libjemalloc-dev >/dev/null 2>&1 || need_apt+=(libjemalloc-dev)
dpkg -s libtcmalloc-minimal4 >/dev/null 2>&1 || need_apt+=(libtcmalloc-minimal4)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
if ((${#need_apt[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
python3 -c 'import segment.analytics' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check segment-analytics-python==2.4.0
python3 -c 'import duckdb, sys; sys.exit(duckdb.__version__ != "2.0.0")' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check duckdb==2.0.0
