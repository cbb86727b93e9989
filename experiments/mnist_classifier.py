"""The frozen feature network of the generator table (experiments/evaluate_generators.py):
a LeNet-class CNN (evaluation/features.py) trained once on the 60,000 MNIST training images.

Adam (alpha 1e-3, Kingma & Ba 2015) on minibatches of 128, each image shifted by up to 2
pixels at random (the classic MNIST augmentation, Simard et al. 2003 use elastic ones), alpha
divided by 10 after drop-epoch epochs. Reports the test error every epoch. Writes
model_net.npz (the weights), loss.png, error.png and results.json (test accuracy, and the
MD5 of the weights). To freeze a new network, copy model_net.npz to
evaluation/weights/mnist_cnn.npz and put its MD5 into evaluation.features.WEIGHTS_MD5.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer
import chainer.links as L
from chainer.training import extensions

from expkit import Experiment, make_parser, run_main
from expkit.extensions import TestError
from expkit.validate import nonnegative_int, positive_int

from evaluation.features import MnistCNN, file_md5, run_net

PAPER = {'source': 'no paper item: the evaluation network (LeNet-class nets reach about '
                   '99.2-99.5 % on the MNIST test set; LeCun et al. 1998, Table of Sec. III)',
         'values': {}}


class ShiftConverter:
    """Concatenate a minibatch and shift each image by up to ``max_shift`` pixels (zero fill),
    drawn from the run's seeded generator."""

    def __init__(self, max_shift, seed):
        self.max_shift, self.rng = max_shift, np.random.RandomState(seed)

    def __call__(self, batch, device=None):
        x, y = chainer.dataset.concat_examples(batch)
        s = self.max_shift
        if s:
            padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
            dx, dy = self.rng.randint(0, 2 * s + 1, size=(2, len(x)))
            x = np.stack([p[:, i:i + 28, j:j + 28] for p, i, j in zip(padded, dy, dx)])
        return chainer.dataset.to_device(device, x), chainer.dataset.to_device(device, y)

    def serialize(self, serializer):
        pass


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=12, batchsize=128,
                         out='results/mnist_classifier', datasets=('mnist',),
                         quick=dict(n_train=1000, n_test=500))
    parser.add_setting('--drop-epoch', type=positive_int, default=8,
                       help='divide alpha by 10 after this many epochs (default %(default)s)')
    parser.add_setting('--max-shift', type=nonnegative_int, default=2,
                       help='random shift of each training image, pixels (default %(default)s)')
    args = parser.parse_args(argv)
    exp = Experiment('mnist_classifier', args, paper=PAPER)
    exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()
    img = (-1, 1, 28, 28)

    net = MnistCNN()
    net.to_device(exp.device)
    model = L.Classifier(net)
    opt = chainer.optimizers.Adam(alpha=1e-3)
    opt.setup(model)
    it = exp.iterator(chainer.datasets.TupleDataset(x_train.reshape(img),
                                                   y_train.astype(np.int32)))
    updater = chainer.training.StandardUpdater(
        it, opt, converter=ShiftConverter(args.max_shift, args.seed), device=exp.device)
    per_epoch = len(x_train) // args.batchsize
    drop = extensions.MultistepShift('alpha', 0.1, [args.drop_epoch * per_epoch], 1e-3)
    classify = lambda x: run_net(net, x)[1].argmax(1)   # noqa: E731
    trainer = exp.train(updater, models={'net': net},
                        extensions=[drop, TestError(classify, x_test, y_test)],
                        report=['main/loss', 'main/accuracy', 'test/error'],
                        plots={'loss.png': ['main/loss'], 'error.png': ['test/error']})

    error = float((classify(x_test) != y_test).mean())
    first = float((classify(x_test[:1000]) != y_test[:1000]).mean())
    print('test accuracy %.2f %% (%d images)' % (100 * (1 - error), len(x_test)))
    exp.finish({'test_accuracy': 1 - error, 'test_accuracy_first_1000': 1 - first,
                'n_test': int(len(x_test)), 'iterations': int(trainer.updater.iteration),
                'weights_md5': file_md5(exp.path('model_net.npz'))},
               config={'feature_layer': 'fc1 after its ReLU, 128-D',
                       'protocol': 'trained on all %d training images, no model selection; '
                                   'test accuracy of the final weights' % len(x_train)})


if __name__ == '__main__':
    run_main(main)
