#!/usr/bin/env bash
# Builds TokenKit's libFuzzer harness and runs its targets, each for FUZZ_SECONDS (default 45).
#
#   Fuzz/run.sh                        every target, 45 s each
#   FUZZ_SECONDS=600 Fuzz/run.sh       every target, 10 minutes each (the long run)
#   Fuzz/run.sh store-log              one target (several may be named)
#   Fuzz/run.sh --build                only build
#   Fuzz/run.sh --write-seeds          regenerate Fuzz/Corpus from the harness's seed writer
#   FUZZ_SOURCES=../other/Sources/TokenKit Fuzz/run.sh   fuzz another checkout's library sources
#
# The binary is built once into Fuzz/.build-fuzz/ (rebuilt when a source is newer). Each target
# starts from a copy of Fuzz/Corpus/<target>/, so runs never grow the repository; crashes, hangs
# and out-of-memory inputs go to Fuzz/artifacts/<target>/. Exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# A new target: a FuzzTarget in Fuzz/Harness/Main.swift, its name here, seeds in Fuzz/Corpus/<name>/.
TARGETS=(format authorization network policies store-bytes store-log leak-report hashing store-index validation)
FUZZ_SECONDS=${FUZZ_SECONDS:-45}
# The library sources compiled into the harness (another checkout's, to fuzz it with this harness).
SOURCES=${FUZZ_SOURCES:-Sources/TokenKit}
BUILD_DIR=Fuzz/.build-fuzz
BINARY=$BUILD_DIR/tokenkit-fuzz
ARTIFACTS=Fuzz/artifacts

build() {
    # The C targets beside the Swift sources (Sources/CTokenKit*), each with an include folder.
    local c_targets=() c_sources sources
    # (Another checkout's may lack the newer ones.)
    for target in "$(dirname "$SOURCES")"/CTokenKit*; do
        if [[ -d $target/include ]]; then c_targets+=("$target"); fi
    done
    c_sources=$(find "${c_targets[@]}" -name '*.c' | sort)
    sources=$(find "$SOURCES" Fuzz/Harness -name '*.swift' -not -path '*/Docs.docc/*' | sort)
    if [[ -x $BINARY && $(cat "$BINARY.sources" 2>/dev/null) == "$SOURCES" ]] &&
        [[ -z $(find $sources $c_sources "${c_targets[@]/%//include}" -newer "$BINARY" 2>/dev/null | head -1) ]]; then
        echo "fuzz: $BINARY is up to date"
        return
    fi
    mkdir -p "$BUILD_DIR"
    echo "fuzz: building $BINARY (swiftc -sanitize=fuzzer,address) ..."
    local start=$SECONDS
    # One module named TokenKit, so the harness reaches internal API; the flags of Package.swift.
    # shellcheck disable=SC2086
    # Built from inside the build folder (with absolute source paths), so the compiler's side
    # files land there rather than in the repository.
    local absolute c_absolute target_folders=()
    absolute=$(for file in $sources; do if [[ $file == /* ]]; then echo "$file"; else echo "$PWD/$file"; fi; done)
    c_absolute=$(for file in $c_sources; do if [[ $file == /* ]]; then echo "$file"; else echo "$PWD/$file"; fi; done)
    for target in "${c_targets[@]}"; do target_folders+=("$(cd "$target" && pwd)"); done
    (
        cd "$BUILD_DIR"
        # The C targets as SwiftPM builds them: their objects, and a module map each for `import`.
        local objects=() includes=() module_maps=()
        for folder in "${target_folders[@]}"; do
            local name
            name=$(basename "$folder")
            includes+=(-I "$folder/include")
            printf 'module %s {\n    header "%s/include/%s.h"\n    export *\n}\n' "$name" "$folder" "$name" \
                >"$name.modulemap"
            module_maps+=(-Xcc -fmodule-map-file="$PWD/$name.modulemap")
        done
        for file in $c_absolute; do
            local object
            object="$(basename "$(dirname "$file")")-$(basename "$file" .c).o"
            clang -O2 -g -fsanitize=fuzzer-no-link,address "${includes[@]}" -c "$file" -o "$object"
            objects+=("$object")
        done
        swiftc -sanitize=fuzzer,address -parse-as-library -module-name TokenKit \
            -swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
            -O -g -wmo -j 1 -use-ld=lld \
            "${module_maps[@]}" "${includes[@]}" \
            $absolute "${objects[@]}" -o "$(basename "$BINARY")"
    )
    echo "$SOURCES" >"$BINARY.sources"
    echo "fuzz: built in $((SECONDS - start)) s"
}

case "${1:-}" in
--build)
    build
    exit 0
    ;;
--write-seeds)
    build
    # Existing inputs stay: only the seeds the harness writes are rewritten.
    TOKENKIT_FUZZ_WRITE_SEEDS=Fuzz/Corpus "$BINARY"
    du -sh Fuzz/Corpus
    exit 0
    ;;
-h | --help)
    sed -n '2,13p' "$0"
    exit 0
    ;;
esac

selected=("$@")
[[ ${#selected[@]} -eq 0 ]] && selected=("${TARGETS[@]}")
for target in "${selected[@]}"; do
    if [[ ! " ${TARGETS[*]} " == *" $target "* ]]; then
        echo "fuzz: unknown target '$target'; targets: ${TARGETS[*]}" >&2
        exit 2
    fi
done

build

# Scratch space for working corpora and the stores the harness writes: RAM when available.
scratch_parent=${TMPDIR:-/tmp}
[[ -d /dev/shm && -w /dev/shm ]] && scratch_parent=/dev/shm
scratch=$(mktemp -d "$scratch_parent/tokenkit-fuzz-run.XXXXXX")
cleanup() {
    # A store's shared memory page (/dev/shm/tk<device><inode>) outlives its lock file. The harness
    # removes each input's; these are the ones a crashed input left.
    local lock device inode
    [[ -d /dev/shm ]] && while IFS= read -r lock; do
        read -r device inode < <(stat -c '%d %i' "$lock")
        rm -f "$(printf '/dev/shm/tk%08x%016x' $((device & 0xFFFFFFFF)) "$inode")"
    done < <(find "$scratch" -name '*.lock' -type f 2>/dev/null)
    rm -rf "$scratch"
}
trap cleanup EXIT

failed=()
for target in "${selected[@]}"; do
    corpus=$scratch/corpus-$target
    mkdir -p "$corpus" "$ARTIFACTS/$target"
    [[ -d Fuzz/Corpus/$target ]] && cp -R "Fuzz/Corpus/$target/." "$corpus/"
    log=$scratch/$target.log
    echo "fuzz: $target for ${FUZZ_SECONDS} s ..."
    # The store, leak-report and validation targets run Swift tasks and Dispatch queues, whose allocations outlive an input:
    # libFuzzer would then run a leak scan after nearly every input (10x slower), and Foundation and
    # Dispatch keep buffers until exit, so they run without LeakSanitizer.
    leaks=1
    [[ $target == store-* || $target == leak-report || $target == validation ]] && leaks=0
    status=0
    # No Swift backtracer: libFuzzer and AddressSanitizer print the stack (the backtracer's memory
    # reader also trips AddressSanitizer).
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks} \
        TOKENKIT_FUZZ_TARGET=$target TOKENKIT_FUZZ_TMPDIR=$scratch "$BINARY" \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -detect_leaks=$leaks \
        -artifact_prefix="$ARTIFACTS/$target/" -print_final_stats=1 \
        "$corpus" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [[ $status -eq 0 ]]; then
        echo "fuzz: $target passed: ${runs:-?} inputs, ${rate:-?} exec/s, corpus $(find "$corpus" -type f | wc -l) inputs"
    else
        cp "$log" "$ARTIFACTS/$target/last-run.log"
        echo "fuzz: $target FAILED (exit $status); last lines of its log:"
        grep -v '^#[0-9]' "$log" | tail -60
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        echo "fuzz: $target: input saved to ${artifact:-<none>}; full log: $ARTIFACTS/$target/last-run.log"
        echo "fuzz: reproduce: SWIFT_BACKTRACE=enable=no TOKENKIT_FUZZ_TARGET=$target $BINARY ${artifact:-<input>}"
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: all ${#selected[@]} target(s) passed"
