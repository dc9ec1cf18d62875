"""rbsm.fit / rbsm.load_fit (LibTorch builds): a small fit on S^2 whose density integrates to one, the same
run through the CLI (`rbsm fit`, `rbsm density --json`), sampling, reloading, bad data."""
import os
import subprocess

import numpy as np
import pytest

import rbsm
from conftest import cli_path

pytestmark = pytest.mark.skipif(not hasattr(rbsm, "fit"), reason="rbsm was built without LibTorch")

OPTS = dict(steps=60, width=32, depth=1, frequencies=4, levels=6, sigma_min=0.05, sigma_max=0.5, batch=128,
            eval_every=20, val_examples=256, warmup=10, seed=3)


@pytest.fixture(scope="module")
def data():
    M = rbsm.manifold("sphere:2")
    return M, rbsm.density(M, "vmf:kappa=4").sample(500, seed=1)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    M, X = data
    return rbsm.fit(M, X, out=str(tmp_path_factory.mktemp("fit") / "run"), progress=False, threads=1, **OPTS)


def sphere_quadrature(n_theta=120, n_phi=240):
    """Gauss-Legendre in cos(theta) x uniform in phi: exact for smooth integrands to high order."""
    x, w = np.polynomial.legendre.leggauss(n_theta)
    phi = (np.arange(n_phi) + 0.5) * 2 * np.pi / n_phi
    c, p = np.meshgrid(x, phi, indexing="ij")
    s = np.sqrt(1 - c**2)
    Z = np.stack([s * np.cos(p), s * np.sin(p), c], -1).reshape(-1, 3)
    W = (w[:, None] * np.full(n_phi, 2 * np.pi / n_phi)[None, :]).reshape(-1)
    return Z, W


def test_fit_density_is_normalised(run):
    assert run.train.shape == (400, 3) and run.val.shape == (50, 3) and run.test.shape == (50, 3)
    assert run.outcome["steps"] == 60
    Z, W = sphere_quadrature()
    for sigma in [None, 0.1]:
        lp = run.log_density(Z, sigma=sigma)
        assert lp.shape == (len(Z),)
        assert np.sum(W * np.exp(lp)) == pytest.approx(1.0, abs=2e-3)
    d = run.density()
    assert d["sigma_eval"] in run.sigma_levels and d["normaliser_method"] == "adaptive-cubature"


def test_fit_scores_are_tangent_and_energy_consistent(run, data):
    M, X = data
    Z = X[:10]
    s = run.score(Z, 0.1)
    np.testing.assert_allclose(np.einsum("ni,ni->n", s, Z), 0, atol=1e-5)  # tangent on S^2 (float32 network)
    e = run.energy(Z, 0.1)
    lp = run.log_density(Z, sigma=0.1)
    np.testing.assert_allclose(e - lp, (e - lp)[0], rtol=1e-9)  # log p = E - log Z


def test_sample_and_reload(run):
    S = run.sample(64, seed=2, steps_per_level=3, mala_steps=5, progress=False)
    assert S.shape == (64, 3)
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1, atol=1e-9)
    again = rbsm.load_fit(run.path, val=run.val)
    Z = run.val[:5]
    np.testing.assert_allclose(again.log_density(Z), run.log_density(Z), rtol=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        rbsm.load_fit(run.path).log_density(Z)


def test_cli_density_on_the_same_run(run, tmp_path):
    cli = cli_path()
    if not cli:
        pytest.skip("the rbsm CLI is not built")
    Z = run.test[:7]
    np.save(tmp_path / "z.npy", Z)
    out = subprocess.run([cli, "density", "--checkpoint", run.path, "--points", str(tmp_path / "z.npy"), "--sigma",
                          "0.1", "--json"], capture_output=True, text=True, check=True)
    import json
    j = json.loads(out.stdout)
    np.testing.assert_allclose(run.log_density(Z, sigma=0.1), j["log_density"], rtol=1e-10)


def test_bad_data(data, tmp_path):
    M, X = data
    bad = X.copy()
    bad[7] *= 1.5
    with pytest.raises(ValueError, match="row"):
        rbsm.fit(M, bad, out=str(tmp_path / "a"), progress=False, **OPTS)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        rbsm.fit(M, X[:, :2], out=str(tmp_path / "b"), progress=False, **OPTS)
    with pytest.raises(ValueError, match="target"):
        rbsm.fit(M, X, target="nope", out=str(tmp_path / "c"), progress=False, **OPTS)
    with pytest.raises(ValueError, match="no-leave-one-out needs --target rb"):
        rbsm.fit(M, X, target="raw", leave_one_out=False, out=str(tmp_path / "d"), progress=False, **OPTS)
    with pytest.raises(OSError):
        rbsm.load_fit(str(tmp_path / "missing"))


def test_newer_options_reach_the_checkpoint(run, data, tmp_path):
    M, X = data
    rbsm.fit(M, X, out=str(tmp_path / "o"), progress=False, threads=1, fourier_features=4, fourier_scale=8.0,
             level_power=1.0, spread=1.5, leave_one_out=False, **dict(OPTS, steps=4, eval_every=2))
    o = rbsm.load_fit(str(tmp_path / "o")).options
    assert (o["level_power"], o["spread"], o["leave_one_out"]) == (1.0, 1.5, False)
    assert (o["net"]["fourier_features"], o["net"]["fourier_scale"]) == (4, 8.0)
    assert not {"level_power", "spread", "leave_one_out"} & set(run.options)  # defaults are not written



def test_fit_data_gives_the_cli_splits_of_the_catalogues():
    M = rbsm.manifold("sphere:2")
    here = os.path.dirname(os.path.abspath(__file__))
    raw = np.loadtxt(os.path.join(here, "..", "..", "data", "earth", "volerup.csv"), delimiter=",", comments="#",
                     skiprows=2)
    lat, lon = np.radians(raw[:, 0]), np.radians(raw[:, 1])
    catalogue = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)

    def key(X):  # the rows in a canonical order (distinct locations differ by > 1e-5)
        return X[np.lexsort(np.round(X, 6).T[::-1])]

    d = rbsm.fit_data(M, "earth:volcano", split_seed=2)
    assert (len(d["train"]), len(d["val"]), len(d["test"])) == (662, 82, 83)
    # a partition of the catalogue's rows, read here independently
    assert np.allclose(key(np.concatenate([d["train"], d["val"], d["test"]])), key(catalogue), rtol=0, atol=1e-12)
    train_rows = set(map(tuple, d["train"]))
    assert d["test_duplicates_in_train"] == sum(tuple(z) in train_rows for z in d["test"])
    assert d["test_duplicates_in_train"] > 40  # most volcano test points sit on a training location
    again, other = rbsm.fit_data(M, "earth:volcano", split_seed=2), rbsm.fit_data(M, "earth:volcano", split_seed=3)
    assert np.array_equal(again["test"], d["test"]) and not np.array_equal(other["test"], d["test"])
    # by location: no test point has a copy in train, and it is still a partition
    b = rbsm.fit_data(M, "earth:volcano", split_seed=2, by_location=True)
    assert b["test_duplicates_in_train"] == 0
    assert not set(map(tuple, b["test"])) & set(map(tuple, b["train"]))
    assert np.allclose(key(np.concatenate([b["train"], b["val"], b["test"]])), key(catalogue), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="sphere:2"):
        rbsm.fit_data(rbsm.manifold("torus:3,1"), "earth:volcano")
    with pytest.raises((ValueError, OSError), match="nope"):
        rbsm.fit_data(M, "earth:nope")
