"""Model selection on a validation metric (:class:`SelectBest`), serialised with the trainer
so that a resumed run keeps the best so far."""
import numpy as np

import chainer


class SelectBest(chainer.training.Extension):
    """Model selection on a validation metric: at its trigger, ``evaluate()`` (a float) is
    reported as ``validation/<name>`` (so LogReport and the plots get it) and, when it beats
    the best so far (``mode`` 'min' or 'max'), every link in ``models`` is saved atomically
    as ``model_<key>_best.npz``. The best value and iteration are serialized into trainer
    snapshots, so a resumed run keeps them."""
    priority = chainer.training.PRIORITY_WRITER     # before LogReport reads the observation

    def __init__(self, outputs, name, evaluate, models, mode='min'):
        if mode not in ('min', 'max'):
            raise ValueError("mode must be 'min' or 'max'")
        self.outputs, self.metric, self.evaluate = outputs, name, evaluate
        self.models, self.mode = dict(models), mode
        self.best_value, self.best_iteration = None, -1
        self.restarted_at = None

    def restart(self, iteration):
        """Forget the best so far (its weights are not at hand, e.g. a snapshot resumed
        without its ``model_*_best.npz``): selection starts again from ``iteration``."""
        self.best_value, self.best_iteration, self.restarted_at = None, -1, int(iteration)

    def files(self):
        return {key: 'model_%s_best.npz' % key for key in self.models}

    def __call__(self, trainer):
        value = float(self.evaluate())
        chainer.report({'validation/' + self.metric: value})
        better = (self.best_value is None or
                  (value < self.best_value if self.mode == 'min' else value > self.best_value))
        if better:
            self.best_value, self.best_iteration = value, int(trainer.updater.iteration)
            for key, filename in self.files().items():
                self.outputs.save_model(filename, self.models[key])

    def serialize(self, serializer):
        # "not evaluated yet" is its own flag, not a NaN that the snapshot guard refuses
        evaluated = self.best_value is not None
        best = serializer('best_value', self.best_value if evaluated else 0.0)
        try:
            evaluated = bool(serializer('evaluated', evaluated))
        except KeyError:                       # a snapshot written before the flag existed
            evaluated = not np.isnan(best)
        self.best_value = float(best) if evaluated else None
        self.best_iteration = int(serializer('best_iteration', self.best_iteration))
        try:                                   # -1: never restarted (and older snapshots)
            restarted = int(serializer('restarted_at', -1 if self.restarted_at is None
                                       else self.restarted_at))
        except KeyError:
            restarted = -1
        self.restarted_at = None if restarted < 0 else restarted

    def load_best(self):
        """Load the best weights into ``models``; False when no evaluation ran yet."""
        if self.best_value is None:
            return False
        for key, filename in self.files().items():
            chainer.serializers.load_npz(self.outputs.path(filename), self.models[key])
        return True

    def last_then_best(self, iteration, evaluate):
        """A test number for the last models as well as the selected ones: when the live
        models (at ``iteration``) are not the best on validation, return ``evaluate()`` of
        them, then load the best; else (or before any evaluation) return None."""
        if self.best_value is None or self.best_iteration == iteration:
            return None
        last = evaluate()
        self.load_best()
        return last

    def summary(self):
        out = {'metric': 'validation/' + self.metric, 'mode': self.mode,
               'best_value': self.best_value,
               'best_iteration': None if self.best_iteration < 0 else self.best_iteration,
               'files': sorted(self.files().values())}
        if self.restarted_at is not None:
            out['restarted_at_iteration'] = self.restarted_at
        return out

