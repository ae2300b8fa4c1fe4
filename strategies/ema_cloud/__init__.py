"""PRD-136's EMA-cloud scalper: ``EmaCloudScalp`` (registry name ``ema_cloud``) and its config.

``strategies.ema_cloud.strategy`` holds the rules, the conviction formula and
the params in its module docstring; ``strategies.ema_cloud.config`` the
``EmaCloudConfig`` the params are generated from.
"""

from strategies.ema_cloud.config import EmaCloudConfig
from strategies.ema_cloud.strategy import EmaCloudScalp

__all__ = ["EmaCloudConfig", "EmaCloudScalp"]
