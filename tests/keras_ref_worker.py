"""Runs ``tconv_lib.keras_ref`` calls in a fresh process, on the backend ``KERAS_BACKEND`` names.

Keras reads KERAS_BACKEND when it is first imported, so one process holds one backend:
tests/test_backends.py sends its calls here. Usage:
``KERAS_BACKEND=jax python tests/keras_ref_worker.py CALLS.pkl RESULTS.pkl``, where CALLS.pkl
holds a list of ``(function name, args, kwargs)``; RESULTS.pkl gets
``{"device": keras_ref.device_description(), "results": [...]}``, each result the function's
return value or, where it raised, ``"ErrorType: message"``.
"""
import pickle
import sys

from tconv_lib import keras_ref


def main(calls_path: str, results_path: str) -> None:
    with open(calls_path, "rb") as f:
        calls = pickle.load(f)
    results = []
    for name, args, kwargs in calls:
        try:
            results.append(getattr(keras_ref, name)(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - the caller compares the fact, and the type
            results.append(f"{type(error).__name__}: {error}"[:300])
    with open(results_path, "wb") as f:
        pickle.dump({"device": keras_ref.device_description(), "results": results}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
