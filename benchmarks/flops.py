"""FLOP accounting from layer sizes, as GEMM shapes ``(m, k, n)`` (one GEMM = 2 m k n FLOPs).

Forward GEMMs only; :class:`benchmarks.harness.Benchmark` multiplies each pass by 3 when it
is backpropagated (dX and dW cost one forward GEMM each) and by 1 when it is forward only.
Element-wise work (activations, losses, optimiser updates) is not counted: the roofline is the
GEMM time alone.
"""


def mlp(batch, sizes):
    """Fully connected layers ``sizes[0] -> sizes[1] -> ...`` on ``batch`` rows."""
    return [(batch, a, b) for a, b in zip(sizes[:-1], sizes[1:])]


def conv(batch, c_in, c_out, k, h_out, w_out):
    """A convolution as its im2col GEMM: (N Ho Wo, Cin k k) @ (Cin k k, Cout)."""
    return [(batch * h_out * w_out, c_in * k * k, c_out)]


def deconv(batch, c_in, c_out, k, h_in, w_in):
    """A transposed convolution: (N Hin Win, Cin) @ (Cin, Cout k k), then col2im."""
    return [(batch * h_in * w_in, c_in, c_out * k * k)]
