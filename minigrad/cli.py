"""The ``minigrad`` command: ``minigrad demo`` trains a digit classifier end to end;
``minigrad info`` says what this installation runs on.

    minigrad demo [--model mlp|cnn] [--device cpu|cuda|strict] [--epochs N] [--seed S] [--out DIR]
    mpiexec -n 2 minigrad demo --distributed     # data-parallel, on 2 processes
    minigrad info

The demo is the whole journey in one page of code (``demo`` below): split the
data (stratified), fit a scaler on the training part only, train while
watching a validation set, stop early, keep the best model in a file, load it
into a fresh model as a user elsewhere would, and measure it once on the test
set, which nothing before looked at.

    >>> main(["info"])  # doctest: +ELLIPSIS
    minigrad ...
    0
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

DEFAULT_EPOCHS = {"mlp": 30, "cnn": 30}
LEARNING_RATE = {"mlp": 3e-3, "cnn": 2e-3}
WEIGHT_DECAY = 1e-4  # the L2 penalty, added to the gradient by Adam
BATCH_SIZE = 64
PATIENCE = 8


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # every option after "bench" belongs to the benchmark suite
        return _guarded("bench", lambda: bench(argv[1:]))
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return _guarded(args.command, lambda: args.run(args))


def _guarded(command, run) -> int:
    try:
        return run()
    except CommandError as error:  # a problem with the arguments or the machine, not a bug
        print(f"minigrad {command}: error: {error}", file=sys.stderr)
        return 1


class CommandError(Exception):
    """Something the user can fix (a device that is not there, a folder not writable)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad", description="minigrad: an autograd engine to learn deep learning from"
    )
    commands = parser.add_subparsers(dest="command", metavar="{demo,info,bench}")
    demo_parser = commands.add_parser(
        "demo",
        help="train a digit classifier, keep the best model, test it",
        description=(
            "Train a classifier on the bundled 8x8 handwritten digits, end to end: a\n"
            "stratified train / validation / test split, a scaler fitted on the training\n"
            "images only, Adam with an L2 penalty and a cosine learning-rate schedule,\n"
            "early stopping and a best-model checkpoint on the validation loss. Then the\n"
            "best model is loaded from its file into a fresh model and measured once on\n"
            "the test images."
        ),
        epilog=(
            "examples:\n"
            "  minigrad demo                          the MLP on the CPU, seed 0\n"
            "  minigrad demo --model cnn --seed 3     the CNN, another split and init\n"
            "  minigrad demo --device cuda --quiet    on the GPU, without progress bars"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo_parser.add_argument(
        "--model",
        choices=["mlp", "cnn"],
        default="mlp",
        help="the network: mlp (64 pixels -> 128 ReLU units with dropout -> 10 digits; "
        "about 1 s on a CPU) or cnn (two 3x3 convolutions, max-pooling, a 64-unit layer; "
        "about 3 s). Default: mlp",
    )
    demo_parser.add_argument(
        "--device",
        default="cpu",
        help="where to train: cpu, cuda or cuda:N (a GPU needs CuPy: pip install -e "
        "'.[cuda12]'), or strict: CuPy's rules on the cpu, for testing. Default: cpu",
    )
    demo_parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=None,
        help=f"the most epochs to train; early stopping ends sooner when the validation "
        f"loss has not improved for {PATIENCE} epochs. Default: {DEFAULT_EPOCHS['mlp']}",
    )
    demo_parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seeds everything random: the data split, the initial weights, dropout and "
        "shuffling. The same seed gives the same run. Default: 0",
    )
    demo_parser.add_argument(
        "--out",
        default="minigrad-demo",
        help="folder for the files (created if missing): best.safetensors (the best "
        "model), scaler.safetensors, history.json and curves.png (with matplotlib). "
        "Default: minigrad-demo",
    )
    demo_parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars while training; the summary lines still print",
    )
    demo_parser.add_argument(
        "--compile",
        action="store_true",
        help="train through minigrad.compile: each step traced once, then replayed as "
        "plain array calls (the same results, bit for bit)",
    )
    demo_parser.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over the processes of mpiexec -n N (each takes 1/N of each batch)",
    )
    demo_parser.set_defaults(run=demo)
    info_parser = commands.add_parser("info", help="versions, BLAS, backends and GPUs")
    info_parser.set_defaults(run=info)
    commands.add_parser("bench", help="CPU vs GPU benchmarks (options: minigrad bench --help)")
    return parser


# --- minigrad bench -------------------------------------------------------------------
def bench(options) -> int:
    """Run the benchmark suite (``python -m benchmarks``) of the source checkout.

    The suite lives in the repository's ``benchmarks/`` folder, beside the
    ``minigrad/`` package of an editable install (``pip install -e .``).
    """
    import minigrad

    root = pathlib.Path(minigrad.__file__).resolve().parents[1]
    if not (root / "benchmarks" / "__main__.py").is_file():
        raise CommandError(
            f"no benchmarks/ folder beside {root / 'minigrad'}: the benchmarks come with the "
            "source repository; clone it and install it with pip install -e ."
        )
    sys.path.insert(0, str(root))
    from benchmarks.__main__ import main as run_benchmarks

    return run_benchmarks(options) or 0


# --- minigrad demo --------------------------------------------------------------------
def demo(args) -> int:
    """Train, select, save, reload and test a digit classifier; print what happens."""
    import minigrad
    from minigrad import nn, optim
    from minigrad.data import DataLoader, DistributedSampler, StandardScaler, TensorDataset
    from minigrad.io import load, save
    from minigrad.train import EarlyStopping, ModelCheckpoint, confusion_matrix, fit, predict

    start = time.perf_counter()
    kind, device, seed = args.model, args.device, args.seed
    epochs = args.epochs or DEFAULT_EPOCHS[kind]
    _check_device(device)
    rank, world_size = _join_world(args.distributed, device)
    say = print if rank == 0 else _silent  # one voice: rank 0 prints, the others train
    minigrad.manual_seed(seed + rank)  # dropout differs per rank; the weights come from rank 0
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot create the output folder {args.out!r}: {error}") from None
    best_path = os.path.join(args.out, "best.safetensors")
    scaler_path = os.path.join(args.out, "scaler.safetensors")

    # 1. Data: a stratified split into train / validation / test, each with every digit
    #    in the same proportions. The scaler learns its numbers from the training part
    #    only: the validation and test sets must look like new data.
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = _split_digits(seed)
    scaler = StandardScaler().fit(_pixels(X_train, kind))
    if rank == 0:
        save(scaler.get_state(), scaler_path)
    say(f"minigrad demo: a {kind} learns the 8x8 handwritten digits, on {device}, seed {seed}")
    say(
        f"data: {len(y_train)} train / {len(y_val)} validation / {len(y_test)} test images "
        "(stratified split); scaler fitted on the training images only"
    )
    train_set = TensorDataset(_inputs(scaler, X_train, kind), y_train)
    val_set = TensorDataset(_inputs(scaler, X_val, kind), y_val)
    if args.distributed:  # each rank takes its share of every epoch, 1/N of each batch
        train_loader = DataLoader(
            train_set,
            batch_size=BATCH_SIZE // world_size,
            sampler=DistributedSampler(train_set, shuffle=True, seed=seed),
            device=device,
        )
        val_sampler = DistributedSampler(val_set, shuffle=False)
        val_loader = DataLoader(val_set, batch_size=512, sampler=val_sampler, device=device)
        say(
            f"data parallel: {world_size} process{'es' if world_size > 1 else ''}, "
            f"{BATCH_SIZE // world_size} images each per batch"
        )
    else:
        train_loader = DataLoader(
            train_set, batch_size=BATCH_SIZE, shuffle=True, seed=seed, device=device
        )
        val_loader = DataLoader(val_set, batch_size=512, device=device)

    # 2. Model, loss, optimizer with an L2 penalty, and a cosine learning-rate schedule.
    model = build_model(kind).to(device)
    if args.distributed:  # rank 0's weights everywhere; gradients averaged after backward
        model = nn.DistributedDataParallel(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE[kind], weight_decay=WEIGHT_DECAY)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"model: {n_params:,} parameters\n{model}")
    say(
        f"training: Adam(lr={LEARNING_RATE[kind]}, weight_decay={WEIGHT_DECAY} (L2)), "
        f"CosineAnnealingLR over {epochs} epochs, batch size {BATCH_SIZE}, "
        f"early stopping (patience {PATIENCE}) and best-model checkpoint on val_loss"
    )

    # 3. Train, watching the validation loss: stop when it stops improving and keep the
    #    weights of the best epoch in a file.
    stopper = EarlyStopping(monitor="val_loss", patience=PATIENCE, mode="min")
    checkpoint = ModelCheckpoint(best_path, monitor="val_loss", mode="min", save_best_only=True)
    history = fit(
        model,
        loss_fn,
        optimizer,
        train_loader,
        val_loader,
        epochs=epochs,
        scheduler=scheduler,
        metrics=["accuracy"],
        callbacks=[stopper, checkpoint],
        progress=not args.quiet,
        compile=args.compile,
    )
    ran = len(history)
    if rank != 0:  # the test and the files are rank 0's alone
        _leave_world(args.distributed)
        return 0
    if stopper.stopped_epoch is not None and ran < epochs:
        print(f"early stopping: no better val_loss for {PATIENCE} epochs, stopped after {ran}")
    best = checkpoint.best_epoch
    print(
        f"best epoch: {best + 1} of {ran} (val_loss {history['val_loss'][best]:.4f}, "
        f"val_accuracy {history['val_accuracy'][best]:.4f}), saved in {best_path}"
    )

    # 4. As a user elsewhere would: a fresh model and scaler, loaded from the files,
    #    measured once on the test images that nothing above has seen.
    fresh = build_model(kind).to(device)
    fresh.load_state_dict(_plain_weights(load(best_path, device=device)))
    fresh_scaler = StandardScaler.from_state(load(scaler_path))
    X_test_in = minigrad.as_tensor(_inputs(fresh_scaler, X_test, kind)).to(device)
    predicted = predict(fresh, X_test_in).argmax(dim=1).numpy()
    correct = int((predicted == y_test).sum())
    print(f"loaded {best_path} into a fresh model")
    print(f"test accuracy: {correct / len(y_test):.4f} ({correct}/{len(y_test)} test images)")
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print(_format_matrix(confusion_matrix(predicted, y_test, num_classes=10)))

    # 5. Files: the learning curves (if matplotlib is there) and the history as JSON.
    with open(os.path.join(args.out, "history.json"), "w", encoding="utf-8") as file:
        json.dump(history.to_dict(), file, indent=1)
    try:
        curves = history.plot(os.path.join(args.out, "curves.png"), title=f"minigrad demo: {kind}")
        print(f"learning curves: {curves}")
    except ImportError as error:
        print(f"learning curves: not drawn: {error}")
    print(f"files in {args.out}: {', '.join(sorted(os.listdir(args.out)))}")
    print(f"time: {time.perf_counter() - start:.1f} s")
    _leave_world(args.distributed)
    return 0


def _join_world(distributed: bool, device: str):
    """(rank, world size): of the processes mpiexec started, or (0, 1) alone."""
    if not distributed:
        return 0, 1
    from minigrad import distributed as dist

    try:
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "mpi")
    except (RuntimeError, ImportError) as error:
        raise CommandError(f"--distributed: {error}") from None
    return dist.get_rank(), dist.get_world_size()


def _leave_world(distributed: bool) -> None:
    if distributed:
        from minigrad import distributed as dist

        dist.destroy_process_group()


def _silent(*args, **kwargs) -> None:
    """print's stand-in on ranks other than 0."""


def _plain_weights(state: dict) -> dict:
    """A DistributedDataParallel's state dict (keys "module.0.weight") as the plain
    model's ("0.weight"), as PyTorch users load ``ddp.module``'s weights."""
    return {name.removeprefix("module."): tensor for name, tensor in state.items()}


def build_model(kind: str):
    """The demo's networks. PyTorch would build exactly the same ones with torch.nn.

    >>> sum(p.numel() for p in build_model("mlp").parameters())
    9610
    """
    from minigrad import nn

    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),  # 16 x 8 x 8
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),  # 32 x 8 x 8
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 x 4 x 4
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )
    raise ValueError(f"unknown model {kind!r}: choose 'mlp' or 'cnn'")


def _split_digits(seed: int):
    """(X, y) for train, validation and test: 20% test, then 20% of the rest for validation."""
    from minigrad.data import load_digits, train_test_split

    X, y = load_digits()
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=seed
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=0.2, stratify=y_rest, random_state=seed
    )
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


def _pixels(X, kind: str):
    """What the scaler sees: per-pixel columns for the MLP; for the CNN, all pixel values
    as one column (one mean and std for the image, so that a shifted stroke looks alike)."""
    return X if kind == "mlp" else X.reshape(-1, 1)


def _inputs(scaler, X, kind: str):
    """The network's input: scaled float32 rows (mlp) or 1 x 8 x 8 images (cnn)."""
    import numpy as np

    scaled = scaler.transform(_pixels(X, kind)).astype(np.float32)
    return scaled if kind == "mlp" else scaled.reshape(-1, 1, 8, 8)


def _format_matrix(matrix) -> str:
    width = max(3, len(str(matrix.max())) + 1)
    lines = ["    " + "".join(f"{j:>{width}}" for j in range(matrix.shape[1]))]
    for i, row in enumerate(matrix):
        lines.append(f"{i:>3} " + "".join(f"{int(v):>{width}}" for v in row))
    return "\n".join(lines)


def _check_device(device: str) -> None:
    """Fail early and clearly if ``device`` cannot be used (e.g. cuda without CuPy)."""
    from minigrad.backend import get_backend

    try:
        get_backend(device)
    except (RuntimeError, ValueError) as error:
        raise CommandError(str(error)) from None


# --- minigrad info --------------------------------------------------------------------
def info(args=None) -> int:
    """Print versions, the BLAS that NumPy uses, and which devices minigrad can use."""
    import numpy

    import minigrad

    print(f"minigrad {minigrad.__version__} ({os.path.dirname(minigrad.__file__)})")
    python = f"{platform.python_version()} ({platform.python_implementation()})"
    print(f"python {python} on {platform.platform()}")
    print(f"numpy {numpy.__version__}")
    print(f"BLAS: {_blas_description(numpy)}")
    for name in ("safetensors", "tqdm", "matplotlib", "scipy", "cupy", "mpi4py", "mpich"):
        print(f"  {name}: {_version_of(name)}")
    print("backends:")
    print(f"  cpu: numpy {numpy.__version__}, {os.cpu_count()} CPU cores")
    print(f"  cpu memory: {_cpu_memory_description()}")
    if minigrad.cuda.is_available():
        print(f"  cuda: {_gpu_description()}")
    else:
        print(f"  cuda: not available ({_why_no_cuda()})")
    return 0


def _cpu_memory_description() -> str:
    """Whether freed memory is kept for the next step (minigrad/backend/cpu_memory.py)."""
    from minigrad.backend import cpu_memory

    if cpu_memory.kept:
        return "freed memory kept for reuse (MINIGRAD_KEEP_FREED_MEMORY=0 gives it back)"
    return "malloc's defaults (freed memory kept only with glibc, unless turned off)"


def _blas_description(numpy) -> str:
    """The BLAS library NumPy calls for matmul, and its threads when threadpoolctl is there."""
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return "; ".join(
                f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                for p in pools
            )
    except ImportError:
        pass
    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - older NumPy: the layout differs
        return "unknown (numpy.show_config() prints the build details)"


def _version_of(name: str) -> str:
    from importlib import metadata

    dists = {"cupy": ["cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy"]}.get(name, [name])
    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _gpu_description() -> str:
    import cupy

    names = []
    for index in range(cupy.cuda.runtime.getDeviceCount()):
        props = cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        memory = props.get("totalGlobalMem", 0) / 2**30
        names.append(f"cuda:{index} {name} ({memory:.0f} GiB)")
    return f"cupy {cupy.__version__}; " + ", ".join(names)


def _why_no_cuda() -> str:
    try:
        import cupy  # noqa: F401
    except ImportError:
        return "CuPy is not installed: pip install 'minigrad[cuda12]'"
    return "CuPy is installed but sees no usable GPU"


# --- argument types -------------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
