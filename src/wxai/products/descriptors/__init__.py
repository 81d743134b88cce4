"""Fields and images turned into physically meaningful descriptors, and into words (U6).

- :mod:`~wxai.products.descriptors.fields`: synthetic 10-m wind fields whose answers are
  known (direction, speed, variability, a stronger sector), for tests and training.
"""
