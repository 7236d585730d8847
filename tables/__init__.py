"""The table runner's machinery, used by reproduce.py and the results index, never by a listing:

- processes      the runner's lock and the rows' child processes on Linux, macOS and Windows
- book_tables    the book's rows as data (book_tables.csv), each row's script and flags under a
                 protocol (the protocol experiment's hypotheses are read from its home,
                 results/investigations/protocols/hypotheses.json), where the runs go
- tables_report  results/TABLES.md and its figure, from the runs' records
- results_index  results/README.md: every committed run, and the listings beside the book
"""
