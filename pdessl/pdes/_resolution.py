"""Whether a Burgers recipe's grid resolves its viscous fronts.

The shipped recipes choose their viscosity so that the top retained Fourier modes of
the solution stay below ~1 % of the spectral peak (measured: burgers-tiny needs
nu >= 0.08 on 64 points). A recipe whose grid is far too coarse for its smallest
viscosity would integrate without error but store fronts with Gibbs ringing, and a
model would learn the grid's artefacts; it is refused when the recipe is loaded.

The estimate is analytic, so it costs nothing at load time. A Burgers front is the
steady viscous shock $u = -\\frac{\\Delta}{2}\\tanh(x/\\delta)$ with width
$\\delta = 4\\nu/\\Delta$ for a jump $\\Delta$. Its Fourier amplitudes relative to the
lowest mode are $r(k) = \\frac{\\pi\\delta/2}{\\sinh(\\pi k\\delta/2)}$ (the transform
of $\\mathrm{sech}^2$), evaluated at the top mode kept by the 2/3 rule,
$k = 2\\pi m / L$ with $3m < N$ and the longest $L$. The jump is taken as
$\\Delta = M A$ (`num_modes` x `max_amplitude`, the bound on $|u_0|$, i.e. half the
largest possible jump), which reproduces the measurement: the estimate crosses 1 % at
nu = 0.067 on burgers-tiny's grid, just below the measured 0.08. So the check is
conservative: it refuses grids that are clearly too coarse, not marginal ones.
"""

import math

THRESHOLD = 0.01  # the shipped recipes' criterion: top modes below ~1 % of the peak


def front_mode_ratio(mode: int, length: float, width: float) -> float:
    r"""$|\hat u(k_m)| / |\hat u(k_1)|$ for a tanh front of width `width` on a
    periodic domain of length `length`, $k_m = 2\pi m / L$: the Fourier transform of
    $\tanh(x/\delta)$ is $\pi\delta / (i \sinh(\pi k \delta / 2))$."""
    k1 = 2 * math.pi / length
    a = math.pi * k1 * mode * width / 2
    if a > 700:  # sinh overflows; the ratio is far below any threshold
        return 0.0
    return math.sinh(math.pi * k1 * width / 2) / math.sinh(a)


def top_mode_share(num_points: int, length: float, nu: float, jump: float) -> float:
    """The estimated amplitude of the top retained Fourier mode of a front of
    viscosity `nu` and jump `jump`, relative to the lowest mode."""
    top = math.ceil(num_points / 3) - 1  # Orszag's 2/3 rule keeps 3|m| < N
    return front_mode_ratio(top, length, 4 * nu / jump)


def _resolved(num_points, length, nu, jump) -> bool:
    return top_mode_share(num_points, length, nu, jump) <= THRESHOLD


def _smallest(ok, start, *, real: bool = False):
    """The smallest value >= `start` for which `ok` holds (`ok` is monotone):
    doubling, then bisection (to an integer, or to 1e-3 relative when `real`)."""
    low, high = start, start
    while not ok(high):
        low, high = high, 2 * high
    while (high - low > 1e-3 * high) if real else (high - low > 1):
        mid = 0.5 * (low + high) if real else (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def check_burgers_resolution(recipe) -> None:
    """Refuse a Burgers recipe whose grid cannot resolve the fronts of its smallest
    viscosity, naming both fixes (more points or a larger viscosity)."""
    ic = recipe.initial_condition
    jump = ic.num_modes * ic.max_amplitude
    n, length, nu = recipe.num_points, recipe.length.high, recipe.parameters["nu"].low
    share = top_mode_share(n, length, nu, jump)
    if share <= THRESHOLD:
        return
    points = 2 * _smallest(lambda m: _resolved(2 * m, length, nu, jump), n // 2)
    smallest_nu = _smallest(lambda v: _resolved(n, length, v, jump), nu, real=True)
    raise ValueError(
        f"the {n}-point grid cannot resolve Burgers fronts at nu = {nu:g} (the "
        f"estimated top retained Fourier mode is {share:.1%} of the peak, above "
        f"{THRESHOLD:.0%}; see pdessl.pdes._resolution). Use at least "
        f"{points} points (grid.num_points), or nu >= {smallest_nu:.3g} (parameters.nu)."
    )
