#!/usr/bin/env python3
"""PyTorch reference for etaprobe's CIFAR ResNet-18.

The model is torchvision's resnet18 adapted to 32x32 inputs the usual way:
conv1 becomes a 3x3 / stride 1 / padding 1 convolution and the max-pool is
removed. etaprobe writes its checkpoints with torchvision's tensor names and
layouts, so such a file should load into this model with strict=True.
(etaprobe's `--dropout P` variant adds dropout after layer2 and layer4; dropout
has no parameters, so the state dict is the same and this script checks it too.)

Subcommands:

  check CHECKPOINT.safetensors [--classes N]
      Compares the file's tensors with the model's state dict (names, shapes),
      loads it with load_state_dict(strict=True), and runs one eval-mode forward
      pass on a seeded random [2, 3, 32, 32] input, printing the logits.
      Exits 1 on any mismatch.

  bench --batch-size B [--steps S] [--warmup W] [--threads T]
      CPU training throughput (SGD lr 0.1, cross-entropy, train mode) on random
      CIFAR-shaped data. Prints one JSON line:
      {"batch": .., "images_per_s": .., "ms_per_step": .., "threads": .., "torch": ..}

  evaluate CHECKPOINT.safetensors --data DIR [--cifar100]
      Test loss and accuracy of the checkpoint in eval mode on the CIFAR binary
      files in DIR, with etaprobe's preprocessing (per-channel mean and std of
      the training split's pixels).

Needs torch, torchvision and safetensors (e.g. `pip install torch torchvision
safetensors`).
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torchvision
from safetensors import safe_open
from safetensors.torch import load_file

# BatchNorm's step counter: PyTorch keeps it in the state dict, etaprobe need not
# write it. When it is absent, BatchNorm's loader fills in 0 (the state dict
# carries no version metadata), so strict loading still succeeds.
NUM_BATCHES_TRACKED = "num_batches_tracked"


def cifar_resnet18(num_classes: int) -> nn.Module:
    """torchvision's ResNet-18 with the CIFAR stem (3x3 conv1, no max-pool)."""
    model = torchvision.models.resnet18(weights=None, num_classes=num_classes)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model


def cmd_check(args: argparse.Namespace) -> int:
    try:
        state = load_file(args.checkpoint)  # name -> tensor, on CPU
        with safe_open(args.checkpoint, framework="pt") as f:
            metadata = f.metadata() or {}
    except Exception as e:  # missing file, not a safetensors file, truncated, ...
        print(f"cannot read {args.checkpoint}: {e}", file=sys.stderr)
        return 2

    # Number of classes: as given, else from the classifier's weight, else 10.
    classes = args.classes
    if classes is None:
        fc = state.get("fc.weight")
        classes = fc.shape[0] if fc is not None and fc.dim() == 2 else 10
        print(f"classes: {classes} (from the file's fc.weight; pass --classes to insist)")
    else:
        print(f"classes: {classes}")

    model = cifar_resnet18(classes)
    expected = model.state_dict()

    # Compare before loading, so that every problem is listed, not just the first.
    missing = [k for k in expected if k not in state]
    defaulted = [k for k in missing if k.endswith(NUM_BATCHES_TRACKED)]
    missing = [k for k in missing if not k.endswith(NUM_BATCHES_TRACKED)]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        (k, tuple(state[k].shape), tuple(v.shape))
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    non_finite = [
        k for k, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()
    ]

    print(f"file: {args.checkpoint}")
    print(f"tensors in file: {len(state)}; in model state dict: {len(expected)}")
    if metadata:
        print("metadata:")
        for k in sorted(metadata):
            v = metadata[k]
            print(f"  {k} = {v if len(v) <= 120 else v[:117] + '...'}")
    dtypes = sorted({str(t.dtype).replace("torch.", "") for t in state.values()})
    print(f"dtypes in file: {', '.join(dtypes)}")
    if defaulted:
        print(f"note: {len(defaulted)} {NUM_BATCHES_TRACKED} entries absent; PyTorch sets them to 0")

    failed = False
    for k in missing:
        print(f"MISSING   {k}  (model expects shape {list(expected[k].shape)})")
        failed = True
    for k in unexpected:
        print(f"UNEXPECTED {k}  (file has shape {list(state[k].shape)})")
        failed = True
    for k, got, want in mismatched:
        print(f"SHAPE     {k}: file {list(got)}, model {list(want)}")
        failed = True
    for k in non_finite:
        print(f"NON-FINITE {k} contains NaN or Inf")
        failed = True
    if failed:
        print("check FAILED: the checkpoint does not match the CIFAR ResNet-18")
        return 1

    # The real test: PyTorch's own strict loader.
    try:
        result = model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        print(f"load_state_dict(strict=True) failed:\n{e}")
        return 1
    if result.missing_keys or result.unexpected_keys:  # strict raises first; belt and braces
        print(f"load_state_dict: missing {result.missing_keys}, unexpected {result.unexpected_keys}")
        return 1

    matched = len(state) - len(unexpected)
    params = sum(p.numel() for p in model.parameters())
    print(f"load_state_dict(strict=True): OK, {matched} tensors matched")
    print(f"parameters: {params:,}")

    # One eval-mode forward pass (batch-norm uses the running statistics).
    model.eval()
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randn(2, 3, 32, 32, generator=gen)
    with torch.no_grad():
        logits = model(x)
    torch.set_printoptions(precision=5, sci_mode=False, linewidth=120)
    print(f"input: torch.randn(2, 3, 32, 32) with seed {args.seed}")
    print(f"logits {list(logits.shape)}:")
    print(logits)
    if not torch.isfinite(logits).all():
        print("check FAILED: logits are not finite")
        return 1
    print("check OK")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    model = cifar_resnet18(args.classes)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    # One fixed random batch: data loading is not what is measured.
    x = torch.randn(args.batch_size, 3, 32, 32)
    y = torch.randint(0, args.classes, (args.batch_size,))

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start

    print(json.dumps({
        "batch": args.batch_size,
        "images_per_s": round(args.batch_size * args.steps / elapsed, 2),
        "ms_per_step": round(1000.0 * elapsed / args.steps, 2),
        "threads": threads,
        "torch": torch.__version__,
        "steps": args.steps,
        "warmup": args.warmup,
    }))
    return 0


def read_cifar_bin(path: str, label_bytes: int) -> tuple:
    """Images [n, 3, 32, 32] in [0, 1] and labels (the last label byte: fine for CIFAR-100)."""
    import numpy as np

    raw = np.fromfile(path, dtype=np.uint8)
    rec = label_bytes + 3072
    if raw.size % rec:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of {rec}-byte records")
    raw = raw.reshape(-1, rec)
    return raw[:, label_bytes:].reshape(-1, 3, 32, 32) / 255.0, raw[:, label_bytes - 1].astype("int64")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Test loss and accuracy of a checkpoint in eval mode, with etaprobe's preprocessing
    (per-channel mean and population std of the training split's pixels / 255)."""
    import glob

    import numpy as np

    label_bytes = 2 if args.cifar100 else 1
    train_files = sorted(glob.glob(os.path.join(args.data, "data_batch_*.bin"))) or [
        os.path.join(args.data, "train.bin")]
    test_file = os.path.join(args.data, "test.bin" if args.cifar100 else "test_batch.bin")
    train = np.concatenate([read_cifar_bin(f, label_bytes)[0] for f in train_files])
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True)
    x, y = read_cifar_bin(test_file, label_bytes)
    x = torch.tensor((x - mean) / std, dtype=torch.float32)
    state = load_file(args.checkpoint)
    model = cifar_resnet18(state["fc.weight"].shape[0])
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 256]) for i in range(0, len(x), 256)])
    loss = nn.functional.cross_entropy(logits, torch.tensor(y)).item()
    acc = (logits.argmax(1).numpy() == y).mean()
    print(json.dumps({"images": len(y), "test_loss": loss, "test_acc": float(acc)}))
    return 0


def positive(s: str) -> int:
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def main() -> int:
    p = argparse.ArgumentParser(description="PyTorch reference for etaprobe's CIFAR ResNet-18.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="load an etaprobe checkpoint strictly and run a forward pass")
    c.add_argument("checkpoint", help="path to a .safetensors checkpoint")
    c.add_argument("--classes", type=positive, default=None,
                   help="number of classes (default: rows of the file's fc.weight, else 10)")
    c.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    c.set_defaults(func=cmd_check)

    b = sub.add_parser("bench", help="CPU training throughput on random CIFAR-shaped data")
    b.add_argument("--batch-size", type=positive, required=True)
    b.add_argument("--steps", type=positive, default=20, help="timed steps (default 20)")
    b.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    b.add_argument("--threads", type=positive, default=None, help="CPU threads (default: all cores)")
    b.add_argument("--classes", type=positive, default=10, help="number of classes (default 10)")
    b.set_defaults(func=cmd_bench)

    e = sub.add_parser("evaluate", help="test loss/accuracy of a checkpoint on CIFAR binary files")
    e.add_argument("checkpoint")
    e.add_argument("--data", required=True, help="folder of the CIFAR binary batches")
    e.add_argument("--cifar100", action="store_true", help="CIFAR-100 files (fine labels)")
    e.set_defaults(func=cmd_evaluate)

    args = p.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
