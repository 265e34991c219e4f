# The peers at scale (issue 22): psych::alpha on n x 20 and lavaan::cfa (one factor, 5 items)
# on n rows of simulated normal items, one run per size in a fresh Rscript process, peak RSS by
# /usr/bin/time:
#   for n in 1e6 1e7; do for w in alpha cfa; do /usr/bin/time -f "%M KB %e s" \
#     Rscript benchmarks/peer_scale.R $n $w; done; done
# Results of 2026-12-07 (psych 2.2.9, lavaan 0.6.14): benchmarks/results/peer_scale.json.
args <- commandArgs(TRUE)
n <- as.numeric(args[1]); what <- args[2]
suppressMessages({library(psych); library(lavaan)})
set.seed(1)
k <- 20
f <- rnorm(n)
x <- as.data.frame(sapply(1:k, function(j) 0.7 * f + rnorm(n)))
names(x) <- paste0("i", 1:k)
t0 <- proc.time()[["elapsed"]]
if (what == "alpha") {
  a <- psych::alpha(x, check.keys = FALSE)
} else {
  m <- paste("F =~", paste(names(x)[1:5], collapse = " + "))
  fit <- lavaan::cfa(m, data = x[, 1:5])
}
cat(what, n, proc.time()[["elapsed"]] - t0, "\n")
