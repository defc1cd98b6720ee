"""Energy-based models: `p(x) = exp(-E(x)) / Z`, trained contrastively."""

from kgen.models.energy.energy_model import EnergyModel
from kgen.models.energy.rbm import RBM

__all__ = ["EnergyModel", "RBM"]
