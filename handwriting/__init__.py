"""A person's picture of a digit, photographed or scanned, made into an MNIST digit
(digits.py), for predict_digit.py."""
