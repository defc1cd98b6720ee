"""Evaluation: FID, KID, Inception Score, precision/recall, likelihoods,
prompt following, MOSES' molecule metrics (`kgen.metrics.molecules`),
EDM's measures of molecules in 3-D (`kgen.metrics.molecules_3d`,
`PropertyRegressor`),
peptide metrics (`kgen.metrics.peptides`) and clip metrics
(`kgen.metrics.video`)."""

from kgen.metrics import molecules
from kgen.metrics import molecules_3d
from kgen.metrics import peptides
from kgen.metrics import video
from kgen.metrics.chemnet_features import chemnet
from kgen.metrics.chemnet_features import chemnet_inputs
from kgen.metrics.chemnet_features import chemnet_weights_file
from kgen.metrics.class_conditional_scores import fid_and_label_accuracy
from kgen.metrics.class_conditional_scores import fid_of_images
from kgen.metrics.class_conditional_scores import predicted_labels
from kgen.metrics.feature_metric import FeatureMetric
from kgen.metrics.fid_inception import fid_inception_v3
from kgen.metrics.fid_inception import find_weights
from kgen.metrics.frechet_distance import frechet_distance
from kgen.metrics.frechet_inception_distance import FrechetInceptionDistance
from kgen.metrics.inception_score import InceptionScore
from kgen.metrics.inception_score import inception_score
from kgen.metrics.iwae_log_likelihood import iwae_log_likelihood
from kgen.metrics.kernel_distance import polynomial_mmd
from kgen.metrics.kernel_inception_distance import KernelInceptionDistance
from kgen.metrics.likelihood import bits_per_dim
from kgen.metrics.likelihood import iwae_bound
from kgen.metrics.likelihood import nats_per_sample
from kgen.metrics.likelihood import negative_elbo
from kgen.metrics.likelihood import negative_log_likelihood
from kgen.metrics.mode_coverage import mode_coverage
from kgen.metrics.molecules_3d import molecules_3d_metrics
from kgen.metrics.molecules_3d import molecules_from_arrays
from kgen.metrics.precision_recall import PrecisionRecall
from kgen.metrics.prompt_following import attribute_medians
from kgen.metrics.prompt_following import prompt_following
from kgen.metrics.prompt_following import prompt_following_scores
from kgen.metrics.property_regressor import PropertyRegressor
from kgen.metrics.score_model import SAMPLE_METRICS
from kgen.metrics.score_model import score_model

__all__ = [
    "chemnet",
    "chemnet_inputs",
    "chemnet_weights_file",
    "FeatureMetric",
    "FrechetInceptionDistance",
    "InceptionScore",
    "KernelInceptionDistance",
    "PrecisionRecall",
    "PropertyRegressor",
    "SAMPLE_METRICS",
    "attribute_medians",
    "bits_per_dim",
    "fid_and_label_accuracy",
    "fid_inception_v3",
    "fid_of_images",
    "find_weights",
    "frechet_distance",
    "inception_score",
    "iwae_bound",
    "iwae_log_likelihood",
    "mode_coverage",
    "molecules",
    "molecules_3d",
    "molecules_3d_metrics",
    "molecules_from_arrays",
    "nats_per_sample",
    "peptides",
    "video",
    "negative_elbo",
    "negative_log_likelihood",
    "polynomial_mmd",
    "predicted_labels",
    "prompt_following",
    "prompt_following_scores",
    "score_model",
]
