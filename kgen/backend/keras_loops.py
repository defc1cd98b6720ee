"""`fit`, `evaluate` and `predict` of any Keras model (a kgen model or a
plain classifier, scorer or judge), as Keras runs them: JAX and torch
feed their data as Keras does. TensorFlow's own versions (in
`kgen.backend.tensorflow`) feed arrays and `PyDataset`s through
pipelines that do not autotune."""


def fit(model, x=None, y=None, **kwargs):
    """`model.fit(x, y, **kwargs)`."""
    return model.fit(x, y, **kwargs)


def evaluate(model, x=None, y=None, **kwargs):
    """`model.evaluate(x, y, **kwargs)`."""
    return model.evaluate(x, y, **kwargs)


def predict(model, x, **kwargs):
    """`model.predict(x, **kwargs)`."""
    return model.predict(x, **kwargs)
