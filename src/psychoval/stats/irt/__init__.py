"""Item response theory (issue 20): marginal and conditional maximum likelihood for
dichotomous and polytomous items, person scores, information and item fit."""
