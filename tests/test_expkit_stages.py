"""Training stages (``Experiment.train(..., stage=...)``): a run of two stages, stopped by
``--time-limit`` in either, resumed from each stage's snapshot; a finished stage is reloaded,
not trained again; the quick protocol and honoured options of the scripts without data."""
import glob
import json
import os
import shlex

import numpy as np
import pytest

import chainer

from expkit import Experiment, UsageError, make_parser
from expkit.testing import load_script, run_script
from test_expkit import TinyRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = {'pre': 3, 'main': 2}       # 5 iterations per epoch: 15 then 10 iterations


def _two_stages(out, extra=()):
    """Stage 'pre' trains one regressor, then 'main' another (as M1 then M2)."""
    args = make_parser('two', epoch=2, batchsize=10, out=str(out)).parse_args(
        ['--quick', '--epoch', '2', '--snapshot-interval', '1'] + list(extra))
    exp = Experiment('two', args, stages=['pre', 'main'])
    rng = np.random.RandomState(0)
    x = rng.randn(50, 3).astype(np.float32)
    t = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    models, trainers = {}, {}
    for stage in ('pre', 'main'):
        model = models[stage] = TinyRegressor()
        opt = chainer.optimizers.SGD(lr=0.1)
        opt.setup(model)
        it = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(x, t), 10)
        updater = chainer.training.StandardUpdater(it, opt, device=exp.device)
        trainers[stage] = exp.train(updater, stage=stage, models={stage: model},
                                    report=['main/loss'], stop=(EPOCHS[stage], 'epoch'))
    results = exp.finish({'loss': float(models['main'](x, t).array)})
    return results, models, trainers


def _log(path):
    return json.loads(path.read_text())


def _weights(model):
    return model.fc.W.array.copy()


def _resume(command, out):
    """The argv of a printed resume command, with the real clock."""
    argv = shlex.split(command)[2:]
    return _two_stages(out, [a for a in argv if a not in ('--quick',)])


@pytest.fixture
def ticking(monkeypatch):
    """A fake clock, 1 s per reading; ``ticking.real()`` puts the real one back."""
    from expkit import training
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(training, 'clock', lambda: float(next(ticks)))

    class Clock:
        @staticmethod
        def real():
            monkeypatch.setattr(training, 'clock', training.time.monotonic)
    return Clock


def test_two_stages_write_their_own_files_and_records(tmp_path):
    out = tmp_path / 'run'
    results, _, trainers = _two_stages(out)
    names = set(os.listdir(out))
    assert {'snapshot_pre_iter_5.npz', 'snapshot_pre_iter_15.npz', 'log_pre', 'model_pre.npz',
            'snapshot_iter_5.npz', 'snapshot_iter_10.npz', 'log', 'model_main.npz'} <= names
    assert [e['iteration'] for e in _log(out / 'log_pre')] == [5, 10, 15]
    assert [e['iteration'] for e in _log(out / 'log')] == [5, 10]
    stages = results['stages']
    assert list(stages) == ['pre', 'main']
    assert [(s['status'], s['iterations'], s['planned_iterations']) for s in stages.values()] \
        == [('trained', 15, 15), ('trained', 10, 10)]
    assert all(s['seconds'] > 0 and s['images_per_second'] > 0 for s in stages.values())
    assert results['train_iterations'] == 25 and results['stopped_at_iteration'] == 10
    assert results['partial'] is False and 'stopped_in_stage' not in results


def test_time_limit_in_the_first_stage_skips_the_second_then_resumes(tmp_path, ticking,
                                                                    capsys):
    _, reference, _ = _two_stages(tmp_path / 'ref')
    out = tmp_path / 'run'
    results, _, trainers = _two_stages(out, ['--time-limit', '0.4'])       # 24 s
    stopped = trainers['pre'].updater.iteration
    assert 5 <= stopped < 15
    assert results['partial'] and results['stopped_in_stage'] == 'pre'
    assert results['stages']['pre']['status'] == 'partial'
    assert results['stages']['main']['status'] == 'skipped'
    assert results['stopped_at_iteration'] == stopped
    assert results['planned_iterations'] == 15
    assert not (out / 'log').exists() and not (out / 'model_main.npz').exists()
    snapshot = out / ('snapshot_pre_iter_%d.npz' % stopped)
    assert results['resume_command'].endswith('--resume %s' % snapshot)
    assert results['resume_command'] in capsys.readouterr().out

    ticking.real()
    results, models, _ = _resume(results['resume_command'], out)
    pre, main = results['stages']['pre'], results['stages']['main']
    assert (pre['status'], pre['iterations']) == ('trained', 15 - stopped)
    assert (main['status'], main['iterations']) == ('trained', 10)
    assert [e['iteration'] for e in _log(out / 'log_pre')] == [5, 10, 15]
    # the same weights as the run that was never stopped
    np.testing.assert_array_equal(_weights(models['main']), _weights(reference['main']))


def test_time_limit_in_the_second_stage_resumes_without_retraining_the_first(
        tmp_path, ticking):
    _, reference, _ = _two_stages(tmp_path / 'ref')
    out = tmp_path / 'run'
    results, _, trainers = _two_stages(out, ['--time-limit', '0.6'])       # 36 s
    assert results['partial'] and results['stopped_in_stage'] == 'main', results['stages']
    stopped = trainers['main'].updater.iteration
    assert results['stages']['pre']['status'] == 'trained' and 0 <= stopped < 10
    assert results['resume_command'].endswith('snapshot_iter_%d.npz' % stopped)
    log_pre = (out / 'log_pre').read_text()

    ticking.real()
    results, models, trainers = _resume(results['resume_command'], out)
    pre = results['stages']['pre']
    assert pre['status'] == 'reloaded' and pre['iterations'] == 0
    assert pre['stopped_at_iteration'] == 15 and trainers['pre'].updater.iteration == 15
    assert pre['reloaded_from'] == str(out / 'snapshot_pre_iter_15.npz')
    assert (out / 'log_pre').read_text() == log_pre                 # not trained again
    assert results['stages']['main']['iterations'] == 10 - stopped
    assert results['train_iterations'] == 10 - stopped
    np.testing.assert_array_equal(_weights(models['pre']), _weights(reference['pre']))
    np.testing.assert_array_equal(_weights(models['main']), _weights(reference['main']))


def test_a_finished_stage_reloads_from_its_models_without_its_snapshots(tmp_path):
    out = tmp_path / 'run'
    _, reference, _ = _two_stages(out)
    for path in glob.glob(str(out / 'snapshot_pre_iter_*.npz')):
        os.remove(path)
    results, models, _ = _two_stages(tmp_path / 'again',
                                     ['--resume', str(out / 'snapshot_iter_5.npz')])
    pre = results['stages']['pre']
    assert pre['status'] == 'reloaded' and pre['reloaded_from'] == [str(out / 'model_pre.npz')]
    np.testing.assert_array_equal(_weights(models['pre']), _weights(reference['pre']))
    assert (tmp_path / 'again' / 'model_pre.npz').exists()   # the new folder is complete
    assert results['stages']['main']['iterations'] == 5
    os.remove(out / 'model_pre.npz')
    with pytest.raises(UsageError, match='model_pre.npz'):
        _two_stages(tmp_path / 'third', ['--resume', str(out / 'snapshot_iter_5.npz')])


def test_resume_names_a_stage_of_the_run(tmp_path):
    bad = tmp_path / 'snapshot_other_iter_5.npz'
    bad.write_bytes(b'')
    with pytest.raises(UsageError, match="stage 'other'.*its stages: pre, main"):
        _two_stages(tmp_path / 'run', ['--resume', str(bad)])
    args = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path)).parse_args([])
    exp = Experiment('x', args, stages=['pre', 'main'])
    with pytest.raises(ValueError, match='in this order'):
        exp.train(None, stage='main')


@pytest.mark.slow
def test_gan_toy_resumes_a_later_toy_and_reloads_the_earlier(tmp_path, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    first = tmp_path / 'first'
    argv = ['--quick', '--toy', 'ring', 'grid', '--snapshot-interval', '1']
    res = run_script('experiments/gan_toy.py', argv + ['--out', str(first)])
    assert [s['status'] for s in res['stages'].values()] == ['trained', 'trained']
    n = res['stages']['grid']['stopped_at_iteration']
    again = tmp_path / 'again'
    res2 = run_script('experiments/gan_toy.py', argv + [
        '--out', str(again), '--resume', str(first / ('snapshot_grid_iter_%d.npz' % n))])
    ring = res2['stages']['ring']
    assert ring['status'] == 'reloaded' and ring['iterations'] == 0
    assert res2['train_iterations'] == 0
    a, b = np.load(first / 'model_ring_gen.npz'), np.load(again / 'model_ring_gen.npz')
    for key in a.files:                                          # the same trained G
        np.testing.assert_array_equal(a[key], b[key])
    assert os.path.getsize(again / 'toy_nonsaturating.png') > 1000


@pytest.mark.parametrize('script, absent, present', [
    ('gan_optimal_discriminator',
     ['--dataset', '--data-dir', '--n-train', '--n-test', '--validation', '--resume',
      '--snapshot-interval', '--time-limit'], ['--epoch', '--quick', 'n-hidden=N']),
    ('gan_toy', ['--dataset', '--data-dir', '--n-train', '--n-test', '--validation'],
     ['--resume', '--time-limit', '--snapshot-interval', '--n-points'])])
def test_scripts_without_data_list_only_honoured_options(script, absent, present):
    from expkit.validate import script_parser
    parser = script_parser(load_script('experiments/%s.py' % script).main)
    text = parser.format_help()
    for option in absent:
        assert option + ' ' not in text and option + '\n' not in text, option
    for option in present:
        assert option in text, option


SCRIPTS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'experiments',
                                                                          '*.py'))
                 if not p.endswith('report.py'))
HELPERS = ['aae/options.py', 'experiments/m2_semisupervised.py']   # where scripts hand args on


@pytest.mark.parametrize('script', SCRIPTS)
def test_every_option_of_a_script_is_read(script):
    """An option or setting a script declares is read by it (or the helper it hands args
    to); the standard ones are expkit's. So --help lists only what the run honours."""
    import argparse
    import re
    from expkit.validate import script_parser
    standard = {a.dest for a in make_parser('x', epoch=1, batchsize=1, out='o',
                                            distributed=True)._actions}
    parser = script_parser(load_script('experiments/%s.py' % script).main)
    source = open(os.path.join(ROOT, 'experiments', script + '.py')).read() + ''.join(
        open(os.path.join(ROOT, h)).read() for h in HELPERS)
    unread = [a.dest for a in parser._actions + parser.settings._actions
              if a.dest not in standard | {'set_words'} and a.help != argparse.SUPPRESS and
              not re.search(r'\b(args|a)\.%s\b' % a.dest, source)]
    assert not unread, unread
