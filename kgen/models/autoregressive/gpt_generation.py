"""Token generation for `GPT`: a prompt extended token by token, with or
without the key/value cache, as one `ops.fori_loop`."""

from keras import ops

from kgen import backend
from kgen import samplers
from kgen.models import public_inputs
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_int


class GPTGeneration:
    """`generate` and its loop (a mixin, kept apart so that the model's
    file holds its network and likelihood; export is `gpt_export`).

    Needs from the model: `__call__`, `call_with_cache`, `empty_cache`,
    `sequence_length`, `_inputs`, `_check_tokens` and `_check_condition`.
    """

    def generate(
        self,
        prompt,
        max_new_tokens,
        *,
        labels=None,
        condition=None,
        sampler="greedy",
        seed=None,
        use_cache=True,
    ):
        """Extends each prompt by `max_new_tokens` tokens.

        Args:
            prompt: `(batch, prompt_length)` int token ids, at least one
                token each; `prompt_length + max_new_tokens` must fit the
                context (`sequence_length`).
            max_new_tokens: int >= 1.
            labels: class-conditional models: one class id per prompt
                (or one int for all).
            condition: models built with `condition_dim`: one condition
                vector per prompt.
            sampler: a `kgen.samplers.TokenSampler` or its name
                (`"greedy"`, `"random"`, `"top_k"`, `"top_p"`).
            seed: int or `None` (the model's own seed generator).
            use_cache: bool. `False` reruns the whole sequence for every
                token (the naive loop, kept to check and time the cache).

        Returns:
            `(batch, prompt_length + max_new_tokens)` int32 tokens.
        """
        prompt = self._check_tokens(prompt, "prompt")
        labels = public_inputs.check_labels(self, labels, prompt)
        condition = self._check_condition(condition, len(prompt))
        max_new_tokens = validate_int(max_new_tokens, "max_new_tokens")
        batch, prompt_length = prompt.shape
        total = prompt_length + max_new_tokens
        if total > self.sequence_length:
            raise ValueError(
                f"The prompt ({prompt_length} tokens) plus `max_new_tokens` "
                f"({max_new_tokens}) exceeds the context of "
                f"{self.sequence_length} tokens (`sequence_length`)."
            )
        sampler = samplers.get(sampler)
        loop_seed = seeds.loop_seed(public_inputs.seed_source(self, seed))
        tokens = ops.concatenate(
            [
                ops.convert_to_tensor(prompt, "int32"),
                ops.zeros((batch, max_new_tokens), "int32"),
            ],
            axis=1,
        )

        def program(model, tokens, loop_seed, labels, condition):
            return model.generate_loop(
                tokens,
                prompt_length,
                sampler,
                loop_seed,
                use_cache,
                labels,
                condition,
            )

        # One compiled program per prompt and total length and rule, as
        # the denoisers' loops (`backend.inference_program`); a sampler's
        # `repr` is its config (`TokenSampler.get_config`).
        key = ("gpt.generate", prompt_length, total, bool(use_cache))
        key += (type(sampler), repr(sampler))
        return backend.inference_program(
            self, key, program, tokens, loop_seed, labels, condition
        )

    def generate_loop(
        self,
        tokens,
        prompt_length,
        sampler,
        loop_seed,
        use_cache,
        labels=None,
        condition=None,
    ):
        """Fills `tokens[:, prompt_length:]` one position at a time as one
        `ops.fori_loop`; `prompt_length` is a Python int. The class
        `labels` enter at position 0 (the prefill), the `condition`
        vectors at every position."""
        if labels is not None:
            labels = ops.convert_to_tensor(labels, "int32")
        total = tokens.shape[1]
        positions = ops.arange(total)

        def write(tokens, index, logits):
            step_seed = loop_seed + ops.stack([0, index])
            if sampler.reads_previous_token:
                previous = ops.take(tokens, prompt_length + index - 1, axis=1)
                token = sampler(logits, step_seed, previous_tokens=previous)
            else:
                token = sampler(logits, step_seed)
            here = positions[None, :] == prompt_length + index
            return ops.where(here, token[:, None], tokens), token

        if not use_cache:

            def naive_step(index, tokens):
                # 1. Rerun the whole sequence; read the logits just before
                #    the position to fill.
                inputs = self._inputs(tokens, labels, condition)
                logits = ops.take(
                    self(inputs), prompt_length + index - 1, axis=1
                )
                # 2. Draw the next token and write it.
                return write(tokens, index, logits)[0]

            return ops.fori_loop(0, total - prompt_length, naive_step, tokens)

        # 1. Prefill: the prompt's keys and values in one pass.
        cache = self.empty_cache(ops.shape(tokens)[0], total)
        logits, cache = self.call_with_cache(
            tokens[:, :prompt_length], cache, 0, labels, condition
        )

        def cached_step(index, carry):
            tokens, cache, logits = carry
            # 2. Draw the next token from the last logits and write it.
            tokens, token = write(tokens, index, logits)
            # 3. One position through the stack: the logits for the next
            #    token, and the new token's keys and values in the cache.
            logits, cache = self.call_with_cache(
                token[:, None], cache, prompt_length + index, None, condition
            )
            return tokens, cache, logits[:, -1]

        tokens, _, _ = ops.fori_loop(
            0,
            total - prompt_length,
            cached_step,
            (tokens, cache, logits[:, -1]),
        )
        return tokens
