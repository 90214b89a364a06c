"""viz: the graph as DOT text, rendering through Graphviz, learning curves as PNG."""

import os
import re
import stat
import sys

import pytest

import minigrad
from minigrad import viz


def nodes_and_edges(dot):
    labels = dict(re.findall(r'^\s+(\w+) \[label="([^"]*)"', dot, flags=re.M))
    edges = re.findall(r"^\s+(\w+) -> (\w+);", dot, flags=re.M)
    return labels, edges


def test_to_dot_shows_ops_shapes_and_leaves():
    w = minigrad.ones(3, 2, requires_grad=True)
    x = minigrad.ones(4, 3)  # needs no grad: not part of the graph
    loss = (x @ w).relu().sum()
    labels, edges = nodes_and_edges(viz.to_dot(loss, names={"w": w}))
    node = {label: name for name, label in labels.items()}
    assert sorted(labels.values()) == sorted(
        [
            "w\\n(3, 2)\\nrequires_grad",
            "Matmul\\n(4, 2)",
            "Relu\\n(4, 2)",
            "Sum\\n()",
            "output\\n()",
        ]
    )
    # the data flows down: leaf -> matmul -> relu -> sum -> output
    path = [
        "w\\n(3, 2)\\nrequires_grad",
        "Matmul\\n(4, 2)",
        "Relu\\n(4, 2)",
        "Sum\\n()",
        "output\\n()",
    ]
    assert sorted(edges) == sorted((node[a], node[b]) for a, b in zip(path, path[1:]))


def test_a_leaf_used_twice_appears_once_with_two_edges():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    labels, edges = nodes_and_edges(viz.to_dot((x * x).sum()))
    leaves = [n for n, lab in labels.items() if lab.startswith("leaf")]
    assert len(leaves) == 1 and sum(1 for a, _ in edges if a == leaves[0]) == 2


def test_a_lone_tensor_is_one_node():
    labels, edges = nodes_and_edges(viz.to_dot(minigrad.zeros(2)))
    assert list(labels.values()) == ["output\\n(2,)\\nno grad"] and edges == []


def test_a_very_deep_graph_needs_no_recursion():
    x = minigrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):  # far deeper than Python's recursion limit
        y = y * 1.0
    labels, edges = nodes_and_edges(viz.to_dot(y))
    assert len(labels) == 20_002 and len(edges) == 20_001


def test_draw_without_graphviz_writes_the_dot_file(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    x = minigrad.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="Graphviz's 'dot' program is not installed"):
        out = viz.draw((x + 1).sum(), tmp_path / "graph.svg")
    assert out == str(tmp_path / "graph.dot")
    assert open(out).read().startswith("digraph minigrad {")
    assert not (tmp_path / "graph.svg").exists()


@pytest.mark.skipif(os.name != "posix", reason="a fake 'dot' script needs a POSIX shell-less exec")
def test_draw_runs_dot_with_the_format_of_the_suffix(tmp_path, monkeypatch):
    # A stand-in for Graphviz: records its arguments, copies stdin to the -o file.
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "out = args[args.index('-o') + 1]\n"
        "open(out, 'w').write(' '.join(args[:1]) + '\\n' + sys.stdin.read())\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    x = minigrad.ones(2, requires_grad=True)
    target = tmp_path / "my graph; rm -rf x.png"  # a path a shell would misread
    out = viz.draw((x * 2).sum(), target)
    assert out == str(target)
    text = target.read_text()
    assert text.startswith("-Tpng\ndigraph minigrad {")


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.train import History

    history = History({"loss": [1.0, 0.5], "val_loss": [1.2, 0.8], "accuracy": [0.5, 0.8],
                       "val_accuracy": [0.4, 0.7], "lr": [0.1, 0.05]})  # fmt: skip
    path = history.plot(tmp_path / "curves.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_history_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    from minigrad.train import History

    with pytest.raises(ImportError, match=r"pip install 'minigrad\[plot\]'"):
        History({"loss": [1.0]}).plot(tmp_path / "curves.png")
