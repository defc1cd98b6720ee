"""Low-rank adaptation (LoRA): fine-tune a model through `fit` by training
small adapters on chosen layers while the base stays frozen, then merge
them for serving or save them alone (`kgen.presets.save_lora_adapter`).

```python
model = kgen.presets.load_preset("ddpm_mnist")
kgen.lora.enable_lora(model, rank=8)  # query and value by default
model.compile(optimizer=keras.optimizers.Adam(1e-3))
model.fit(images, labels, epochs=1)
served = kgen.lora.merge_lora(model)
```
"""

from kgen.lora.adaptation import adapter_shapes
from kgen.lora.adaptation import base_weights_sha256
from kgen.lora.adaptation import check_base_unchanged
from kgen.lora.adaptation import enable_lora
from kgen.lora.adaptation import follower_layers
from kgen.lora.adaptation import is_adapter
from kgen.lora.adaptation import layer_paths
from kgen.lora.adaptation import lora_layers
from kgen.lora.adaptation import lora_settings
from kgen.lora.adaptation import lora_weights
from kgen.lora.adaptation import set_lora_weights
from kgen.lora.merging import merge_lora

__all__ = [
    "adapter_shapes",
    "base_weights_sha256",
    "check_base_unchanged",
    "enable_lora",
    "follower_layers",
    "is_adapter",
    "layer_paths",
    "lora_layers",
    "lora_settings",
    "lora_weights",
    "merge_lora",
    "set_lora_weights",
]
