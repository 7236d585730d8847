"""Research code: an experiment's hypotheses, rule, scoring and write-up, beside the results it
speaks for. It imports companion/ (the book's rows, the records), never the other way round."""
