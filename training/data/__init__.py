"""Training data readers (RHD, FreiHAND, our written layout, real pseudo-labelled photos).

Every reader returns the sample dict described in ``training/data/sample.py`` (RHD order).
"""
