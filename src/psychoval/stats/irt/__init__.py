"""Item response theory (issue 20): marginal and conditional maximum likelihood for
dichotomous and polytomous items, person scores, information and item fit."""

from psychoval.stats.irt._irt import IRTResult, irt

__all__ = ["irt", "IRTResult"]
