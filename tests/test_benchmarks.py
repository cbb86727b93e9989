"""benchmarks/: the harness end to end on tiny sizes (no PyTorch needed), and FLOP counts.

Runs ``benchmarks/run_all.py`` for the AAE step only, 1 thread, 1 repeat of 1 step, into a
temporary folder, with PyTorch made to look absent so the skip path is what is tested.
"""
import json
import os

import pytest

from benchmarks import bench_aae, bench_vae, harness, run_all


def test_flops_match_a_hand_count():
    # M1 784-500-500-20: forward multiply-adds per image, encoder (with mu and ln_var heads)
    # then decoder; forward + backward = 3 x forward, 2 FLOPs per multiply-add.
    macs = (784 * 500 + 500 * 500 + 2 * 500 * 20) + (20 * 500 + 500 * 500 + 500 * 784)
    m1 = next(b for b in bench_vae.BENCHMARKS if b.name == 'm1')
    assert m1.flops() / m1.images == 3 * 2 * macs == 7884000
    # AAE: 7 encoder, 3 decoder, 8 discriminator forward passes' worth per step
    # (reconstruction 3 enc + 3 dec; D phase 1 enc + 2 x 3 dis; generator 3 enc + 2 dis,
    # D's weight gradients not needed there)
    enc = dec = 784 * 1000 + 1000 * 1000 + 1000 * 2
    dis = 2 * 1000 + 1000 * 1000 + 1000 * 2
    aae = next(b for b in bench_aae.BENCHMARKS if b.name == 'aae')
    assert aae.flops() / aae.images == 2 * (7 * enc + 3 * dec + 8 * dis)


def test_gemm_step_runs_the_counted_gemms(monkeypatch):
    step = harness.gemm_step([(3, [(4, 5, 6)]), (1, [(2, 3, 4)])])
    shapes, matmul = [], harness.np.matmul
    monkeypatch.setattr(harness.np, 'matmul', lambda a, b: shapes.append(
        (a.shape, b.shape)) or matmul(a, b))
    step()
    # fwd x @ w, dX gy @ w.T, dW x.T @ gy of the first layer; the forward of the second
    assert shapes == [((4, 5), (5, 6)), ((4, 6), (6, 5)), ((5, 4), (4, 6)), ((2, 3), (3, 4))]


@pytest.mark.slow
def test_run_all_tiny_writes_table_plot_and_json(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, 'torch_available', lambda: False)
    out = str(tmp_path)
    results = run_all.main(['--tiny', '--only', 'aae', '--threads', '1', '--repeats', '1',
                            '--out', out])
    with open(os.path.join(out, 'performance.json')) as f:
        saved = json.load(f)
    assert saved['benchmarks'][0]['name'] == 'aae' == results['benchmarks'][0]['name']
    bench = saved['benchmarks'][0]
    assert 'torch' in bench['skipped']
    impls = bench['threads']['1']['impls']
    assert set(impls) == {'ours', 'chainer', 'gemm', 'before:openblas', 'before:fused'}
    for impl in ('ours', 'chainer'):
        s = impls[impl]
        assert s['images_per_s'] > 0 and len(s['seconds']) == 1
        assert s['peak_rss_mb'] >= s['rss_after_imports_mb'] > 10
        assert 0 < s['roofline_percent']
    assert saved['sgemm_square_gflops']['1'] > 0
    assert len(saved['load_average_start']) == 3
    text = open(os.path.join(out, 'performance.md')).read()
    assert '| aae | 1 |' in text and 'figures/performance.png' in text
    assert 'torch column skipped' in text
    assert '## What each change bought' in text and 'Prescott' in text
    assert '| aae: ≥ 70 % of the SGEMM roofline at 1 thread |' in text
    assert os.path.getsize(os.path.join(out, 'figures', 'performance.png')) > 1000
