"""Pictures of what happened: the computation graph as Graphviz DOT, training curves as PNG.

The graph that ``backward`` walks is made of Context nodes (one per recorded
op, ``tensor.grad_fn``); each node's ``edges`` lead to the nodes that made its
inputs, to leaf Tensors (the ones you created, with ``requires_grad=True``), or
to None for inputs that need no gradient. ``to_dot`` draws exactly that graph,
with the data flowing downwards: leaves at the top, the output at the bottom.

    >>> import minigrad
    >>> w = minigrad.ones(3, requires_grad=True)
    >>> loss = (w * 2).sum()
    >>> print(to_dot(loss).splitlines()[0])
    digraph minigrad {
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

_LEAF_STYLE = 'shape=box, style="rounded,filled", fillcolor="#cfe8fc"'
_OP_STYLE = 'shape=box, style=filled, fillcolor="#eeeeee"'
_OUT_STYLE = 'shape=box, style="rounded,filled", fillcolor="#c9f2c9"'


def to_dot(tensor, names=None) -> str:
    """The graph that produced ``tensor``, as Graphviz DOT text.

    Ops show their name and output shape; leaves show their shape and whether
    they require grad; ``names`` (a dict name -> Tensor, e.g.
    ``dict(model.named_parameters())``) labels the leaves it contains. The walk
    is iterative, so graphs of any depth work.

    >>> import minigrad
    >>> x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    >>> dot = to_dot((x * x).sum(), names={"x": x})
    >>> "Mul" in dot and "x\\\\n(2,)" in dot
    True
    """
    label_of = {id(t): name for name, t in (names or {}).items()}
    lines = ["digraph minigrad {", "  rankdir=TB;", '  node [fontname="monospace", fontsize=10];']
    out_id = f"t{id(tensor)}"
    shape = tuple(tensor.shape)
    out_label = label_of.get(id(tensor), "output")
    if tensor.grad_fn is None:  # a lone tensor: nothing was recorded
        lines.append(f"  {out_id} [label={_quote(_leaf_label(tensor, out_label))}, {_LEAF_STYLE}];")
        return "\n".join([*lines, "}"]) + "\n"
    out_text = _quote(f"{out_label}\n{shape}")
    lines.append(f"  {out_id} [label={out_text}, {_OUT_STYLE}];")
    lines.append(f"  {_node_id(tensor.grad_fn)} -> {out_id};")
    seen = {id(tensor.grad_fn)}
    stack = [tensor.grad_fn]
    while stack:  # depth-first over Context nodes, with an explicit stack
        ctx = stack.pop()
        label = f"{ctx.name}\n{tuple(getattr(ctx, '_out_shape', ()))}"
        lines.append(f"  {_node_id(ctx)} [label={_quote(label)}, {_OP_STYLE}];")
        for edge in getattr(ctx, "edges", ()) or ():
            if edge is None:  # an input that needs no gradient is not part of the graph
                continue
            lines.append(f"  {_node_id(edge)} -> {_node_id(ctx)};")
            if id(edge) in seen:
                continue
            seen.add(id(edge))
            if _is_context(edge):
                stack.append(edge)
            else:
                label = _leaf_label(edge, label_of.get(id(edge)))
                lines.append(f"  {_node_id(edge)} [label={_quote(label)}, {_LEAF_STYLE}];")
    return "\n".join([*lines, "}"]) + "\n"


def draw(tensor, path, names=None) -> str:
    """Render the graph of ``tensor`` to ``path`` (.svg, .png, .pdf or .dot); return the path.

    Rendering needs Graphviz's ``dot`` program. Without it, the DOT text is
    written next to ``path`` with the suffix ``.dot`` and a warning says so
    (paste the text into any Graphviz viewer, or install Graphviz).

    >>> import os, tempfile
    >>> import minigrad
    >>> x = minigrad.ones(2, requires_grad=True)
    >>> out = draw((x + 1).sum(), os.path.join(tempfile.mkdtemp(), "graph.dot"))
    >>> out.endswith("graph.dot")
    True
    """
    path = os.fspath(path)
    text = to_dot(tensor, names)
    root, suffix = os.path.splitext(path)
    fmt = suffix.lstrip(".").lower()
    if fmt == "dot":
        return _write_text(path, text)
    dot = shutil.which("dot")
    if dot is None:
        dot_path = _write_text(root + ".dot", text)
        warnings.warn(
            f"Graphviz's 'dot' program is not installed, so {path} was not rendered; "
            f"the graph was written as DOT text to {dot_path} instead "
            "(install Graphviz, e.g. apt install graphviz, to get images)",
            stacklevel=2,
        )
        return dot_path
    # an argument list and no shell: the path is never interpreted by a shell
    subprocess.run(
        [dot, f"-T{fmt or 'svg'}", "-o", path],
        input=text.encode("utf-8"),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


def plot_history(history, path, title=None) -> str:
    """Draw learning curves to a PNG: loss, each metric (train and validation), learning rate.

    ``history`` is a ``minigrad.train.History`` or a dict of per-epoch lists such as
    ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``. Needs matplotlib:
    ``pip install 'minigrad[plot]'``.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "curves.png")
    >>> plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, path) == path
    True
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # draw to files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting learning curves needs matplotlib: pip install 'minigrad[plot]'"
        ) from None
    logs = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    names = [k for k in logs if not k.startswith("val_") and k != "lr" and logs[k]]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs and logs[k]]
    panels = names + (["lr"] if logs.get("lr") else [])
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.5), squeeze=False)
    for ax, name in zip(axes[0], panels):
        keys = [("lr", "-")] if name == "lr" else [(name, "-"), ("val_" + name, "--")]
        for key, style in keys:
            values = logs.get(key) or []
            points = [(i + 1, v) for i, v in enumerate(values) if v is not None]
            if points:
                epochs, ys = zip(*points)
                ax.plot(epochs, ys, style, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_title("learning rate" if name == "lr" else name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(os.fspath(path), dpi=100)
    plt.close(figure)
    return os.fspath(path)


# --- helpers ------------------------------------------------------------------------
def _is_context(node) -> bool:
    from minigrad.autograd.function import Context

    return isinstance(node, Context)


def _node_id(node) -> str:
    return f"{'n' if _is_context(node) else 't'}{id(node)}"


def _leaf_label(tensor, name=None) -> str:
    grad = "requires_grad" if tensor.requires_grad else "no grad"
    return f"{name or 'leaf'}\n{tuple(tensor.shape)}\n{grad}"


def _quote(text: str) -> str:
    """A DOT string literal: quotes and backslashes escaped, newlines as \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _write_text(path: str, text: str) -> str:
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


__all__ = ["draw", "plot_history", "to_dot"]
