"""Training the energy-based prior by denoising score matching (``gncviewer train``).

Kept apart from ``core``: solving never needs the training code, and training pulls in the data
readers.  ``core.energy_prior`` defines the model and its files; this package only produces them.
"""

from .dsm import T_EPS, dsm_loss, sample_times
from .trainer import TrainConfig, Trainer, TrainResult, default_architecture

__all__ = ["T_EPS", "TrainConfig", "TrainResult", "Trainer", "default_architecture", "dsm_loss", "sample_times"]
