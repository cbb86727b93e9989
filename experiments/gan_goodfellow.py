"""Goodfellow et al. 2014's MNIST GAN, as configured in goodfeli/adversarial's mnist.yaml,
with the paper's Gaussian Parzen-window log-likelihood on the test split (Table 1: 225 +- 2).

G: 100-D uniform noise on [-sqrt 3, sqrt 3] -> ReLU 1200 -> ReLU 1200 -> sigmoid 784 (output
bias from the data marginals); D: maxout 240x5 -> maxout 240x5 -> sigmoid, dropout (input
keep 0.8, hidden keep 0.5); SGD batch 100, lr 0.1 divided by 1.000004 per update (min 1e-6),
momentum 0.5 rising linearly to 0.7 between epochs 1 and 250 of mnist.yaml's 50,000 images,
i.e. updates 500 and 124,500 (counted in updates, whatever the training set size); D and G
updated simultaneously on the same minibatch (AdversaryCost2), non-saturating G loss.
Parzen: 10,000 samples, sigma from logspace(-1, 0, 10) chosen on the validation split
(``--validation``, default the yaml's train[50000:60000], all 10,000 images; ``--parzen-valid``
takes fewer; without a validation split, a seeded hold-out).

Model selection (ours, not the paper's): mnist.yaml saves the model every epoch
(``save_freq: 1``) and has no stopping rule, so which checkpoint the paper scored is not
stated. Every ``--set select-every=N`` epochs we score G by the validation Parzen log-likelihood
(10,000 fresh samples, best sigma) and keep the best; the test number is that G's. The last
G's test number is reported beside it. The validation curve is ``parzen.png``.
"""

import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import chainer

from expkit import Experiment, make_parser, run_main
from expkit.validate import at_most, nonnegative_int, positive_int
from evaluation.parzen import parzen_evaluate, select_sigma
from gan import net, optim
from gan.evaluate import evaluate_samples, parzen_splits
from gan.updater import SimultaneousGANUpdater

PAPER = {
    'source': 'Goodfellow et al. 2014, Table 1 (MNIST Parzen window log-likelihood, nats; '
              'mean +- standard error over the test set)',
    'values': {'adversarial_nets': '225 +- 2', 'DBN': '138 +- 2', 'stacked_CAE': '121 +- 1.6',
               'deep_GSN': '214 +- 1.1'},
}


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100,
                         out='results/gan_goodfellow', validation=10000,   # mnist.yaml's split
                         quick=dict(n_train=500, n_test=200, parzen_samples=500),
                         distributed=True)
    parser.add_setting('--noise', choices=['uniform', 'gaussian'], default='uniform',
                       help="G's noise: U(+-sqrt 3) (paper) or N(0, 1) (the repo's "
                            "later default)")
    parser.more.add_argument('--parzen-samples', type=positive_int, default=10000,
                             help='samples for the Parzen window (paper: 10,000)')
    parser.more.add_argument('--parzen-test', type=positive_int, default=None, metavar='N',
                             help='evaluate on the first N test images (default: all)')
    parser.more.add_argument('--parzen-valid', type=positive_int, default=None, metavar='N',
                             help='choose sigma (and the checkpoint) on the first N validation '
                                  'images (default: all)')
    parser.add_setting('--select-every', type=nonnegative_int, default=5, metavar='EPOCHS',
                       help='score G by validation Parzen every this many epochs and keep '
                            'the best (ours; default %(default)s, 0: keep the last G)')
    args = parser.parse_args(argv)
    exp = Experiment('gan_goodfellow', args, paper=PAPER)
    data = exp.load_data()
    x_train, x_valid, y_train = parzen_splits(data, args.seed, args.parzen_valid)
    x_test, y_test = data.x_test, data.y_test
    if args.parzen_test:
        x_test = x_test[:at_most('--parzen-test', args.parzen_test, len(x_test), 'test images')]
        y_test = y_test[:len(x_test)]

    gen = net.GoodfellowGenerator(out_bias=net.sigmoid_bias_from_marginals(x_train),
                                  noise=args.noise)
    dis = net.GoodfellowDiscriminator()
    gen.to_device(exp.device)
    dis.to_device(exp.device)
    opts = {}
    for key, link in (('gen', gen), ('dis', dis)):
        opts[key] = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.5)  # learning_rate: .1
        opts[key].setup(link)                                             # init_momentum: .5
        opts[key].add_hook(optim.ExponentialDecay(0.1, 1.000004, 1e-6))    # ExponentialDecay
    opts = exp.optimizers(opts)              # ChainerMN: gradients averaged over the ranks
    it = exp.iterator(x_train)
    updater = SimultaneousGANUpdater(it, opts, device=exp.device)
    momentum = optim.MomentumAdjustor([opts['gen'], opts['dis']], init=0.5, final=0.7,
                                      start=1, saturate=250)            # MomentumAdjustor
    exp.record('schedule', dict(momentum.describe(), lr='0.1 / 1.000004^t before update t, '
                                                      'min 1e-6 (ExponentialDecay)'))
    select = None
    if args.select_every:
        def validation_parzen():             # best-sigma mean log-likelihood of x_valid
            return max(select_sigma(net.generate(gen, args.parzen_samples), x_valid)[1])
        select = dict(name='parzen', models={'gen': gen}, evaluate=validation_parzen,
                      mode='max', trigger=(args.select_every, 'epoch'))
    trainer = exp.train(updater, models={'gen': gen, 'dis': dis}, extensions=[momentum],
                        report=['gen/loss', 'dis/loss', 'dis/d_real', 'dis/d_fake'],
                        plots={'loss.png': ['gen/loss', 'dis/loss'],
                               'd_output.png': ['dis/d_real', 'dis/d_fake'],
                               **({'parzen.png': ['validation/parzen']} if select else {})},
                        select=select)

    measured = {'iterations': int(trainer.updater.iteration),
                'final_momentum': float(opts['gen'].momentum),
                'final_lr': float(opts['gen'].lr)}
    selector = exp.selectors.get('parzen')
    if selector is not None and selector.best_value is not None:
        last = selector.last_then_best(trainer.updater.iteration, lambda: parzen_evaluate(
            net.generate(gen, args.parzen_samples), x_valid, x_test))
        if last is not None:                 # the live G is now the best on validation
            measured['parzen_ll_last'] = last
        measured['selected_iteration'] = selector.best_iteration
    samples = net.generate(gen, args.parzen_samples)
    parzen, ref = evaluate_samples(exp, samples, x_train, x_valid, x_test,
                                   'Goodfellow GAN samples', y_train, y_test)
    measured.update(parzen_ll=parzen, parzen_ll_training_images=ref)
    exp.finish(measured, config={
        'noise': args.noise, 'n_train_used': int(len(x_train)), 'n_valid': int(len(x_valid)),
        'model_selection': 'G with the best validation Parzen, scored every %d epochs (ours)'
                           % args.select_every if args.select_every else 'the last G',
        'protocol': 'GAN trained on the training split minus the validation split '
                    '(--validation, else a seeded hold-out), which chooses sigma; Parzen on '
                    'the test split'})

if __name__ == '__main__':
    run_main(main)
