"""The backward engine: accumulation, graph freeing, higher order, hooks, modes."""

import gc
import tracemalloc

import numpy
import pytest

import minigrad
from minigrad.autograd.function import Context


def test_gradient_accumulates_over_two_paths():
    # y = x*x + 3x  ->  dy/dx = 2x + 3 = 7 at x = 2
    x = minigrad.tensor(2.0, requires_grad=True)
    (x * x + 3 * x).backward()
    assert x.grad.item() == 7.0


def test_backward_adds_to_existing_grad():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_leaf_grads_never_share_memory():
    # Add passes the same gradient to both inputs; each .grad must be its own array.
    a = minigrad.tensor([1.0], requires_grad=True)
    b = minigrad.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(10)
    assert b.grad.tolist() == [1.0]


def test_backward_on_non_scalar_needs_a_gradient():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(minigrad.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_backward_twice_without_retain_graph_fails():
    x = minigrad.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = minigrad.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_backward_on_tensor_without_grad_fails():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor(1.0).backward()


def test_second_derivative_with_create_graph():
    # f = x^3: f' = 3x^2 = 12, f'' = 6x = 12 at x = 2
    x = minigrad.tensor(2.0, requires_grad=True)
    y = x**3
    y.backward(create_graph=True)
    first = x.grad
    assert first.item() == 12.0 and first.requires_grad
    x.grad = None
    first.backward()
    assert x.grad.item() == 12.0


def test_hessian_vector_product():
    # f(x) = sum(x_i^2 * x_j) over i, j; compare H v with the hand-derived Hessian.
    x = minigrad.tensor(numpy.array([1.0, 2.0, -1.0]), requires_grad=True)
    v = minigrad.tensor(numpy.array([0.5, -1.0, 2.0]))
    f = (x * x).sum() * x.sum()
    (g,) = minigrad.grad(f, x, create_graph=True)
    (hv,) = minigrad.grad((g * v).sum(), x)
    s, xs = x.sum().item(), x.numpy()
    # H_ij = 2 s delta_ij + 2 x_i + 2 x_j
    hessian = 2 * s * numpy.eye(3) + 2 * xs[:, None] + 2 * xs[None, :]
    numpy.testing.assert_allclose(hv.numpy(), hessian @ v.numpy())


def test_grad_returns_without_touching_dot_grad():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    w = minigrad.tensor([3.0, 4.0], requires_grad=True)
    (gx, gw) = minigrad.grad((x * w).sum(), [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None


def test_grad_of_unused_input():
    x = minigrad.tensor(1.0, requires_grad=True)
    unused = minigrad.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        minigrad.grad(x * 2, [x, unused])
    assert minigrad.grad(x * 2, [x, unused], allow_unused=True)[1] is None


def test_grad_with_respect_to_an_intermediate():
    x = minigrad.tensor(2.0, requires_grad=True)
    h = x * 3
    (gh,) = minigrad.grad(h * h, h)
    assert gh.item() == 12.0


def test_hooks_see_and_replace_gradients():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[1.0, 1.0]]
    assert x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_a_leaf_hook_runs_once_on_the_sum_of_every_path():
    # x is used on three paths: d/dx (x*x + 3x) = 2x + 3. PyTorch calls the hook once,
    # with the whole gradient, and accumulates what it returns.
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g.clamp(max=6.0))  # a clipping hook sees the whole gradient
    (x * x + 3 * x).sum().backward()
    assert seen == [[5.0, 7.0]]
    assert x.grad.tolist() == [5.0, 6.0]


def test_a_non_leaf_hook_runs_once_and_its_result_flows_on():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    calls = []
    h.register_hook(lambda g: calls.append(("first", g.tolist())))  # returns None: no change
    h.register_hook(lambda g: g * 10)
    h.register_hook(lambda g: calls.append(("third", g.tolist())))  # sees the second's result
    (h * h + h).sum().backward()  # dL/dh = 2h + 1 = [5, 9]
    assert calls == [("first", [5.0, 9.0]), ("third", [50.0, 90.0])]
    assert x.grad.tolist() == [100.0, 180.0]  # dh/dx = 2


def test_leaf_hooks_with_grad_and_create_graph():
    # grad(): the hook also runs once, and its result is what grad() returns.
    x = minigrad.tensor(3.0, requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.item()) or g * 2)
    (gx,) = minigrad.grad(x * x * x + x * x, x, create_graph=True)  # 3x^2 + 2x = 33
    assert calls == [33.0] and gx.item() == 66.0
    # create_graph: the hook's result keeps its graph, so it can be differentiated.
    (ggx,) = minigrad.grad(gx, x)  # d/dx 2 (3x^2 + 2x) = 12x + 4 = 40 (the hook runs again)
    assert ggx.item() == 80.0
    x.grad = None
    (x * x).backward(create_graph=True)  # hook doubles 2x = 6 -> 12
    assert x.grad.item() == 12.0 and x.grad.requires_grad


def test_a_gradient_a_hook_keeps_is_not_changed_by_the_next_backward():
    # .grad accumulates in place: it must not be the array a hook logged.
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(seen.append)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert [g.tolist() for g in seen] == [[3.0, 3.0], [3.0, 3.0]]
    assert x.grad.tolist() == [6.0, 6.0]


def test_a_hook_that_returns_another_shape_or_no_tensor_is_an_error():
    # PyTorch: "hook 'summed' has changed the size of value"; a leaf got a (,) .grad here.
    def summed(g):
        return g.sum()

    leaf = minigrad.tensor([1.0, 2.0], requires_grad=True)
    leaf.register_hook(summed)
    with pytest.raises(RuntimeError, match=r"hook 'summed' has changed the size.*\(\) for"):
        (leaf * 3).sum().backward()
    assert leaf.grad is None
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    non_leaf = x * 2
    non_leaf.register_hook(lambda g: g.tolist())
    with pytest.raises(TypeError, match=r"returned a list: a hook returns a Tensor"):
        (non_leaf * 3).sum().backward()


def test_retain_grad_keeps_intermediate_gradient():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    assert (x * 2).grad is None


def test_backward_inputs_limits_accumulation():
    a = minigrad.tensor(1.0, requires_grad=True)
    b = minigrad.tensor(1.0, requires_grad=True)
    (a * b * 2).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_no_grad_and_enable_grad():
    x = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.no_grad():
        assert not (x * 2).requires_grad
        with minigrad.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @minigrad.no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(x).requires_grad
    minigrad.set_grad_enabled(False)
    assert not minigrad.is_grad_enabled()
    minigrad.set_grad_enabled(True)
    with minigrad.set_grad_enabled(False):
        assert not (x + 1).requires_grad
    assert minigrad.is_grad_enabled()


def test_detect_anomaly_names_the_forward_op():
    x = minigrad.tensor([0.0, 1.0], requires_grad=True)
    with minigrad.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Log \(forward\) produced inf"):
            x.log()
    with numpy.errstate(divide="ignore"):
        x.log()  # outside the context the same op is allowed to make -inf


def test_detect_anomaly_names_the_backward_op():
    x = minigrad.tensor([0.0, 1.0], requires_grad=True)
    with minigrad.detect_anomaly(), numpy.errstate(divide="ignore"):
        y = x.sqrt()  # sqrt(0) = 0 is fine forward; its derivative 1/(2*0) is inf
        with pytest.raises(RuntimeError, match=r"Sqrt \(backward, in its Div\) produced inf"):
            y.sum().backward()


def test_inplace_change_of_a_saved_tensor_is_caught():
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    x = minigrad.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.add_(1.0)  # x was saved for dy/dw
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_needs_no_grad():
    w = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1.0
    with minigrad.no_grad():
        w -= 0.5
    assert w.tolist() == [0.5]


def test_user_function_subclass():
    class Cube(minigrad.Function):
        """y = x^3;  dy/dx = 3x^2"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    x = minigrad.tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.tolist() == [1.0, -8.0]
    assert isinstance(y.grad_fn, Context) and y.grad_fn.name == "Cube"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_backward_returning_a_wrong_shape_names_the_broadcast_axes():
    class Forgetful(minigrad.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # forgot to sum the broadcast gradient for b

    a = minigrad.ones(2, 3, requires_grad=True)
    b = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\) for input 1.*axes \(0,\)"):
        Forgetful.apply(a, b).sum().backward()


def test_million_op_chain_backpropagates_iteratively():
    x = minigrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()  # a recursive topological sort would hit RecursionError here
    assert x.grad.item() == 1.0


def test_freed_graph_releases_memory():
    # After backward, nodes drop what they saved: memory returns to where it was.
    gc.collect()
    tracemalloc.start()
    x = minigrad.tensor(numpy.ones(10_000), requires_grad=True)
    before = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(50):
        y = (y * 1.0001).tanh()
    during = tracemalloc.get_traced_memory()[0]
    y.sum().backward()
    del y
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert during - before > 50 * 80_000  # the graph held ~100 arrays of 80 kB
    assert after - before < 3 * 80_000  # only x.grad (and small change) remains


def test_an_op_may_put_its_output_on_another_backend():
    # ToDevice does this: its forward sets ctx.backend to the target device's backend,
    # and the output Tensor (a 0-d one too) must belong to that backend.
    from minigrad.autograd.function import Function
    from minigrad.backend.numpy_backend import NumpyBackend

    other = NumpyBackend()  # a stand-in for a second device

    class Move(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.backend = other
            return other.asarray(x) * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    for shape in [(), (2,)]:
        x = minigrad.ones(*shape, device="cpu", requires_grad=True)
        y = Move.apply(x)
        assert y._backend is other and y.shape == shape
