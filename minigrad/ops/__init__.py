"""Every differentiable primitive, grouped by family; each with its derivative beside it.

Ops receive raw arrays in ``forward`` and take their array module from
``ctx.xp``: no file in this folder imports numpy or cupy.
"""
