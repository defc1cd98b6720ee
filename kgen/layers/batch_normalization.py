import keras

from kgen import backend


# Its own package: `kgen>BatchNormalization` is the bijector's name.
@keras.saving.register_keras_serializable(package="kgen.layers")
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training statistics are
    those of the global batch when a step runs data-parallel.

    Under `tf.distribute` each replica sees its share of the batch, so
    Keras' layer normalizes by per-replica statistics and a data-parallel
    run trains another model than a one-device run. Keras offers
    `synchronized=True`, but only on TensorFlow: the argument raises on
    the other backends and is saved in the config, so a network built with
    it would not load there. This layer keeps Keras' config and arguments
    and takes its moments from `kgen.backend.moments`, which all-reduces
    them across replicas when there are several (JAX arrays are global,
    so there is nothing to do on JAX).
    """

    def _moments(self, inputs, mask):
        # Keras' private hook for the batch moments (Keras 3.15, pinned in
        # setup.py; tests/data_parallel pins this behaviour).
        if mask is None and not self.synchronized:
            return backend.moments(inputs, self._reduction_axes)
        return super()._moments(inputs, mask)
