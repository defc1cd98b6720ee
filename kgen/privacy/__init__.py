"""Privacy audits of generative models: do samples copy training
examples, and can an attacker tell who was in the training set?

- `distance_to_closest_record`: samples' distances to the training set
  beside unseen real data's, near-copy counts, the DCR share.
- `membership_inference` with `nearest_neighbor_scores`
  (black box: samples only) and `likelihood_scores` (white box: the
  model's own per-example fit); `auroc`.
- `privacy_audit`: all of it for one model (`kgen audit privacy`).
"""

from kgen.privacy.distance_to_closest_record import distance_to_closest_record
from kgen.privacy.likelihood_scores import likelihood_scores
from kgen.privacy.likelihood_scores import likelihood_statistic
from kgen.privacy.membership_inference import auroc
from kgen.privacy.membership_inference import membership_inference
from kgen.privacy.membership_inference import nearest_neighbor_scores
from kgen.privacy.nearest_neighbors import nearest_neighbor_distances
from kgen.privacy.privacy_audit import privacy_audit

__all__ = [
    "auroc",
    "distance_to_closest_record",
    "likelihood_scores",
    "likelihood_statistic",
    "membership_inference",
    "nearest_neighbor_distances",
    "nearest_neighbor_scores",
    "privacy_audit",
]
