# psychotools / eRm conditional-ML references for pv.irt(method = "CML") (issue 20).
# Run from tests/reference:  Rscript r/irt.R   -> ref_extra/irt.json (+ the data it used,
# ref_extra/irt_concepts.csv, irt_prompting.csv, irt_ability.csv)
# Debian packages r-cran-psychotools and r-cran-erm. Conditional ML needs no quadrature.
# 1. The sample's multiple-choice competency "concepts" (CON1-CON5 scored with the answer
#    key A, D, C, B, C; blanks missing; rows with at least 4 items answered): psychotools::raschmodel and eRm::RM.
# 2. The sample's Likert competency "prompting" (PRM1-PRM5, 1-5 recoded 0-4, blanks
#    missing): psychotools::pcmodel and eRm::PCM.
# 3. psych's ability items (16 x 0/1, with NA; rows with at least 4 answered): raschmodel
#    and RM.
# Item parameters are psychotools' defaults: itempar() / threshpar() normalised to sum zero
# over all (threshold) parameters, with vcov() of that normalisation; logLik is the
# conditional log-likelihood (persons with a minimum or maximum raw score contribute 0).
suppressPackageStartupMessages({ library(psychotools); library(eRm); library(jsonlite) })

resp <- utils::read.csv("../../data/sample/responses_clean.csv", na.strings = "",
                        stringsAsFactors = FALSE)
key <- c(CON1 = "A", CON2 = "D", CON3 = "C", CON4 = "B", CON5 = "C")
concepts <- as.data.frame(lapply(names(key), function(i)
  ifelse(is.na(resp[[i]]), NA_integer_, as.integer(resp[[i]] == key[[i]]))))
names(concepts) <- names(key)
prompting <- resp[, paste0("PRM", 1:5)] - 1L
# psychotools' Hessian takes out two items of every missing-data pattern
# (elementary_symmetric_functions stops on fewer than two left): keep the rows with at
# least 4 of the 5 items answered; pv.irt is tested on the same rows (the CSVs below)
concepts <- concepts[rowSums(!is.na(concepts)) >= 4, ]
prompting <- prompting[rowSums(!is.na(prompting)) >= 4, ]
utils::write.csv(concepts, "ref_extra/irt_concepts.csv", row.names = FALSE, na = "")
utils::write.csv(prompting, "ref_extra/irt_prompting.csv", row.names = FALSE, na = "")
ability <- utils::read.csv("data/ability.csv", check.names = FALSE)
ability <- ability[rowSums(!is.na(ability)) >= 4, ]  # psychotools segfaults on fewer
utils::write.csv(ability, "ref_extra/irt_ability.csv", row.names = FALSE, na = "")

checks <- list()
rasch_check <- function(d, id) {
  m <- raschmodel(as.matrix(d), reltol = 1e-12)
  ip <- itempar(m)
  e <- RM(as.matrix(d))
  list(
    list(id = paste0(id, ".raschmodel"), call = "raschmodel(y, reltol = 1e-12); itempar()",
         values = list(loglik = as.numeric(logLik(m)), df = attr(logLik(m), "df"),
                       items = names(d), b = unname(coef(ip)),
                       b_se = unname(sqrt(diag(vcov(ip)))),
                       coef = unname(coef(m)), coef_se = unname(sqrt(diag(vcov(m)))))),
    list(id = paste0(id, ".eRm_RM"), call = "eRm::RM(y); -betapar (sum zero)",
         values = list(loglik = as.numeric(e$loglik), b = unname(-e$betapar),
                       b_se = unname(e$se.beta))))
}
pcm_check <- function(d, id) {
  m <- pcmodel(as.matrix(d), reltol = 1e-12)
  tp <- threshpar(m)
  e <- PCM(as.matrix(d))
  list(
    list(id = paste0(id, ".pcmodel"), call = "pcmodel(y, reltol = 1e-12); threshpar()",
         values = list(loglik = as.numeric(logLik(m)), df = attr(logLik(m), "df"),
                       items = names(d), thresholds = unname(unlist(coef(tp))),
                       thresholds_se = unname(sqrt(diag(vcov(tp)))),
                       coef = unname(coef(m)), coef_se = unname(sqrt(diag(vcov(m)))))),
    list(id = paste0(id, ".eRm_PCM"), call = "eRm::PCM(y)",
         values = list(loglik = as.numeric(e$loglik))))
}
checks <- c(checks, rasch_check(concepts, "sample.concepts"),
            pcm_check(prompting, "sample.prompting"),
            rasch_check(ability, "ability"))

out <- list(dataset = "sample (concepts, prompting), ability", generated = as.character(Sys.Date()),
            software = list(R = R.version.string,
                            psychotools = as.character(packageVersion("psychotools")),
                            eRm = as.character(packageVersion("eRm"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/irt.json")
