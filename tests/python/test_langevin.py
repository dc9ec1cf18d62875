"""rbsm.langevin: a Python drift called once per step reproduces the named drift bit for bit, MALA's
stationary law, shapes, errors, Ctrl-C."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import rbsm


def test_callable_matches_named_drift_bitwise():
    # on so3 the drift `true` is grad_M log q evaluated pointwise (no table), so the numbers are the same
    M = rbsm.manifold("so3")
    q = rbsm.density(M, "matrix-fisher:1,2,3")
    calls = []

    def drift(Z):
        calls.append(Z.shape)
        return q.score(Z)

    kw = dict(chains=16, steps=40, step_size=0.05, seed=9, record_every=5, progress=False)
    a = rbsm.langevin(M, "true", q=q, fast_path=False, **kw)
    b = rbsm.langevin(M, drift, **kw)
    assert len(calls) == 40 and calls[0] == (16, 9)
    assert a.samples.shape == b.samples.shape == (16, 4, 9)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not a.fast_path


def test_mala_stationary_law():
    kappa = 2.0
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, f"vmf:kappa={kappa}")
    res = rbsm.langevin(M, "true", q=q, chains=4000, steps=150, step_size=0.1, seed=1, burn_in=149, record_every=1,
                        metropolis=True, progress=False)
    t = res.samples[:, -1, 0]  # one independent state per chain
    assert 0.5 < res.acceptance_rate <= 1
    expected = 1 / np.tanh(kappa) - 1 / kappa  # E <mu, z> under vMF on S^2
    assert abs(t.mean() - expected) < 4 * t.std() / np.sqrt(len(t))


def test_initial_states_and_torus_callable():
    M = rbsm.manifold("torus:3,1")
    Z0 = M.sample_uniform(5, seed=2)
    res = rbsm.langevin(M, lambda Z: np.zeros_like(Z), chains=5, steps=10, step_size=1e-3, initial=Z0,
                        burn_in=0, record_every=1, progress=False)
    assert res.samples.shape == (5, 10, 3)
    np.testing.assert_allclose(M.project(res.samples.reshape(-1, 3)), res.samples.reshape(-1, 3), atol=1e-10)
    assert np.max(np.linalg.norm(res.samples[:, 0] - Z0, axis=1)) < 0.3


def test_errors():
    M = rbsm.manifold("sphere:2")
    q = rbsm.density(M, "vmf:kappa=1")
    with pytest.raises(ValueError, match="shape"):
        rbsm.langevin(M, lambda Z: Z[:, :2], chains=4, steps=3, record_every=1, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        rbsm.langevin(M, lambda Z: Z * np.nan, chains=4, steps=3, record_every=1, progress=False)

    def boom(Z):
        raise ZeroDivisionError("from the drift")

    with pytest.raises(ZeroDivisionError, match="from the drift"):
        rbsm.langevin(M, boom, chains=4, steps=3, record_every=1, progress=False)
    with pytest.raises(ValueError, match="potential"):
        rbsm.langevin(M, lambda Z: Z, chains=4, steps=3, record_every=1, metropolis=True, progress=False)
    with pytest.raises(ValueError, match="sigma"):
        rbsm.langevin(M, "rb", q=q, chains=4, steps=3, record_every=1, progress=False)
    with pytest.raises(ValueError, match="unknown drift"):
        rbsm.langevin(M, "nope", q=q, sigma=0.1, chains=4, steps=3, record_every=1, progress=False)
    with pytest.raises(ValueError, match="steps"):
        rbsm.langevin(M, "true", q=q, chains=4, steps=0, record_every=1, progress=False)
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        rbsm.langevin(M, "true", q=q, chains=4, steps=3, record_every=1, initial=np.zeros((3, 3)), progress=False)
    with pytest.raises(TypeError):
        rbsm.langevin(M, 42, chains=4, steps=3, record_every=1, progress=False)


def interrupt_after(seconds):
    t = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    t.start()
    return t


def test_ctrl_c_stops_a_long_named_run():
    M = rbsm.manifold("so3")
    q = rbsm.density(M, "matrix-fisher:1,2,3")
    timer = interrupt_after(0.5)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rbsm.langevin(M, "true", q=q, chains=100000, steps=2000, step_size=0.01, progress=False)
    timer.join()
    assert time.monotonic() - t0 < 20


def test_ctrl_c_stops_a_callable_run():
    M = rbsm.manifold("sphere:2")
    timer = interrupt_after(0.3)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rbsm.langevin(M, lambda Z: np.zeros_like(Z), chains=10, steps=10**8, progress=False)
    timer.join()
    assert time.monotonic() - t0 < 20
