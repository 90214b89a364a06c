"""Tools to test ops the way minigrad tests its own: gradcheck and hypothesis strategies.

>>> from minigrad.testing import gradcheck, gradgradcheck
"""

from minigrad.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
