"""Saving and loading parameters: bit-exact round trips, clear refusals, no pickle."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffviz as dv

CONFIG = dv.DenoiserConfig(dim=2)


@pytest.fixture(scope="module")
def model():
    return dv.init_denoiser(jax.random.key(0), CONFIG)


def _leaves(tree):
    return jax.tree_util.tree_leaves(tree)


def test_round_trip_is_bit_exact_and_keeps_structure_and_dtypes(model, tmp_path):
    graphdef, params = model
    path = tmp_path / "denoiser.npz"
    dv.save_params(path, params)
    # a template with other values: only its structure is used
    _, template = dv.init_denoiser(jax.random.key(1), CONFIG)
    loaded = dv.load_params(path, template)
    assert type(loaded) is type(params)
    assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(params)
    for a, b in zip(_leaves(params), _leaves(loaded), strict=True):
        assert isinstance(b, jax.Array) and b.dtype == a.dtype == jnp.float32
        assert np.array_equal(np.asarray(a), np.asarray(b))
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()  # bits, not just values
    assert not all(np.array_equal(a, b) for a, b in zip(_leaves(template), _leaves(loaded)))  # values came from the file
    # the loaded parameters drive the network exactly like the originals
    x = jax.random.normal(jax.random.key(2), (5, 2))
    np.testing.assert_array_equal(dv.apply_denoiser(graphdef, loaded, x, 3), dv.apply_denoiser(graphdef, params, x, 3))


def test_file_layout_readable_keys_and_manifest(model, tmp_path):
    _, params = model
    path = tmp_path / "no-suffix"  # written at exactly this name
    dv.save_params(str(path), params)
    assert path.exists() and not (tmp_path / "no-suffix.npz").exists()
    with np.load(path, allow_pickle=False) as f:
        keys = set(f.files)
        manifest = json.loads(f["__manifest__"].tobytes().decode("utf-8"))
        kernel = f["blocks/0/linear/kernel"]
    assert "blocks/0/linear/kernel" in keys and "inp/bias" in keys and "out/kernel" in keys
    assert manifest["format"] == "diffviz-params" and manifest["version"] == 2
    entries = {e["key"]: e for e in manifest["params"]}
    assert set(entries) == keys - {"__manifest__"}
    assert entries["blocks/0/linear/kernel"]["shape"] == [64, 64] and kernel.shape == (64, 64)
    assert np.dtype(entries["inp/kernel"]["dtype"]) == np.float32


def test_plain_pytrees_round_trip_too(tmp_path):
    tree = {"w": [jnp.arange(6.0).reshape(2, 3), jnp.array(-0.0)], "steps": jnp.int32(7), "mask": jnp.array([True, False])}
    path = tmp_path / "tree.npz"
    dv.save_params(path, tree)
    loaded = dv.load_params(path, tree)
    assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(tree)
    for a, b in zip(_leaves(tree), _leaves(loaded), strict=True):
        assert a.dtype == b.dtype and np.asarray(a).tobytes() == np.asarray(b).tobytes()
    # a shape-only template (jax.eval_shape) works as `like`
    shapes = jax.eval_shape(lambda: tree)
    assert np.array_equal(dv.load_params(path, shapes)["w"][0], tree["w"][0])


def test_loading_into_a_model_of_another_width_names_the_parameter(model, tmp_path):
    _, params = model
    path = tmp_path / "w64.npz"
    dv.save_params(path, params)
    _, wide = dv.init_denoiser(jax.random.key(0), CONFIG._replace(width=128))
    pattern = (
        r"checkpoint does not match the model: parameter 'blocks/0/linear/bias' has shape \(64,\) "
        r"in the file and \(128,\) in the model"
    )
    with pytest.raises(ValueError, match=pattern):
        dv.load_params(path, wide)


def test_missing_and_extra_parameters_are_reported(model, tmp_path):
    _, params = model
    path = tmp_path / "depth3.npz"
    dv.save_params(path, params)
    _, deeper = dv.init_denoiser(jax.random.key(0), CONFIG._replace(depth=4))
    with pytest.raises(ValueError, match=r"parameter 'blocks/3/linear/bias' of the model is missing from the file"):
        dv.load_params(path, deeper)
    _, shallower = dv.init_denoiser(jax.random.key(0), CONFIG._replace(depth=2))
    with pytest.raises(ValueError, match=r"the file has a parameter 'blocks/2/linear/bias' that the model does not have"):
        dv.load_params(path, shallower)


def test_dtype_mismatch_is_reported(tmp_path):
    path = tmp_path / "f16.npz"
    dv.save_params(path, {"w": jnp.zeros((2,), jnp.float16)})
    with pytest.raises(ValueError, match=r"parameter 'w' has dtype float16 in the file and float32 in the model"):
        dv.load_params(path, {"w": jnp.zeros((2,), jnp.float32)})


UNPICKLED = []


def _record_unpickling(tag):
    UNPICKLED.append(tag)  # would run if anything in the file were unpickled
    return tag


class _Payload:
    def __reduce__(self):
        return (_record_unpickling, ("code from the file ran",))


def saved_contents(params, path) -> dict[str, np.ndarray]:
    """Save ``params`` at ``path`` and return every array of the archive (to tamper with)."""
    dv.save_params(path, params)
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_object_arrays_are_refused_without_running_anything(model, tmp_path):
    _, params = model
    contents = saved_contents(params, tmp_path / "good.npz")
    payload = np.empty((1,), dtype=object)
    payload[0] = _Payload()
    UNPICKLED.clear()
    for key in ("blocks/0/linear/kernel", "__manifest__"):
        bad = tmp_path / f"bad-{key.replace('/', '-')}.npz"
        np.savez(bad, **{**contents, key: payload})  # np.savez pickles object arrays
        with pytest.raises(ValueError, match=r"object array .*refused"):
            dv.load_params(bad, params)
    # a file that is a bare pickle is refused as well
    pickled = tmp_path / "pickle.npy"
    np.save(pickled, payload, allow_pickle=True)
    with pytest.raises(ValueError, match=r"could not be read|single \.npy array|object array"):
        dv.load_params(pickled, params)
    assert UNPICKLED == []


def test_damaged_or_foreign_files_are_refused(model, tmp_path):
    _, params = model
    not_ours = tmp_path / "plain.npz"
    np.savez(not_ours, a=np.zeros(3))
    with pytest.raises(ValueError, match=r"is not a diffviz checkpoint: it has no '__manifest__' entry"):
        dv.load_params(not_ours, params)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"could not be read as an \.npz checkpoint"):
        dv.load_params(text, params)
    # an array missing from the archive although the manifest lists it
    contents = saved_contents(params, tmp_path / "good.npz")
    del contents["out/bias"]
    np.savez(tmp_path / "cut.npz", **contents)
    with pytest.raises(ValueError, match=r"damaged: the array 'out/bias' is in its manifest but missing"):
        dv.load_params(tmp_path / "cut.npz", params)


def _with_manifest(contents, **changes):
    manifest = json.loads(contents["__manifest__"].tobytes().decode("utf-8"))
    manifest.update(changes)
    return {**contents, "__manifest__": np.frombuffer(json.dumps(manifest).encode("utf-8"), np.uint8)}


def test_every_kind_of_tampering_is_refused_with_its_own_message(model, tmp_path):
    """One file per check of load_params, each altered in one way only."""
    _, params = model
    good = saved_contents(params, tmp_path / "good.npz")
    cases = {
        # an array whose shape disagrees with the manifest (which still matches the model)
        "reshaped": ({**good, "out/bias": np.zeros(3, np.float32)}, r"damaged: parameter 'out/bias' is stored with shape \(3,\)"),
        # an extra array that the manifest does not list
        "extra": ({**good, "stray": np.zeros(2, np.float32)}, r"damaged: the array 'stray' is not listed in its manifest"),
        # a manifest of another format
        "format": (_with_manifest(good, format="someone-else"), r"unreadable manifest \(format 'someone-else'\)"),
    }
    for name, (contents, pattern) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **contents)
        with pytest.raises(ValueError, match=pattern):
            dv.load_params(path, params)
    assert dv.load_params(tmp_path / "good.npz", params) is not None


def test_float64_parameters_are_refused_unless_x64_is_on(tmp_path):
    path = tmp_path / "f64.npz"
    dv.save_params(path, {"w": np.ones(3, np.float64)})
    with pytest.raises(ValueError, match=r"parameter 'w' has dtype float64, which JAX would convert to float32"):
        dv.load_params(path, {"w": np.ones(3, np.float64)})


def test_version_1_files_are_refused(model, tmp_path):
    """Version 1 stored weights for the older input-feature order: loading one must fail loudly."""
    _, params = model
    good = tmp_path / "good.npz"
    contents = saved_contents(params, good)
    manifest = json.loads(contents["__manifest__"].tobytes().decode("utf-8"))
    manifest["version"] = 1
    contents["__manifest__"] = np.frombuffer(json.dumps(manifest).encode("utf-8"), np.uint8)
    np.savez(tmp_path / "old.npz", **contents)
    with pytest.raises(ValueError, match=r"checkpoint format version 1; this diffviz reads version 2 .*retrain"):
        dv.load_params(tmp_path / "old.npz", params)
    assert dv.load_params(good, params) is not None  # the same file at version 2 loads


BAD_SAVE = {
    "object leaf": (lambda p: dv.save_params(p, {"w": np.array(["a"], dtype=object)}), r"parameter 'w' has dtype object"),
    "string leaf": (lambda p: dv.save_params(p, {"w": np.array(["a"])}), r"parameter 'w' has dtype <U1"),
    "no leaves": (lambda p: dv.save_params(p, {}), r"params must be a pytree of arrays"),
    "clash": (lambda p: dv.save_params(p, {"a/b": jnp.zeros(1), "a": {"b": jnp.zeros(1)}}), r"same key 'a/b'"),
    "manifest name": (lambda p: dv.save_params(p, {"__manifest__": jnp.zeros(1)}), r"same key '__manifest__'"),
    "path": (lambda p: dv.save_params(3, {"w": jnp.zeros(1)}), r"path must be a file name"),
}


@pytest.mark.parametrize("case", list(BAD_SAVE))
def test_bad_save_input_raises_a_named_value_error(case, tmp_path):
    call, pattern = BAD_SAVE[case]
    with pytest.raises(ValueError, match=pattern):
        call(tmp_path / "x.npz")
