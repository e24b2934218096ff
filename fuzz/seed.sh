#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs: every capture of fixtures/ and of the shared
# corpus (../shared/corpus next to the checkout, skipped with a message when absent) for
# capture_file, cut to its first 128 KiB; and, extracted from the same captures by
# examples/seeds.rs with tamper's own decoders, their first frames for packet and their DNS,
# HTTP, TLS and QUIC payloads and streams for the parser targets. reassembly has no seeds (its
# input is a structure decoded by `arbitrary`; libFuzzer builds it up from nothing).
# The corpora are not committed (fuzz/.gitignore); run this again at any time, it only adds.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd .. && pwd)
shared=${TAMPER_SHARED_CORPUS:-$repo/../shared/corpus}
corpus=corpus
# Largest capture_file seed: the beginning of a longer capture is still a valid capture.
max_capture_seed=$((128 * 1024))

captures=()
while IFS= read -r -d '' f; do captures+=("$f"); done < <(
    find "$repo/fixtures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' \
        -o -name '*.xz' -o -name '*.zst' \) -print0 | sort -z)
fixture_count=${#captures[@]}
if [ -d "$shared" ]; then
    while IFS= read -r -d '' f; do captures+=("$f"); done < <(
        find "$shared" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' \
            -o -name '*.xz' -o -name '*.zst' \) -print0 | sort -z)
    echo "seed.sh: $fixture_count fixtures and $((${#captures[@]} - fixture_count)) captures of $shared"
else
    echo "seed.sh: no shared corpus at $shared (set TAMPER_SHARED_CORPUS to use one); seeding from the $fixture_count fixtures only"
fi

mkdir -p "$corpus/capture_file"
for f in "${captures[@]}"; do
    # A name that keeps where the seed came from: the path below the repository or corpus.
    rel=${f#"$repo/"}
    rel=${rel#"$shared/"}
    head -c "$max_capture_seed" "$f" >"$corpus/capture_file/${rel//\//__}"
done
echo "capture_file: ${#captures[@]} seeds copied"

cargo run --quiet --manifest-path Cargo.toml --example seeds -- "$corpus" "${captures[@]}" </dev/null
