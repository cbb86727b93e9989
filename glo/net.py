"""GLO's learnable per-image codes; the generator g_theta is DCGAN's (``gan.dcgan.Generator``).

Bojanowski et al., arXiv:1707.05776, §3: every training image x_i gets its own free code
z_i in R^d, optimised jointly with the generator parameters theta,

    min_theta (1/N) sum_i min_{z_i} l(g_theta(z_i), x_i),                          (GLO)

and the codes are kept in the unit l2 ball: after every update z_i <- z_i / max(|z_i|, 1)
(the public reproductions and the seed article). The paper's text, as the seed article
quotes it (its full text is not reachable from here, docs/results/glo.md), says the unit
*sphere*, z_i <- z_i / |z_i|; both are offered (``projection='ball'|'sphere'``).

The codes are one N x d :class:`chainer.Parameter` of a :class:`LatentCodes` link, so the
optimizer updates them, snapshots store them and ``--resume`` restores them like weights.
"""
import numpy

import chainer
import chainer.functions as F
from chainer import backend

#: ``--set projection=...`` choices
PROJECTIONS = ('ball', 'sphere')


def project(z, projection='ball'):
    """Rows of array ``z`` (N, d) onto the unit ball (``/ max(|z|, 1)``) or sphere (``/ |z|``)."""
    xp = backend.get_array_module(z)
    norm = xp.sqrt((z * z).sum(axis=1, keepdims=True))
    if projection == 'ball':
        return z / xp.maximum(norm, 1)                 # z <- z / max(|z|_2, 1)
    if projection == 'sphere':
        return z / xp.maximum(norm, 1e-12)             # z <- z / |z|_2
    raise ValueError('projection must be one of %s, got %r' % (PROJECTIONS, projection))


class LatentCodes(chainer.Link):
    """The codes z_1..z_N of the N training images: one (N, d) parameter ``W``.

    ``codes(idx)`` returns the rows ``W[idx]`` as a Variable; its backward scatters the
    gradient into those rows only (``F.embed_id``), so one SGD step moves the codes of the
    minibatch and leaves the others as they are.
    """

    def __init__(self, n_codes, dim, initial_codes=None, projection='ball'):
        super().__init__()
        if projection not in PROJECTIONS:
            raise ValueError('projection must be one of %s, got %r'
                             % (PROJECTIONS, projection))
        self.n_codes = n_codes
        self.dim = dim
        self.projection = projection
        if initial_codes is None:
            initial_codes = numpy.zeros((n_codes, dim), numpy.float32)
        initial_codes = numpy.array(initial_codes, dtype=numpy.float32)  # a copy
        if initial_codes.shape != (n_codes, dim):
            raise ValueError('initial codes have shape %s, expected %s'
                             % (initial_codes.shape, (n_codes, dim)))
        with self.init_scope():
            self.W = chainer.Parameter(initial_codes)
        self._touched = []           # indices read by forward since the last projection

    def forward(self, idx):
        """z_idx, a (len(idx), d) Variable; ``idx`` is an int array on the same device."""
        self._touched.append(idx)
        return F.embed_id(idx, self.W)

    def project(self, rows=None):
        """Apply the projection in place, to every code or to the codes ``rows`` only."""
        self._touched = []
        w = self.W.array
        if rows is None:
            w[...] = project(w, self.projection)
        else:
            w[rows] = project(w[rows], self.projection)

    def serialize(self, serializer):
        """Also whether the codes had their first full projection (:class:`ProjectCodes`),
        so that a resumed run projects exactly the rows the uninterrupted one would."""
        super().serialize(serializer)
        try:
            self._projected_once = bool(
                serializer('projected_once', getattr(self, '_projected_once', False)))
        except KeyError:        # a snapshot written before this flag existed
            pass

    def touched_rows(self):
        """The distinct indices :meth:`forward` read since the last projection, or None."""
        if not self._touched:
            return None
        xp = backend.get_array_module(self._touched[0])
        return xp.unique(xp.concatenate([xp.ravel(i) for i in self._touched]))


class ProjectCodes(object):
    """Optimizer hook: project the codes after every update (timing ``'post'``).

    ``optimizer.add_hook(ProjectCodes())`` on the optimizer whose target is a
    :class:`LatentCodes` keeps every z_i in the unit ball / sphere, whatever loop updates it.

    Under plain SGD with no other hook (GLO's optimiser), a code whose gradient is zero does
    not move, so after the first full projection only the codes the minibatches read need
    it: on MNIST that is 128 rows instead of 60,000 per step. Any other optimiser (momentum,
    weight decay, ...) gets the full projection every time.
    """

    name = 'ProjectCodes'
    timing = 'post'
    call_for_each_param = False

    def __call__(self, optimizer):
        codes = optimizer.target
        sparse = (type(optimizer) is chainer.optimizers.SGD and
                  _hooks(optimizer) == [self.name] and not _hooks(codes.W.update_rule) and
                  getattr(codes, '_projected_once', False))
        codes.project(codes.touched_rows() if sparse else None)
        codes._projected_once = True


def _hooks(obj):
    """Names of the pre- and post-update hooks of an optimizer or update rule."""
    hookable = getattr(obj, '_hookable', obj)      # chainer 7 keeps them on a _Hookable
    return [name for attr in ('_pre_update_hooks', '_post_update_hooks')
            for name in getattr(hookable, attr, {None: None})]


__all__ = ['PROJECTIONS', 'project', 'LatentCodes', 'ProjectCodes']
