#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a fixed time each, one after the other, at
# the lowest CPU priority, and prints one Markdown table row per target for
# docs/robustness.md: executions, exec/s, coverage (cov and ft of libFuzzer's last status
# line), corpus size, wall time, and crash artifacts written during the run.
#
#   fuzz/run-all.sh MINUTES [TARGET...]
#   fuzz/run-all.sh --seconds N [TARGET...]     (CI's smoke run: --seconds 20)
#
# Builds with cargo-fuzz on the stable toolchain (RUSTC_BOOTSTRAP=1 unlocks the nightly
# flags cargo-fuzz passes: -Zsanitizer=address and the coverage instrumentation). Corpora
# grow in fuzz/corpus/<target>/ (run fuzz/seed.sh first for a head start; capture_file also
# reads fixtures/ as seeds), full logs go to fuzz/logs/<target>.log, and a crash leaves its
# reproducer in fuzz/artifacts/<target>/ and makes the script exit with status 1 after the
# other targets have run. FUZZ_SANITIZER=none builds without AddressSanitizer, and FUZZ_DEV=1
# without optimizations (CI's smoke run does both: half the build time, and the same
# overflow checks and debug assertions).
set -euo pipefail
cd "$(dirname "$0")"
usage="usage: fuzz/run-all.sh MINUTES [TARGET...] | --seconds N [TARGET...]"
if [ "${1:-}" = --seconds ]; then
    secs=${2:?$usage}
    shift 2
else
    secs=$((${1:?$usage} * 60))
    shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(capture_file packet dns http tls quic reassembly)
fi
export RUSTC_BOOTSTRAP=1
build=(--sanitizer "${FUZZ_SANITIZER:-address}")
label=ASan
if [ "${FUZZ_SANITIZER:-address}" != address ]; then label=${FUZZ_SANITIZER}; fi
if [ "${FUZZ_DEV:-0}" = 1 ]; then
    build+=(--dev)
    label="$label, dev"
fi

# Longest input per target: whole captures and frame lists are longer than payloads.
max_len() {
    case $1 in
    capture_file) echo 131072 ;;
    packet) echo 65536 ;;
    reassembly) echo 8192 ;;
    quic) echo 4096 ;;
    *) echo 16384 ;;
    esac
}

echo "== building the fuzz targets" >&2
nice -n 19 cargo fuzz build "${build[@]}" </dev/null >&2
mkdir -p logs
status=0
echo "| target | build | executions | exec/s | cov | ft | corpus | wall | crashes |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    seeds=()
    if [ "$t" = capture_file ]; then seeds=(../fixtures); fi
    # Without seeds, libFuzzer would grow the input length slowly from a few bytes; a
    # structured input needs its full length from the start.
    len_control=()
    if [ "$t" = reassembly ]; then len_control=(-len_control=0); fi
    marker=$(mktemp)
    start=$(date +%s)
    echo "== $t: $secs s" >&2
    if ! nice -n 19 cargo fuzz run "${build[@]}" "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=60 \
        "${len_control[@]}" -print_final_stats=1 </dev/null >"logs/$t.log" 2>&1; then
        status=1
    fi
    wall=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "logs/$t.log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(find "corpus/$t" -type f | wc -l)
    found=$(find "artifacts/$t" -type f -newer "$marker" -printf '%f ' | sed 's/ $//')
    rm -f "$marker"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s s | %s |\n' "$t" "$label" "${execs:--}" \
        "${rate:--}" "${cov:--}" "${ft:--}" "$corp" "$wall" "${found:-none}"
    if [ -n "$found" ]; then
        status=1
        echo "== $t: crash artifacts in fuzz/artifacts/$t/: $found (log: fuzz/logs/$t.log)" >&2
    fi
done
exit $status
