"""The `minigrad` command: the demo trains, keeps its best model and tests it; info reports."""

import json
import os
import re
import subprocess
import sys

import pytest

import minigrad
from minigrad.cli import main
from minigrad.io import load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(minigrad.__file__)))


def test_demo_runs_as_a_command_and_prints_a_test_accuracy(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "minigrad", "demo", "--epochs", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"^test accuracy: ([0-9.]+) \((\d+)/(\d+)", result.stdout, flags=re.M)
    assert match, result.stdout
    accuracy, correct, total = float(match[1]), int(match[2]), int(match[3])
    assert (
        0.0 <= accuracy <= 1.0
        and total == 360
        and accuracy == pytest.approx(correct / total, abs=1e-4)
    )
    assert accuracy > 0.5  # ten classes: chance is 0.1
    assert "confusion matrix" in result.stdout and "epoch 2/2" in result.stderr  # the bars
    assert {"best.safetensors", "scaler.safetensors", "history.json"} <= set(os.listdir(out))
    weights = load(out / "best.safetensors")
    assert weights["0.weight"].shape == (128, 64) and weights["3.weight"].shape == (10, 128)


def test_the_cnn_demo_in_process(tmp_path, capsys):
    assert main(["demo", "--model", "cnn", "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", printed)[1])
    assert 0.3 < accuracy <= 1.0
    assert re.search(r"^  9 +(\d+ +){9}\d+$", printed, flags=re.M)  # the matrix's last row
    assert load(tmp_path / "best.safetensors")["0.weight"].shape == (16, 1, 3, 3)


def test_the_compiled_demo_trains_the_same_model_bit_for_bit(tmp_path, capsys):
    histories = []
    for flags in ([], ["--compile"]):
        out = tmp_path / ("compiled" if flags else "eager")
        assert main(["demo", "--epochs", "4", "--quiet", "--out", str(out), *flags]) == 0
        histories.append(json.loads((out / "history.json").read_text()))
        capsys.readouterr()
    assert histories[0] == histories[1]
    assert len(histories[0]["val_loss"]) == 4


@pytest.mark.skipif(minigrad.cuda.is_available(), reason="this machine has a GPU")
def test_demo_on_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--device", "cuda", "--out", str(tmp_path)]) == 1
    assert "minigrad demo: error:" in capsys.readouterr().err


def test_info_reports_versions_and_devices(capsys):
    assert main(["info"]) == 0
    printed = capsys.readouterr().out
    assert f"minigrad {minigrad.__version__}" in printed
    assert re.search(r"^numpy \d", printed, flags=re.M) and "BLAS:" in printed
    assert "cpu:" in printed and "cuda:" in printed
    from minigrad.backend import cpu_memory

    assert ("freed memory kept for reuse" in printed) is cpu_memory.kept


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["demo", "--model", "resnet"])


def test_demo_help_explains_every_option():
    result = subprocess.run(
        [sys.executable, "-m", "minigrad", "demo", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "8x8 handwritten digits" in text and "examples:" in text
    # Each option's explanation: the text from its flag to the next option's line.
    options = re.split(r"\n  (?=-)", text.split("options:")[1].split("examples:")[0])
    explained = {p.split()[0].rstrip(","): " ".join(p.split()[1:]) for p in options if p.strip()}
    flags = ["--model", "--device", "--epochs", "--seed", "--out", "--quiet"]
    for flag in flags:
        assert len(explained[flag]) > 50, (flag, explained[flag])
    for flag in flags[:-1]:  # every option with a value says its default
        assert "Default:" in explained[flag], flag
    assert "mlp (" in explained["--model"] and "cnn (" in explained["--model"]
    assert "data split" in explained["--seed"] and "initial weights" in explained["--seed"]


def test_bench_hands_its_options_to_the_benchmark_suite(capsys):
    from minigrad.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["bench", "--help"])
    assert stop.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_the_demo_on_the_strict_device_reaches_the_cpus_accuracy(tmp_path, capsys):
    # strict follows CuPy's rules: this is the GPU code path of the whole demo (split,
    # scaler, fit with early stopping and checkpoints, load, test), run without a GPU.
    accuracies = {}
    for device in ("cpu", "strict"):
        out = tmp_path / device
        args = ["demo", "--device", device, "--epochs", "6", "--quiet", "--out", str(out)]
        assert main(args) == 0
        printed = capsys.readouterr().out
        assert f"on {device}, seed 0" in printed
        accuracies[device] = float(re.search(r"test accuracy: ([0-9.]+)", printed)[1])
    assert accuracies["cpu"] > 0.9
    # the same data, split and initial weights; dropout draws from each device's own
    # generator, so the runs differ a little: within 2% of the 360 test digits
    assert accuracies["strict"] == pytest.approx(accuracies["cpu"], abs=0.02)
