"""What experiments/glo_mnist.py measures: reconstruction MSE and PSNR of the training images
(their learned codes) and of held-out images (codes fitted with the generator fixed, §3.3 of
Bojanowski et al., arXiv:1707.05776), the same for PCA with the same code size (the linear
baseline), and samples of a Gaussian fitted to the codes (Fig. 4) against the test images."""
import numpy as np

import chainer

from evaluation.metrics import mmd
from glo.latent import decode, fit_gaussian, infer_codes, pca_reconstructions, sample_codes
from glo.loss import psnr

_cpu = chainer.backend.CpuDevice()


def _scores(rec_train, x_train, rec_held, x_held):
    return {'train_mse': float(((rec_train - x_train) ** 2).mean()),
            'train_psnr_db': float(psnr(rec_train, x_train).mean()),
            'heldout_mse': float(((rec_held - x_held) ** 2).mean()),
            'heldout_psnr_db': float(psnr(rec_held, x_held).mean())}


def reconstructions(models, loss_funcs, infer_lr, start_codes, x_train, x_held, steps,
                    projection, final_objective):
    """Per model ``name -> (generator, codes)``: its scores, and the reconstructions of the
    training and held-out images (``measured, rec_train, rec_held``). A held-out code starts
    at the code of the nearest training image and takes ``steps`` SGD steps of rate
    ``infer_lr[name]`` on the model's loss; ``final_objective[name]``: its last logged
    loss; ``start_codes[name]``: its initial codes (how far training moved them)."""
    d2 = ((x_held ** 2).sum(1)[:, None] - 2 * x_held @ x_train.T
          + (x_train ** 2).sum(1)[None, :])
    nearest = d2.argmin(axis=1)              # held-out codes start at the nearest training code
    measured, rec_train, rec_held = {}, {}, {}
    for name, (gen, codes) in models.items():
        z_train = _cpu.send(codes.W.array)
        rec_train[name] = _cpu.send(decode(gen, z_train))
        z_held = infer_codes(gen, x_held, loss_funcs[name], z_train[nearest], steps=steps,
                             lr=infer_lr[name], projection=projection)
        rec_held[name] = _cpu.send(decode(gen, z_held))
        start = _cpu.send(decode(gen, z_train[nearest]))
        z0 = start_codes[name]
        cosine = (z_train * z0).sum(1) / np.maximum(
            np.linalg.norm(z_train, axis=1) * np.linalg.norm(z0, axis=1), 1e-12)
        measured[name] = dict(
            _scores(rec_train[name], x_train, rec_held[name], x_held),
            heldout_mse_before_fit=float(((start - x_held) ** 2).mean()),
            final_epoch_objective=float(final_objective[name]),
            code_move_from_init=float(np.linalg.norm(z_train - z0, axis=1).mean()),
            code_cosine_to_init=float(cosine.mean()))
        print('%-12s train MSE %.4f (PSNR %.2f dB)  held-out MSE %.4f (PSNR %.2f dB; '
              '%.4f at the nearest training code)' % (
                  name, measured[name]['train_mse'], measured[name]['train_psnr_db'],
                  measured[name]['heldout_mse'], measured[name]['heldout_psnr_db'],
                  measured[name]['heldout_mse_before_fit']))
    return measured, rec_train, rec_held


def pca_baseline(dims, x_train, x_held, seed, loss, measured, rec_train, rec_held):
    """PCA with each code size d, added as ``pca_d<d>`` to ``measured`` and the
    reconstructions (training MSE is what GLO's codes optimise; PCA's is the best any
    rank-d affine map reaches); the GLO model ``<loss>_d<d>`` gets ``train_mse_below_pca``."""
    for d in dims:
        key = 'pca_d%d' % d
        rec_train[key], rec_held[key] = pca_reconstructions(x_train, x_held, d, seed)
        measured[key] = _scores(rec_train[key], x_train, rec_held[key], x_held)
        glo_name = '%s_d%d' % (loss, d)
        measured[glo_name]['train_mse_below_pca'] = bool(
            measured[glo_name]['train_mse'] < measured[key]['train_mse'])
        print('%-12s train MSE %.4f (PSNR %.2f dB)  held-out MSE %.4f (PSNR %.2f dB)' % (
            key, measured[key]['train_mse'], measured[key]['train_psnr_db'],
            measured[key]['heldout_mse'], measured[key]['heldout_psnr_db']))


def samples(gen, z, n, projection, seed):
    """``n`` decoded samples of the Gaussian N(mu, Sigma) fitted to the codes ``z`` (Fig. 4)."""
    mean, cov = fit_gaussian(z)
    return _cpu.send(decode(gen, sample_codes(mean, cov, n, projection, seed)))


def sample_mmd(samples, x_train, x_test):
    """MMD of the samples, and of as many training images, to the test images."""
    n = min(1000, len(samples), len(x_test), len(x_train))
    return {'sample_mmd_vs_test': float(mmd(samples[:n], x_test[:n])),
            'train_mmd_vs_test': float(mmd(x_train[:n], x_test[:n]))}
