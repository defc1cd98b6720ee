"""`GPT`'s served endpoints: `generate` (a prompt extended with the
key/value cache, as one compiled loop) and `logits`, with the input
signatures of an unconditional, class-conditional or vector-conditioned
model, and the clamping of ids and labels that stands in for checks a
served graph cannot make. Apart from `gpt.py`, which holds the network,
its likelihood and configuration, because this is the export half,
read as a plain function of the model that its `serving_endpoints`
method calls (the method keeps the signature and docstring)."""

import keras
from keras import ops

from kgen import samplers


def serving_endpoints(
    model, prompt_length=1, max_new_tokens=None, sampler="greedy"
):
    """`GPT.serving_endpoints`: `{name: (function, input_specs)}` of
    `generate` and `logits`."""
    if not isinstance(prompt_length, int) or not (
        1 <= prompt_length < model.sequence_length
    ):
        raise ValueError(
            "`prompt_length` must be an int in [1, "
            f"{model.sequence_length}); received {prompt_length!r}."
        )
    new = max_new_tokens or model.sequence_length - prompt_length
    if prompt_length + new > model.sequence_length:
        raise ValueError(
            f"`prompt_length` + `max_new_tokens` ({prompt_length + new})"
            f" exceeds the context of {model.sequence_length} tokens."
        )
    sampler = samplers.get(sampler)

    def clamped_labels(labels):
        if labels is None:
            return None
        return ops.clip(labels, 0, model.num_classes - 1)

    def generate(prompt, seed, labels=None, condition=None):
        prompt = ops.clip(prompt, 0, model.vocabulary_size - 1)
        padding = ops.zeros((ops.shape(prompt)[0], new), "int32")
        return model.generate_loop(
            ops.concatenate([prompt, padding], axis=1),
            prompt_length,
            sampler,
            seed,
            use_cache=True,
            labels=clamped_labels(labels),
            condition=condition,
        )

    def logits(tokens, labels=None, condition=None):
        # A graph cannot raise on a value: ids out of range are
        # clamped to [0, vocabulary_size - 1], as the docstring says.
        tokens = ops.clip(tokens, 0, model.vocabulary_size - 1)
        return model(model._inputs(tokens, clamped_labels(labels), condition))

    prompt_spec = keras.InputSpec(shape=(None, prompt_length), dtype="int32")
    seed_spec = keras.InputSpec(shape=(2,), dtype="int32")
    tokens_spec = keras.InputSpec(shape=(None, None), dtype="int32")
    labels_spec = keras.InputSpec(shape=(None,), dtype="int32")
    condition_spec = keras.InputSpec(
        shape=(None, model.condition_dim), dtype="float32"
    )
    # The conditioning inputs follow the tokens, labels first; each
    # endpoint's argument names are its signature's input names.
    if model.is_class_conditional and model.condition_dim is not None:
        return {
            "generate": (
                lambda prompt, labels, condition, seed: generate(
                    prompt, seed, labels, condition
                ),
                [prompt_spec, labels_spec, condition_spec, seed_spec],
            ),
            "logits": (
                logits,
                [tokens_spec, labels_spec, condition_spec],
            ),
        }
    if model.is_class_conditional:
        return {
            "generate": (
                lambda prompt, labels, seed: generate(prompt, seed, labels),
                [prompt_spec, labels_spec, seed_spec],
            ),
            "logits": (logits, [tokens_spec, labels_spec]),
        }
    if model.condition_dim is not None:
        return {
            "generate": (
                lambda prompt, condition, seed: generate(
                    prompt, seed, condition=condition
                ),
                [prompt_spec, condition_spec, seed_spec],
            ),
            "logits": (
                lambda tokens, condition: logits(tokens, condition=condition),
                [tokens_spec, condition_spec],
            ),
        }
    return {
        "generate": (generate, [prompt_spec, seed_spec]),
        "logits": (logits, [tokens_spec]),
    }
