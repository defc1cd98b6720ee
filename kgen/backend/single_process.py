"""The job helpers of a backend whose Keras `fit` runs one process
(TensorFlow, torch in Keras 3.15): this process is the whole job; see
`kgen.backend`."""


def process_id():
    return 0


def num_processes():
    return 1


def sync_processes(name):
    return None
