# Sourced by scripts/gpu-check.sh and scripts/gpu-sweeps.sh, from the repository root, with
# `default_out` (where results go unless OUT says) and `deadline` (seconds since the script
# started by which every step must end) set. Checks for gpu-kit/ (scripts/gpu-kit.sh),
# unpacks it, makes the Vulkan loader and the test binaries' build paths answer, and
# defines `run` and `bench`. A GPU machine may lack `xz`: Python's lzma and tarfile unpack
# the kit there.

kit=$PWD/gpu-kit
if [ ! -e "$kit/bin/etaprobe" ] && [ ! -e "$kit/bin/etaprobe.xz" ]; then
    echo "no gpu-kit here: build it with scripts/gpu-kit.sh and carry it" >&2
    exit 2
fi
out=${OUT:-$default_out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# unxz FILE.xz DEST
unxz() {
    if command -v xz >/dev/null 2>&1; then
        xz -dc "$1" >"$2"
    else
        python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
    fi
}

# The kit's binaries travel xz-compressed (the device tool carries 64 MiB in all).
for z in "$kit"/bin/*.xz; do
    [ -e "$z" ] || continue
    if [ ! -x "${z%.xz}" ]; then
        unxz "$z" "${z%.xz}.part" && chmod +x "${z%.xz}.part" && mv "${z%.xz}.part" "${z%.xz}"
    fi
done
# The whole CIFAR-10 travels as one tar.xz (55 MB of JPEGs, 19 MB packed).
if [ -f "$kit/data/cifar10-jpeg.tar.xz" ] && [ ! -d "$kit/data/cifar10-jpeg" ]; then
    rm -rf "$kit/data/cifar10-jpeg.part"
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2], filter="data")' \
        "$kit/data/cifar10-jpeg.tar.xz" "$kit/data/cifar10-jpeg.part" &&
        mv "$kit/data/cifar10-jpeg.part" "$kit/data/cifar10-jpeg"
fi
bin=$kit/bin
etaprobe=$bin/etaprobe

export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
chmod 700 "$XDG_RUNTIME_DIR"
# The Vulkan loader, from the kit when the machine has none (the driver brings its ICD).
# (grep reads all of ldconfig's output: an early exit would fail the pipe under pipefail.)
# On an NVIDIA machine without one (as root), the loader and the GL dispatch libraries its
# ICD needs go into / as the device tool's notes say; elsewhere the loader alone, beside.
has_lib() { ldconfig -p 2>/dev/null | grep "$1" >/dev/null; }
if [ -d /usr/local/nvidia ] && [ -d "$kit/gl" ] && [ "$(id -u)" = 0 ] &&
    { ! has_lib 'libvulkan\.so\.1' || ! has_lib 'libGLdispatch\.so\.0'; }; then
    for deb in "$kit"/gl/*.deb; do dpkg-deb -x "$deb" /; done
    ldconfig
elif ! has_lib 'libvulkan\.so\.1'; then
    dpkg-deb -x "$kit/libvulkan1.deb" "$kit/vulkan"
    export LD_LIBRARY_PATH="$kit/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# Some driver packages put their ICD where the loader does not look.
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
    ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
# The test binaries run the program, and read shaders/, at the paths they had where they
# were built: make the repository answer there too.
if [ -x "$bin/suite" ]; then
    built_at=$(grep -ao '/[[:alnum:]/._+-]*/target/release/etaprobe' "$bin/suite" | head -n 1 || true)
    if [ -n "$built_at" ]; then
        root=${built_at%/target/release/etaprobe}
        if [ ! -e "$root" ]; then
            mkdir -p "$(dirname "$root")" && ln -s "$PWD" "$root"
        fi
        if [ ! -x "$built_at" ]; then
            mkdir -p "$(dirname "$built_at")" && cp "$etaprobe" "$built_at"
        fi
    fi
fi
export ETAPROBE_DATA=$kit/data

steps=()
failed=0
# run NAME SECONDS COMMAND...: the command's output in $out/NAME.log, its exit code (124:
# out of time, "null": skipped) and time in `steps`. A step gets what is left of its limit
# before the deadline, and one with nothing left is skipped.
run() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS code
    echo "== $name" >&2
    if [ $((deadline - SECONDS)) -lt "$limit" ]; then
        limit=$((deadline - SECONDS))
    fi
    if [ "$limit" -le 0 ]; then
        failed=1
        steps+=("{\"name\":\"$name\",\"exit\":null,\"seconds\":0}")
        echo "   skipped: the time is up" >&2
        return
    fi
    timeout -k 30 "$limit" "$@" >"$out/$name.log" 2>&1
    code=$?
    [ "$code" = 0 ] || failed=1
    steps+=("{\"name\":\"$name\",\"exit\":$code,\"seconds\":$((SECONDS - start))}")
    echo "   exit $code in $((SECONDS - start)) s" >&2
}
# bench NAME SECONDS ARGS...: an `etaprobe bench ... --json`, its JSON kept apart.
bench() {
    local name=$1 limit=$2
    shift 2
    run "$name" "$limit" sh -c 'json=$1; shift; "$0" bench "$@" --json >"$json"' \
        "$etaprobe" "$out/$name.json" "$@"
}
# embed FILE: its text, or null when it is missing or empty (for a JSON summary).
embed() {
    if [ -s "$1" ]; then cat "$1"; else echo null; fi
}
