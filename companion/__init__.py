"""Shared plumbing for the Chapter 1 scripts: command line, MNIST loading, results.

The scripts at the top of the repository hold the book's listings; this package holds what
every script needs and the book leaves out (offline data, flag checking, result records), so
that no script repeats another.
"""
import os

# TensorFlow prints several lines of C++ start-up chatter on import; keep the reader's terminal
# for the progress bars. A reader who wants the chatter back sets TF_CPP_MIN_LOG_LEVEL=0.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
