"""Presets as data: a model's config, weights and model card in a folder.

`save_to_preset(model, directory)` writes one; `load_preset(name)` loads a
preset shipped inside the package or an installed preset package (offline,
from any installation) or a local directory, after checking the sha256 of
every file. A URL or an `hf://` handle loads too, downloaded once into a
local cache (`download_preset`).

```python
kgen.presets.list_presets()  # ['dcgan_digits', 'digits_classifier', ...]
vae = kgen.presets.load_preset("vae_digits")
kgen.presets.preset_metadata("vae_digits")["metrics"]
kgen.presets.save_to_preset(vae, "my_presets/vae", {"description": "..."})
kgen.presets.list_architectures()  # ['dcgan', 'ddpm', ...]: untrained
gan = kgen.models.DCGAN.from_preset("dcgan")  # built and compiled
```
"""

from kgen.presets.architectures import ARCHITECTURES
from kgen.presets.architectures import build_architecture
from kgen.presets.architectures import list_architectures
from kgen.presets.architectures import prepare_data
from kgen.presets.loading import from_preset
from kgen.presets.loading import has_tokenizer
from kgen.presets.loading import load_preset
from kgen.presets.loading import load_tokenizer
from kgen.presets.loading import preset_metadata
from kgen.presets.loading import verify_preset
from kgen.presets.lora_adapter import apply_lora_adapter
from kgen.presets.lora_adapter import save_lora_adapter
from kgen.presets.reference_check import check_preset
from kgen.presets.registry import PRESET_PACKAGES
from kgen.presets.registry import list_presets
from kgen.presets.registry import package_of
from kgen.presets.registry import package_source
from kgen.presets.registry import shipped_presets
from kgen.presets.remote import download_preset
from kgen.presets.sample_kinds import SAMPLE_KINDS
from kgen.presets.sample_kinds import sample_kind
from kgen.presets.sample_kinds import value_range_of
from kgen.presets.saving import add_backend_reference
from kgen.presets.saving import save_to_preset
from kgen.presets.serving_tree import export_serving_tree
from kgen.utils import preset_hooks  # noqa: E402
from kgen.utils.preset_error import PresetError

# The `from_preset` and `save_to_preset` of a model class, and a
# tokenizer's `from_preset`, call these: the models and tokenizers sit
# below this package and do not import it.
preset_hooks.register(
    from_preset=from_preset,
    save_to_preset=save_to_preset,
    load_tokenizer=load_tokenizer,
)

__all__ = [
    "ARCHITECTURES",
    "PRESET_PACKAGES",
    "SAMPLE_KINDS",
    "PresetError",
    "add_backend_reference",
    "apply_lora_adapter",
    "build_architecture",
    "check_preset",
    "download_preset",
    "export_serving_tree",
    "from_preset",
    "has_tokenizer",
    "list_architectures",
    "list_presets",
    "load_preset",
    "load_tokenizer",
    "package_of",
    "package_source",
    "prepare_data",
    "preset_metadata",
    "sample_kind",
    "save_lora_adapter",
    "save_to_preset",
    "shipped_presets",
    "value_range_of",
    "verify_preset",
]
