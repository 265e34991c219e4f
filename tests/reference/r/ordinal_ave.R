# semTools 0.5.6 references for AVE of ordered indicators: AVE(fit) with its defaults
# (obs.var = TRUE, dropSingle = TRUE). For a categorical fit semTools reads the sample
# polychoric correlations (lavInspect(fit, "sampstat")$cov) rescaled by getScales(fit)
# (1 in the delta parameterization), so AVE = sum(lambda^2) psi / number of indicators:
# the mean common variance of the latent responses. Also reliability-adjacent pieces used by
# the Fornell-Larcker criterion (cor.lv). Fits: bfi A1-A5, C1-C5 (2 factors, WLSMV,
# listwise) and ability's 16 items in 4 factors (0/1, WLSMV).
# Run from tests/reference:  Rscript r/ordinal_ave.R   -> ref_extra/ordinal_ave.json
suppressMessages(library(lavaan))
suppressMessages(library(semTools))
suppressMessages(library(jsonlite))
bfi <- utils::read.csv("data/bfi.csv")
ab <- utils::read.csv("data/ability.csv")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
m2 <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
m4 <- paste("reasoning =~ reason.4 + reason.16 + reason.17 + reason.19",
            "letters =~ letter.7 + letter.33 + letter.34 + letter.58",
            "matrix =~ matrix.45 + matrix.46 + matrix.47 + matrix.55",
            "rotate =~ rotate.3 + rotate.4 + rotate.6 + rotate.8", sep = "\n")
ab_items <- c("reason.4", "reason.16", "reason.17", "reason.19", "letter.7", "letter.33",
              "letter.34", "letter.58", "matrix.45", "matrix.46", "matrix.47", "matrix.55",
              "rotate.3", "rotate.4", "rotate.6", "rotate.8")
one <- function(id, call, model, dataset, fit) {
  cl <- lavInspect(fit, "cor.lv")
  list(id = id, call = call, model = model, dataset = dataset, values = list(
    nobs = lavInspect(fit, "nobs"),
    ave = as.list(unclass(AVE(fit))),
    ave_fitted = as.list(unclass(AVE(fit, obs.var = FALSE))),
    cor_lv = lapply(seq_len(nrow(cl)), function(i) as.list(setNames(cl[i, ], colnames(cl)))),
    cor_lv_names = colnames(cl)))
}
fb <- cfa(m2, data = bfi[, ac], ordered = TRUE, estimator = "WLSMV")
fa <- cfa(m4, data = ab[, ab_items], ordered = TRUE, estimator = "WLSMV")
checks <- list(
  one("bfi.AC.wlsmv.AVE", "AVE(cfa(m2, data = bfi[, ac], ordered = TRUE, estimator = 'WLSMV'))",
      m2, "bfi", fb),
  one("ability.4f.wlsmv.AVE",
      "AVE(cfa(m4, data = ab[, ab_items], ordered = TRUE, estimator = 'WLSMV'))",
      m4, "ability", fa))
out <- list(generated = as.character(Sys.Date()),
            software = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/ordinal_ave.json")
str(lapply(checks, function(x) x$values$ave))
