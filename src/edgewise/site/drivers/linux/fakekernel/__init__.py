"""A kernel in memory for the linux driver's fast tests (no root): see kernel.FakeKernel."""

from edgewise.site.drivers.linux.fakekernel.kernel import FakeKernel
from edgewise.site.drivers.linux.fakekernel.state import Space

__all__ = ["FakeKernel", "Space"]
