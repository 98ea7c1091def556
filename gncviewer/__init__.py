"""gncviewer: a desktop explorer for score-based graduated optimisation.

The version lives here and nowhere else; packaging reads it from this module.
"""

__version__ = "0.1.0"
