# R references for pv.describe (issue 23): psych::describe (psych 2.2.9) on psychTools' bfi
# (28 columns, with missing values) and on the packaged sample's numeric items (with missing
# values). Run from tests/reference/:  Rscript r/describe.R  ->  ref_extra/describe.json
suppressPackageStartupMessages({ library(psych); library(jsonlite) })
bfi <- utils::read.csv("data/bfi.csv")
sample <- utils::read.csv("../../src/psychoval/datasets/data/responses.csv")
sample_num <- sample[, vapply(sample, is.numeric, logical(1))]

checks <- list()
add <- function(id, call, options, values) {
  checks[[length(checks) + 1]] <<- list(id = id, call = call, options = options, values = values)
}
tab <- function(d) {  # one list per column of describe's data frame, by row name
  d <- as.data.frame(d)
  out <- list()
  for (col in names(d)) out[[col]] <- setNames(as.list(as.numeric(d[[col]])), rownames(d))
  out
}
run <- function(id, data_name, expr, options) {
  call <- sprintf("psych::describe(%s%s)", data_name, expr)
  d <- eval(parse(text = call))
  add(id, call, options, tab(d))
}
run("bfi.describe", "bfi", "", list(trim = 0.1, type = 3))
run("bfi.describe.trim2", "bfi", ", trim = .2", list(trim = 0.2, type = 3))
bfi_cc <- na.omit(bfi[, 1:25])
run("bfi_complete.describe.type1", "bfi_cc", ", type = 1", list(trim = 0.1, type = 1))
run("bfi_complete.describe.type2", "bfi_cc", ", type = 2", list(trim = 0.1, type = 2))
# type 1 on data with missing values: psych's kurtosi(type = 1) on a matrix divides by
# length(x[, i]) counting the missing cells (listed in the test's XFAIL table)
run("bfi.describe.type1", "bfi[, 1:5]", ", type = 1", list(trim = 0.1, type = 1))
run("sample.describe", "sample_num", "", list(trim = 0.1, type = 3))
run("bfi_small.describe", "bfi[1:7, c('A1', 'A2', 'age')]", "", list(trim = 0.1, type = 3, rows = 7))

out <- list(meta = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                        script = "r/describe.R"),
            checks = checks)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
           "ref_extra/describe.json")
