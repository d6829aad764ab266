r"""Save and load network parameters as a plain ``.npz`` file, without pickle.

File format (version 2)
-----------------------
An uncompressed NumPy ``.npz`` archive (written with ``np.savez``) holding

* one array per parameter, under a key made from its path in the parameter pytree, such
  as ``"blocks/0/linear/kernel"`` (dict keys, attribute names and sequence indices joined
  with ``/``; the ``.value`` of an ``nnx.Variable`` is left out);
* ``"__manifest__"``: a ``uint8`` array holding UTF-8 JSON,
  ``{"format": "diffviz-params", "version": 2, "params": [{"key", "shape", "dtype"}, ...]}``,
  listing the parameters in pytree order.

Version 2 has the layout of version 1; the number changed with the meaning of the weights:
since then a network with an input embedding orders its first-layer inputs as
:func:`~diffviz.coordinate_embedding` does (all sines, then all cosines), where version-1
files were trained with the sine and cosine of each coordinate side by side. Read into a
version-2 network, such a file would load without complaint and predict nonsense, so
version-1 files are refused (retrain; chapters 7 and 8 then train their own model).

Only numeric arrays are stored, and files are read with ``np.load(..., allow_pickle=False)``:
loading a file never runs code from it, whoever made it. The structure (which layer is
which) is not stored: it comes from the template given to :func:`load_params`, usually the
``params`` of a freshly initialised model with the same :class:`DenoiserConfig`.
"""

from __future__ import annotations

import json
import os
import zipfile

import jax
import jax.numpy as jnp
import numpy as np

FORMAT_NAME = "diffviz-params"
FORMAT_VERSION = 2
_MANIFEST_KEY = "__manifest__"
_STORABLE_KINDS = "biuf"  # bool, signed and unsigned int, float: native NumPy dtypes only


def _path_key(path) -> str:
    """``"blocks/0/linear/kernel"`` from a ``tree_flatten_with_path`` key path."""
    parts = []
    for entry in path:
        if isinstance(entry, jax.tree_util.DictKey):
            parts.append(str(entry.key))
        elif isinstance(entry, jax.tree_util.SequenceKey):
            parts.append(str(entry.idx))
        elif isinstance(entry, jax.tree_util.GetAttrKey):
            parts.append(entry.name)
        elif isinstance(entry, jax.tree_util.FlattenedIndexKey):
            parts.append(str(entry.key))
        else:
            parts.append(str(entry))
    # An nnx.Variable (e.g. nnx.Param) holds its array in the attribute `value`.
    if len(path) > 1 and isinstance(path[-1], jax.tree_util.GetAttrKey) and path[-1].name == "value":
        parts.pop()
    return "/".join(parts)


def _flatten(name: str, tree) -> tuple[list[tuple[str, jax.Array]], jax.tree_util.PyTreeDef]:
    """``[(key, leaf), ...]`` in pytree order and the treedef; keys must be unique."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    if not leaves:
        raise ValueError(f"{name} must be a pytree of arrays (e.g. the params of init_denoiser); it has none")
    items = [(_path_key(path), leaf) for path, leaf in leaves]
    seen = set()
    for key, _ in items:
        if key in seen or key == _MANIFEST_KEY:
            raise ValueError(f"{name} has two parameters that would be stored under the same key {key!r}")
        seen.add(key)
    return items, treedef


def _leaf_array(key: str, leaf) -> np.ndarray:
    arr = np.asarray(jax.device_get(leaf))
    if arr.dtype.kind not in _STORABLE_KINDS:
        raise ValueError(
            f"parameter {key!r} has dtype {arr.dtype}; only bool, integer and float arrays "
            "with a native NumPy dtype can be saved"
        )
    return arr


def _shape_dtype(leaf) -> tuple[tuple[int, ...], str]:
    """Shape and dtype string of a template leaf (an array or a ``jax.ShapeDtypeStruct``)."""
    if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
        leaf = np.asarray(leaf)
    return tuple(int(s) for s in leaf.shape), np.dtype(leaf.dtype).str


def _check_path(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file name (str or os.PathLike); got {type(path).__name__}")
    return os.fspath(path)


def save_params(path, params) -> None:
    """Write a parameter pytree to ``path`` as an ``.npz`` file (see the module docstring).

    The file is written at exactly ``path`` (no ``.npz`` is appended) and overwritten if it
    exists. Arrays are stored with their own dtype and bits, so :func:`load_params` gives
    back identical values.

    Args:
        path: the file name, a ``str`` or ``os.PathLike``.
        params: an ``nnx.State`` (the ``params`` of :func:`init_denoiser`) or any pytree of
            arrays with bool, integer or float dtype.

    Raises:
        ValueError: if ``params`` has no leaves, a leaf of another dtype (object, string,
            ``bfloat16``...), or two leaves whose paths give the same key.
    """
    path = _check_path(path)
    items, _ = _flatten("params", params)
    arrays = {key: _leaf_array(key, leaf) for key, leaf in items}
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "params": [{"key": k, "shape": list(a.shape), "dtype": a.dtype.str} for k, a in arrays.items()],
    }
    arrays[_MANIFEST_KEY] = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as f:  # a file object: np.savez then keeps the name as given
        np.savez(f, **arrays)


def _read_array(archive, key: str, path: str) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as err:
        if "pickle" not in str(err):  # NumPy names allow_pickle when it refuses an object array
            raise ValueError(f"{path} is damaged: the array {key!r} could not be read ({err})") from err
        raise ValueError(
            f"{path} holds an object array under {key!r} (pickled Python objects); "
            "refused: diffviz checkpoints contain numeric arrays only"
        ) from err


def _read_manifest(archive, path: str) -> list[dict]:
    if _MANIFEST_KEY not in archive.files:
        raise ValueError(f"{path} is not a diffviz checkpoint: it has no {_MANIFEST_KEY!r} entry")
    raw = _read_array(archive, _MANIFEST_KEY, path)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise TypeError("the manifest is not a 1-D uint8 array")
        manifest = json.loads(raw.tobytes().decode("utf-8"))
        if manifest.get("format") != FORMAT_NAME:
            raise TypeError(f"format {manifest.get('format')!r}")
        entries = manifest["params"]
        parsed = [
            (str(e["key"]), tuple(int(s) for s in e["shape"]), np.dtype(e["dtype"]).str) for e in entries
        ]
    except (TypeError, KeyError, ValueError, AttributeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a valid diffviz checkpoint: unreadable manifest ({err})") from err
    if manifest.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format version {manifest.get('version')!r}; "
            f"this diffviz reads version {FORMAT_VERSION} (see diffviz/_checkpoint.py; retrain the model)"
        )
    return parsed


def load_params(path, like):
    """Read parameters saved by :func:`save_params` into the structure of ``like``.

    The file is opened with ``allow_pickle=False``: an object array in it (pickled data,
    which could run code when unpickled) is refused, never loaded. Before anything is
    returned, the file's manifest is checked against ``like``: the same parameter keys, and
    for each the same shape and dtype, so loading weights into a model of another size fails
    loudly instead of half-working.

    Args:
        path: the file written by :func:`save_params`.
        like: a template with the wanted structure, e.g. the ``params`` of
            ``init_denoiser(key, config)`` for the config the weights were trained with.
            Only its structure, shapes and dtypes are used, not its values (so the output
            of ``jax.eval_shape`` works too).

    Returns:
        A pytree with the structure of ``like`` (an ``nnx.State`` for an ``nnx.State``)
        holding JAX arrays bit-identical to the saved ones, with the saved dtypes (which
        must equal those of ``like``; float32 for the denoiser).

    Raises:
        ValueError: if the file is not a diffviz checkpoint, holds an object array, or does
            not match ``like``: the message names the first parameter that differs, e.g.
            ``checkpoint does not match the model: parameter 'blocks/0/linear/kernel' has
            shape (64, 64) in the file and (128, 128) in the model``.
    """
    path = _check_path(path)
    items, treedef = _flatten("like", like)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path} could not be read as an .npz checkpoint ({err})") from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single .npy array, not an .npz checkpoint")
    with archive:
        entries = _read_manifest(archive, path)
        in_file = {key: (shape, dtype) for key, shape, dtype in entries}
        mismatch = "checkpoint does not match the model"
        for key, leaf in items:
            model_shape, model_dtype = _shape_dtype(leaf)
            if key not in in_file:
                raise ValueError(f"{mismatch}: parameter {key!r} of the model is missing from the file")
            shape, dtype = in_file[key]
            if shape != model_shape:
                raise ValueError(
                    f"{mismatch}: parameter {key!r} has shape {shape} in the file "
                    f"and {model_shape} in the model"
                )
            if dtype != model_dtype:
                raise ValueError(
                    f"{mismatch}: parameter {key!r} has dtype {np.dtype(dtype)} in the file and "
                    f"{np.dtype(model_dtype)} in the model"
                )
        model_keys = {key for key, _ in items}
        for key, _, _ in entries:
            if key not in model_keys:
                raise ValueError(f"{mismatch}: the file has a parameter {key!r} that the model does not have")
        stored = set(archive.files) - {_MANIFEST_KEY}
        for key in sorted(stored ^ set(in_file)):
            where = "is not listed in its manifest" if key in stored else "is in its manifest but missing"
            raise ValueError(f"{path} is damaged: the array {key!r} {where}")
        leaves = []
        for key, _ in items:
            arr = _read_array(archive, key, path)
            if (arr.shape, arr.dtype.str) != in_file[key]:
                raise ValueError(
                    f"{path} is damaged: parameter {key!r} is stored with shape {arr.shape} and dtype "
                    f"{arr.dtype}, but its manifest says {in_file[key][0]} and {np.dtype(in_file[key][1])}"
                )
            leaf = jnp.asarray(arr)
            if leaf.dtype != arr.dtype:  # e.g. float64 while jax_enable_x64 is off: not bit-exact
                raise ValueError(
                    f"parameter {key!r} has dtype {arr.dtype}, which JAX would convert to {leaf.dtype}; "
                    "enable jax_enable_x64 to load it"
                )
            leaves.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, leaves)
