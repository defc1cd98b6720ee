"""Energy-based models: `p(x) = exp(-E(x)) / Z`, trained contrastively."""

from kgen.models.energy.energy_model import EnergyModel
from kgen.models.energy.joint_energy_model import JointEnergyModel
from kgen.models.energy.rbm import RBM

__all__ = ["EnergyModel", "JointEnergyModel", "RBM"]
