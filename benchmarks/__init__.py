"""Side-by-side benchmarks: the repo's updaters vs plain Chainer vs PyTorch (docs/performance.md).

``chainer_compat`` comes first, before NumPy, so every worker gets its OpenBLAS kernel choice.
"""
import chainer_compat  # noqa: F401
