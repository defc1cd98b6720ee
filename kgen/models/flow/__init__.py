"""Normalizing flows: exact likelihood, exact sampling."""

from kgen.models.flow.flow_model import FlowModel
from kgen.models.flow.glow import Glow
from kgen.models.flow.maf import MAF
from kgen.models.flow.neural_spline_flow import NeuralSplineFlow
from kgen.models.flow.real_nvp import RealNVP

__all__ = ["FlowModel", "Glow", "MAF", "NeuralSplineFlow", "RealNVP"]
