"""Detection metrics (scores are the probability of *fake*; label 1 = fake)."""
from dfdetect.metrics.binary import binary_metrics, eer, roc_points, tpr_at_fpr

__all__ = ["binary_metrics", "eer", "roc_points", "tpr_at_fpr"]
