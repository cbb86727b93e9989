# Chainer 7.8.1 ships only as an sdist whose build imports pkg_resources, so its build
# environment needs setuptools<74 (constraints.txt). pip < 25.3 applies PIP_CONSTRAINT to
# build environments; pip >= 25.3 needs PIP_BUILD_CONSTRAINT. setup.py picks NumPy (and, for
# install-gpu, CuPy) per interpreter with environment markers.
PYTHON ?= python
CONSTRAINTS := $(CURDIR)/constraints.txt

.PHONY: install install-gpu install-mpi test report gpu-bundle gpu-stack
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

# What tools/gpu_check.sh needs on a GPU machine that has CuPy but no chainer and no network
# (such as Python 3.12, NumPy 2, cupy-cuda13x 14): the wheels it installs and the MNIST
# files, packed into .gpu/ (ignored by git; copy it beside the checkout there, 16 MB). The
# wheels are pure Python (py3-none-any), so they suit Python 3.12 with NumPy 2 as well as
# the Python that builds them; gpu-bundle checks that pip would take each of them for
# GPU_PYTHON. MNIST_DIR: the folder with the four .gz files.
MNIST_DIR ?= ../shared/data/mnist
GPU_PYTHON ?= 3.12
GPU_WHEELS := chainer==7.8.1 'setuptools<74' mlxtend==0.25.0
gpu-bundle:
	rm -rf .gpu && mkdir -p .gpu/mnist
	PIP_CONSTRAINT=$(CONSTRAINTS) PIP_BUILD_CONSTRAINT=$(CONSTRAINTS) \
		$(PYTHON) -m pip wheel -q --no-deps -w .gpu $(GPU_WHEELS)
	$(PYTHON) -m pip download -q --no-deps --no-index --find-links .gpu -d .gpu/check \
		--only-binary=:all: --python-version $(GPU_PYTHON) $(GPU_WHEELS)
	rm -rf .gpu/check
	cp $(MNIST_DIR)/*-ubyte.gz .gpu/mnist/

# The whole stack for Python $(GPU_PYTHON) with NumPy 2 and cupy-cuda13x 14 (the project's
# other dependencies and the gpu-bundle wheels too), for a GPU machine without network that
# lacks part of it: wheels with every dependency in .gpu-stack/ (167 MB, CuPy's alone 69 MB).
# Install there with
#   pip install --no-index --find-links .gpu-stack -r .gpu-stack/requirements.txt
GPU_STACK := 'numpy>=2,<3' 'cupy-cuda13x>=14,<15' matplotlib scikit-learn scipy \
	threadpoolctl pillow pytest
gpu-stack: gpu-bundle
	rm -rf .gpu-stack && mkdir -p .gpu-stack
	$(PYTHON) -m pip download -q -d .gpu-stack --find-links .gpu --only-binary=:all: \
		--python-version $(GPU_PYTHON) --platform manylinux2014_x86_64 \
		--platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
		$(GPU_WHEELS) $(GPU_STACK)
	printf '%s\n' $(GPU_WHEELS) $(GPU_STACK) > .gpu-stack/requirements.txt
