"""Adaptive step-size control that measures the error in another view of the state
(the free-slip box: its coefficients as the doubled periodic domain would hold them)."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp


class ErrorView(eqx.Module):
    """How the step-size control sees the state: `__call__` maps a state (or an error
    estimate) to the array whose entries are weighed, and the error norm is the root
    mean square over `size` entries (entries the view leaves out count as zero)."""

    size: int = eqx.field(static=True)

    def __call__(self, y):
        raise NotImplementedError


class _ViewedErrorController(diffrax.AbstractAdaptiveStepSizeController):
    """A PID controller that judges each step on `view` of the state. The first step
    is chosen by the inner controller on the state itself; with a `MultiTerm` (all
    our semilinear solves) Diffrax starts at 0.01 whatever the norm. An implicit
    solver's root finder applies `norm` to the plain state, where it reads low by
    about sqrt(state size / view size): a looser stop for Newton iterations that, on
    our diagonal implicit parts, are exact after one step."""

    controller: diffrax.PIDController
    view: ErrorView

    @property
    def rtol(self):
        return self.controller.rtol

    @property
    def atol(self):
        return self.controller.atol

    @property
    def norm(self):
        return self.controller.norm

    def wrap(self, direction):
        return _ViewedErrorController(self.controller.wrap(direction), self.view)

    def init(self, terms, t0, t1, y0, dt0, args, func, error_order):
        return self.controller.init(terms, t0, t1, y0, dt0, args, func, error_order)

    def adapt_step_size(
        self, t0, t1, y0, y1_candidate, args, y_error, error_order, controller_state
    ):
        v = self.view
        return self.controller.adapt_step_size(
            t0,
            t1,
            v(y0),
            v(y1_candidate),
            args,
            v(y_error),
            error_order,
            controller_state,
        )


class _RMSOver(eqx.Module):
    """Root mean square over `size` entries, of which `x` holds the nonzero ones."""

    size: int = eqx.field(static=True)

    def __call__(self, x):
        squares = sum(jnp.sum(jnp.abs(leaf) ** 2) for leaf in jax.tree.leaves(x))
        return jnp.sqrt(squares / self.size)
