#!/usr/bin/env bash
# Builds gpu-kit/: everything scripts/gpu-check.sh needs on a GPU machine that reaches no
# package registry (the device tool copies the working tree and carries ignored paths):
#   gpu-kit/bin/{etaprobe,suite,resnet_chunking}.xz  stripped binaries, xz-compressed
#   gpu-kit/libvulkan1.deb     Debian's Vulkan loader, unpacked there only if the machine lacks one
#   gpu-kit/gl/                the loader again with glvnd's GL dispatch libraries, which
#                              NVIDIA's Vulkan driver needs (docs/gpu.md)
#   gpu-kit/data/cifar10-jpeg  a CIFAR-10 subset: N training and N/5 test images per class,
#   or gpu-kit/data/cifar10-jpeg.tar.xz, the whole set (55 MB of JPEGs packed into 19 MB:
#   their identical headers compress away)
#
#   scripts/gpu-kit.sh [N | full]   (default N = 500: 5,000 training and 1,000 test images)
#
# Needs CIFAR-10 as an image folder under ETAPROBE_DATA (e.g. ../shared/data in this
# team's layout). Run it from the repository root; carry gpu-kit with the check.
set -euo pipefail
cd "$(dirname "$0")/.."

per_class=${1:-500}
case "$per_class" in
    full) ;;
    '' | *[!0-9]*) echo "usage: scripts/gpu-kit.sh [IMAGES_PER_CLASS | full]" >&2; exit 2 ;;
esac
if [ "$per_class" != full ] && [ "$per_class" -lt 5 ]; then
    echo "give at least 5 images per class (a fifth of them are the test split)" >&2
    exit 2
fi
data=${ETAPROBE_DATA:-../shared/data}/cifar10-jpeg
if [ ! -d "$data/train" ] || [ ! -d "$data/test" ]; then
    echo "no CIFAR-10 image folder at $data (set ETAPROBE_DATA)" >&2
    exit 2
fi

kit=gpu-kit
rm -rf "$kit.new"
# A failed build leaves no half-made kit behind (the last good one stays).
trap 'status=$?; [ "$status" = 0 ] || rm -rf "$kit.new"; exit "$status"' EXIT
mkdir -p "$kit.new/bin" "$kit.new/data/cifar10-jpeg"

# Release binaries: the program and the test binaries (which find the program through
# CARGO_BIN_EXE at build time, so the check puts it at the same path; see gpu-check.sh).
cargo build --release --quiet
cp target/release/etaprobe "$kit.new/bin/etaprobe"
cargo test --release --no-run --message-format=json |
    grep -o '"executable":"[^"]*"' | cut -d'"' -f4 |
    while read -r exe; do
        case "$(basename "$exe")" in
            suite-* | resnet_chunking-*) cp "$exe" "$kit.new/bin/$(basename "$exe" | sed 's/-[0-9a-f]*$//')" ;;
        esac
    done
strip "$kit.new"/bin/*
for b in etaprobe suite resnet_chunking; do
    [ -x "$kit.new/bin/$b" ] || { echo "missing binary: $b" >&2; exit 1; }
done
echo "glibc the binaries need: $(objdump -T "$kit.new"/bin/* | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)"
xz -T2 -9 "$kit.new"/bin/*

# The Vulkan loader, in case the GPU machine has the driver's ICD but no loader; and the
# GL dispatch libraries NVIDIA's ICD links against (libGLX_nvidia needs libGLdispatch), which
# the device tool's notes unpack into / on a machine without a loader (gpu-common.sh).
if ! (cd "$kit.new" && apt-get download libvulkan1 >/dev/null 2>&1 && mv libvulkan1_*.deb libvulkan1.deb); then
    echo "cannot download Debian's libvulkan1 (apt-get update first?)" >&2
    exit 1
fi
mkdir -p "$kit.new/gl"
if ! (cd "$kit.new/gl" && apt-get download libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1); then
    echo "cannot download the GL dispatch libraries (apt-get update first?)" >&2
    exit 1
fi
cp "$kit.new/libvulkan1.deb" "$kit.new/gl/"

if [ "$per_class" = full ]; then
    rmdir "$kit.new/data/cifar10-jpeg"
    tar -C "$data" -cf - train test | xz -T2 -9 >"$kit.new/data/cifar10-jpeg.tar.xz"
fi
for split in train test; do
    [ "$per_class" = full ] && break
    n=$per_class
    [ "$split" = test ] && n=$((per_class / 5))
    for class in "$data/$split"/*/; do
        name=$(basename "$class")
        mkdir -p "$kit.new/data/cifar10-jpeg/$split/$name"
        mapfile -t images < <(find "$class" -maxdepth 1 -name '*.jpg' | sort)
        if [ "${#images[@]}" -lt "$n" ]; then
            echo "$class holds ${#images[@]} images, fewer than $n" >&2
            exit 1
        fi
        cp -t "$kit.new/data/cifar10-jpeg/$split/$name" "${images[@]:0:n}"
    done
done

rm -rf "$kit"
mv "$kit.new" "$kit"
du -sh --apparent-size "$kit"/bin "$kit"/libvulkan1.deb "$kit"/data
echo "total: $(du -sm --apparent-size "$kit" | cut -f1) MiB; with the working tree, the device tool carries 64 MiB in all"
