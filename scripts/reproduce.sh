#!/usr/bin/env bash
# Reproduces the paper's experiments (DESIGN.md §6): every schedule from the same seed and
# initial weights, then the comparison figures and the run records under docs/.
#
#   scripts/reproduce.sh [--only boston,fashion,lenet,resnet] [--schedules basic,newton,...]
#                        [--epochs N] [--width-mult F] [--checkpoint-every N] [--out DIR]
#                        [--docs DIR] [--bin FILE] [--dry-run]
#
# Data: ETAPROBE_DATA (a folder holding the data sets); without it every run passes
# --download (Fashion-MNIST and CIFAR are fetched once, checked against their published
# MD5s, and found in the cache afterwards; Boston has no official download, so --only boston
# needs ETAPROBE_DATA). --epochs overrides every experiment's epoch
# count (to fit a small machine); --width-mult runs a reduced-width ResNet-18 (clearly
# labelled in the run names) on machines without a GPU. Runs that finished are skipped, so
# an interrupted reproduction continues where it stopped, from its last checkpoint: one per
# epoch, or every N steps with --checkpoint-every (for runs whose epochs take an hour).
# --bin runs a binary built earlier (a copy, so that rebuilding during a long run is safe)
# instead of building target/release/etaprobe. --only resnet-lr0.1 or resnet-lr0.01 runs one
# ResNet η0 (two of them can then run side by side).
set -euo pipefail
cd "$(dirname "$0")/.."

only="boston,fashion,lenet,resnet"
schedules="basic,first-order,newton,newton-eps1e-2,secant,auto"
epochs=""
width="1"
out="runs/reproduce"
docs="docs"
dry=""
ckpt=""
bin=""
while [ $# -gt 0 ]; do
    case "$1" in
        --only) only="$2"; shift 2 ;;
        --schedules) schedules="$2"; shift 2 ;;
        --epochs) epochs="$2"; shift 2 ;;
        --width-mult) width="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --docs) docs="$2"; shift 2 ;;
        --checkpoint-every) ckpt="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --dry-run) dry=1; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
download=()
[ -n "${ETAPROBE_DATA:-}" ] || download=(--download)
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
if [ -z "$bin" ]; then
    bin="target/release/etaprobe"
    [ -n "$dry" ] || cargo build --release --quiet
fi
[ -n "$dry" ] || [ -x "$bin" ] || { echo "no executable at --bin $bin" >&2; exit 2; }

# experiment: model dataset batch lr epochs extra-options
declare -A setup=(
    [boston]="linreg boston 16 0.01 200"
    [fashion]="logreg fashion-mnist 64 0.1 10"
    [lenet]="lenet cifar10 32 0.01 15"
    [resnet-lr0.1]="resnet18 cifar10 256 0.1 20 --dropout 0.2"
    [resnet-lr0.01]="resnet18 cifar10 256 0.01 20 --dropout 0.2"
)
# The first-order rule's α per experiment (the paper gives none; see docs/reproduction.md:
# on LeNet, α = 1e-3 first turns η negative at step 735, and η becomes NaN at step 3,891).
declare -A alpha=([boston]=1e-6 [fashion]=1e-3 [lenet]=1e-4 [resnet-lr0.1]=1e-3 [resnet-lr0.01]=1e-3)

# Training-split sizes (Boston: 80% of 506 rows), for one checkpoint per epoch.
steps_per_epoch() {
    local n
    case "$1" in boston) n=404 ;; fashion-mnist) n=60000 ;; *) n=50000 ;; esac
    echo $(( (n + $2 - 1) / $2 ))
}

command -v python3 >/dev/null || { echo "$0 needs python3 (to read run.json)" >&2; exit 2; }
# Whether a run.json says its run ended, by its own keys (scripts/run-ended.py).
said_finished() { python3 scripts/run-ended.py "$1"; }  # run from the repository (cd above)

run() {  # name dir args...
    local dir="$1"; shift
    if [ -f "$dir/run.json" ] && said_finished "$dir/run.json"; then
        echo "done already: $dir"; return
    fi
    if [ -f "$dir/checkpoint.safetensors" ] && [ -z "$dry" ]; then
        echo "+ resuming $dir"
        "$bin" train "$@" "${download[@]}" --resume "$dir/checkpoint.safetensors" ||
            echo "FAILED (kept its records): $dir"
        return
    fi
    # A run stopped before its first checkpoint cannot resume: start it again in place.
    echo "+ $bin train $* ${download[*]} --out $dir --overwrite"
    [ -n "$dry" ] || "$bin" train "$@" "${download[@]}" --out "$dir" --overwrite ||
        echo "FAILED (kept its records): $dir"
}

for exp in boston fashion lenet resnet-lr0.1 resnet-lr0.01; do
    case ",$only," in *",${exp%%-*},"* | *",$exp,"*) ;; *) continue ;; esac
    read -r model dataset batch lr n extra <<<"${setup[$exp]}"
    n="${epochs:-$n}"
    name="$exp"
    if [ "$model" = resnet18 ] && [ "$width" != 1 ]; then
        extra="$extra --width-mult $width"
        name="$exp-width$width"
    fi
    dirs=()
    for s in ${schedules//,/ }; do
        opts=(--model "$model" --dataset "$dataset" --batch-size "$batch" --lr "$lr"
              --epochs "$n" --seed 1 --schedule "${s%%-eps*}")
        [ "$s" = first-order ] && opts+=(--alpha "${alpha[$exp]}")
        # newton-epsE: the newton rule with probe spacing E instead of the paper's 1e-5.
        case "$s" in newton-eps*) opts+=(--eps "${s#newton-eps}") ;; esac
        # A checkpoint per epoch (or --checkpoint-every), so that an interrupted run resumes.
        opts+=(--checkpoint-every "${ckpt:-$(steps_per_epoch "$dataset" "$batch")}")
        # shellcheck disable=SC2206
        run "$out/$name-$s" "${opts[@]}" $extra
        dirs+=("$out/$name-$s")
    done
    if [ -z "$dry" ]; then
        mkdir -p "$docs/figures/$name" "$docs/runs/$name"
        existing=()
        for d in "${dirs[@]}"; do
            [ -f "$d/epochs.csv" ] || continue
            existing+=("$d")
            mkdir -p "$docs/runs/$name/$(basename "$d")"
            cp "$d"/epochs.csv "$d"/run.json "$docs/runs/$name/$(basename "$d")/"
            [ -f "$d/rule.csv" ] && gzip -c "$d/rule.csv" > "$docs/runs/$name/$(basename "$d")/rule.csv.gz"
        done
        [ ${#existing[@]} -gt 0 ] && "$bin" plot "${existing[@]}" --out "$docs/figures/$name"
    fi
done
