"""Cache-blocked, allocation-free CPU steps for chainer's Adam, MomentumSGD and SGD rules.

Chainer's CPU rules evaluate their formulas on whole arrays: Adam makes about ten passes
over parameter-sized arrays and allocates as many temporaries, for every parameter at every
step, so on a CPU its step is memory-bound and costs about as much as the GEMMs of a small
MLP (M1 784-500-500-20: ~5 ms a step next to ~8 ms of GEMMs, docs/performance.md). Here the
same formulas run on blocks of :data:`BLOCK` elements, in place with one scratch buffer, so
each block stays in the L2 cache and every array is read and written about once.

Same hyperparameters, same state (``m``, ``v``) and serialisation; results equal chainer's
up to float rounding (the products are grouped differently). Only contiguous NumPy float32 /
float64 parameters go the blocked way, and Adam only without ``amsgrad``, ``adabound`` and
weight decay; everything else (GPU, iDeep, float16) runs chainer's own code.

:func:`fuse` switches the rules of an optimizer that is already set up; :func:`fuse_updater`
does it for every optimizer of an updater. ``expkit`` calls it when it builds a training
stage's Trainer, so neither the updaters nor the scripts mention it.
"""
import chainer_compat  # noqa: F401  (before chainer)
import numpy
from chainer.optimizers import adam, momentum_sgd, sgd

#: elements per block: 7 float32 arrays of this size (~1.8 MB) fit a 2 MB L2
BLOCK = 65536
_scratch = {}


def _scratch_for(dtype):
    if dtype not in _scratch:
        _scratch[dtype] = numpy.empty(BLOCK, dtype)
    return _scratch[dtype]


def _flat(param, state):
    """Flat views of data, grad and ``state`` arrays, or None if any is not a plain,
    C-contiguous float32/float64 NumPy array."""
    arrays = [param.data, param.grad] + [state[k] for k in ('m', 'v') if k in state]
    for a in arrays:
        if type(a) is not numpy.ndarray or not a.flags.c_contiguous or \
                a.dtype not in (numpy.float32, numpy.float64) or a.dtype != arrays[0].dtype:
            return None
    return [a.reshape(-1) for a in arrays]


class FusedAdamMixin(object):
    """Adam (Kingma & Ba, Algorithm 1, as chainer writes it), block by block:
    m += (1 - beta1)(g - m); v += (1 - beta2)(g^2 - v); p -= eta alpha_t m / (sqrt(v) + eps)."""

    def update_core_cpu(self, param):
        hp = self.hyperparam
        flat = None if param.grad is None or hp.amsgrad or hp.adabound or \
            hp.weight_decay_rate != 0 else _flat(param, self.state)
        if flat is None:
            return super().update_core_cpu(param)
        self._check_eps(param.dtype.type)
        p, g, m, v = flat
        c1, c2, eps = 1.0 - hp.beta1, 1.0 - hp.beta2, hp.eps
        lr = hp.eta * self.alpha_t
        scratch = _scratch_for(p.dtype)
        for s in range(0, p.size, BLOCK):
            e = min(s + BLOCK, p.size)
            gs, ms, vs, t = g[s:e], m[s:e], v[s:e], scratch[:e - s]
            numpy.subtract(gs, ms, out=t)
            t *= c1
            ms += t                                   # m += (1 - beta1)(g - m)
            numpy.multiply(gs, gs, out=t)
            t -= vs
            t *= c2
            vs += t                                   # v += (1 - beta2)(g^2 - v)
            numpy.sqrt(vs, out=t)
            t += eps
            numpy.divide(ms, t, out=t)
            t *= lr
            p[s:e] -= t                               # p -= eta alpha_t m / (sqrt(v) + eps)


class FusedMomentumSGDMixin(object):
    """Momentum SGD as chainer writes it, block by block: v = mu v - lr g; p += v."""

    def update_core_cpu(self, param):
        flat = None if param.grad is None else _flat(param, self.state)
        if flat is None or 'v' not in self.state:
            return super().update_core_cpu(param)
        p, g, v = flat
        hp = self.hyperparam
        scratch = _scratch_for(p.dtype)
        for s in range(0, p.size, BLOCK):
            e = min(s + BLOCK, p.size)
            vs, t = v[s:e], scratch[:e - s]
            vs *= hp.momentum
            numpy.multiply(g[s:e], hp.lr, out=t)
            vs -= t                                   # v = mu v - lr g
            p[s:e] += vs                              # p += v


class FusedSGDMixin(object):
    """Plain SGD, block by block without the parameter-sized temporary: p -= lr g."""

    def update_core_cpu(self, param):
        flat = None if param.grad is None else _flat(param, self.state)
        if flat is None:
            return super().update_core_cpu(param)
        p, g = flat
        lr = self.hyperparam.lr
        scratch = _scratch_for(p.dtype)
        for s in range(0, p.size, BLOCK):
            e = min(s + BLOCK, p.size)
            t = scratch[:e - s]
            numpy.multiply(g[s:e], lr, out=t)
            p[s:e] -= t                               # p -= lr g


_MIXINS = ((adam.AdamRule, FusedAdamMixin), (momentum_sgd.MomentumSGDRule, FusedMomentumSGDMixin),
           (sgd.SGDRule, FusedSGDMixin))
_classes = {}


def fused_class(rule_class):
    """The blocked subclass of an Adam/MomentumSGD/SGD rule class (its subclasses included, e.g.
    ``vae.optim``'s IWAE rule), or None for other rules."""
    if issubclass(rule_class, tuple(m for _, m in _MIXINS)):
        return rule_class                             # already fused
    for base, mixin in _MIXINS:
        if issubclass(rule_class, base):
            if rule_class not in _classes:
                _classes[rule_class] = type('Fused' + rule_class.__name__, (mixin, rule_class),
                                            {'__module__': __name__})
            return _classes[rule_class]
    return None


def fuse(optimizer):
    """Give every parameter rule of ``optimizer`` (set up) its blocked CPU step; returns the
    optimizer. Rules of other kinds, and hooks, are left alone."""
    target = getattr(optimizer, 'target', None)
    if target is None:
        return optimizer
    rules = [p.update_rule for p in target.params()]
    rules += list(getattr(optimizer, 'aae_rules', {}).values())   # aae.optim.bind's copies
    for rule in rules:
        if rule is not None:
            cls = fused_class(type(rule))
            if cls is not None and type(rule) is not cls:
                rule.__class__ = cls
    return optimizer


def fuse_updater(updater):
    """:func:`fuse` every optimizer of ``updater``; returns the updater."""
    for optimizer in updater.get_all_optimizers().values():
        fuse(optimizer)
    return updater


class FlushDenormals(object):
    """Update-rule hook (after the update, every ``every`` updates): set to zero the float32
    values below the smallest normal number (1.2e-38) in the parameter and its optimiser
    state, on the CPU. With weight decay, the weights of dead ReLU units get no gradient and
    shrink geometrically until they are subnormal; CPU arithmetic on subnormals is ~10x slower
    (measured: Doersch's CVAE fell from 29 to 8 updates/s after 10 epochs with 24 % of its first
    encoder matrix subnormal). Values that small change no output in float32 sums."""
    name = 'FlushDenormals'
    call_for_each_param = True
    timing = 'post'

    def __init__(self, every=100):
        self.every = every

    def __call__(self, rule, param):
        if rule.t % self.every:
            return
        for array in [param.array] + list((rule.state or {}).values()):
            if isinstance(array, numpy.ndarray) and array.dtype == numpy.float32:
                numpy.copyto(array, 0, where=numpy.abs(array) < numpy.finfo(numpy.float32).tiny)
