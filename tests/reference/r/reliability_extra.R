# Extra R references for the reliability suite (issue 5).
# Run from tests/reference/:  Rscript r/reliability_extra.R  -> ref_extra/reliability_extra.json
# Same schema as the shared reference files (README-shared.md), several data sets in one file:
# each check names its data file in options$data.
suppressPackageStartupMessages({ library(psych); library(jsonlite) })
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
bfi <- utils::read.csv("data/bfi.csv")
ab <- utils::read.csv("data/ability.csv")
checks <- list()
add <- function(id, call, options, values) {
  checks[[length(checks) + 1]] <<- list(id = id, analysis = sub("\\(.*", "", call), call = call,
                                        options = options, values = values)
}
# 1. Feldt intervals at confidence levels other than .95 (psych::alpha.ci, p.val = 1 - level)
sets <- list(
  list(id = "hs.visual", data = "HolzingerSwineford1939", x = hs[, c("x1", "x2", "x3")], keys = NULL),
  list(id = "bfi.agree", data = "bfi", x = bfi[, c("A1", "A2", "A3", "A4", "A5")], keys = "A1"),
  list(id = "ability.ICAR16", data = "ability", x = ab[, 1:16], keys = NULL))
for (s in sets) {
  a <- if (is.null(s$keys)) psych::alpha(s$x) else psych::alpha(s$x, keys = s$keys)
  for (lev in c(0.80, 0.90, 0.99)) {
    ci <- psych::alpha.ci(a$total$raw_alpha, nrow(s$x), ncol(s$x), p.val = 1 - lev)
    add(sprintf("alpha.ci.%s.%g", s$id, lev),
        sprintf("psych::alpha.ci(psych::alpha(x%s)$total$raw_alpha, n.obs = nrow(x), n.var = ncol(x), p.val = %g)",
                if (is.null(s$keys)) "" else sprintf(", keys = \"%s\"", s$keys), 1 - lev),
        list(data = s$data, items = colnames(s$x), reverse_keyed = s$keys, confidence_level = lev),
        list(raw_alpha = a$total$raw_alpha, lower = ci$lower.ci, upper = ci$upper.ci,
             ase = a$total$ase))
  }
}
# 2. scoreItems without imputation (psychoval's default impute = "none")
keys <- list(agree = c("-A1", "A2", "A3", "A4", "A5"), conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
             extraversion = c("-E1", "-E2", "E3", "E4", "E5"), neuroticism = c("N1", "N2", "N3", "N4", "N5"),
             openness = c("O1", "-O2", "O3", "O4", "-O5"))
sc <- psych::scoreItems(keys, bfi[, 1:25], impute = "none")
add("scoreItems.bfi.none", "psych::scoreItems(keys, bfi[, 1:25], impute = \"none\")",
    list(data = "bfi", keys = keys, impute = "none"),
    list(alpha = as.list(sc$alpha[1, ]), G6 = as.list(sc$G6[1, ]), av.r = as.list(sc$av.r[1, ]),
         sn = as.list(sc$sn[1, ]), cor = lapply(as.data.frame(sc$cor), function(v) setNames(as.list(v), colnames(sc$cor))),
         score_means = as.list(colMeans(sc$scores, na.rm = TRUE)),
         score_sds = as.list(apply(sc$scores, 2, sd, na.rm = TRUE)),
         scores_first5 = lapply(1:5, function(i) as.list(sc$scores[i, ]))))
# 3. split halves of an even item set with exhaustive enumeration (psych = exact for even k)
sh <- psych::splitHalf(bfi[, c("C1", "C2", "C3", "C4", "C5", "E3")], key = c(1, 1, 1, -1, -1, 1))
add("splitHalf.bfi.C5E3", "psych::splitHalf(bfi[, c(\"C1\",\"C2\",\"C3\",\"C4\",\"C5\",\"E3\")], key = c(1, 1, 1, -1, -1, 1))",
    list(data = "bfi", items = c("C1", "C2", "C3", "C4", "C5", "E3"), reverse_keyed = c("C4", "C5")),
    list(maxrb = sh$maxrb, minrb = sh$minrb, meanr = sh$meanr, alpha = sh$alpha,
         lambda2 = sh$lambda2, lambda6 = sh$lambda6))
out <- list(dataset = "reliability_extra",
            description = "Extra psych references for issue 5: Feldt intervals at other confidence levels, scoreItems(impute='none'), an even-k splitHalf",
            software = list(R = R.version.string, packages = list(psych = as.character(packageVersion("psych")))),
            setup = "see r/reliability_extra.R", generated = as.character(Sys.Date()),
            n_checks = length(checks), checks = checks)
# full precision: every number written with sprintf("%.17g") (jsonlite stops at 15 digits)
full <- function(v) {
  if (is.list(v)) return(lapply(v, full))
  if (is.numeric(v) && length(v) == 1 && !is.na(v)) return(structure(sprintf("%.17g", v), class = "json"))
  v
}
writeLines(jsonlite::toJSON(full(out), auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null", pretty = TRUE),
           "ref_extra/reliability_extra.json")
